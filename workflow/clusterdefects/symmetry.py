"""The chiral tetrahedral point group T as explicit rotation matrices, and orbits under it."""

from __future__ import annotations

import numpy as np

_CYCLE = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)  # (x, y, z) -> (y, z, x)
_SIGNS = ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1))

#: The 12 rotations of T: diag(signs) @ CYCLE**k, index = 4 * k + sign index; T_OPS[0] is E.
T_OPS: np.ndarray = np.array(
    [np.diag(s) @ np.linalg.matrix_power(_CYCLE, k) for k in range(3) for s in _SIGNS]
)

#: The four "A" three-fold axes (1,1,1) and its even-sign partners; "B" axes are their negatives.
A_AXES: np.ndarray = np.array(_SIGNS, dtype=float) / np.sqrt(3.0)
B_AXES: np.ndarray = -A_AXES


def compose(i: int, j: int) -> int:
    """Index of T_OPS[i] @ T_OPS[j]."""
    product = T_OPS[i] @ T_OPS[j]
    return int(np.argmin(np.abs(T_OPS - product).sum(axis=(1, 2))))


#: COMPOSE[i, j] = index of T_OPS[i] @ T_OPS[j].
COMPOSE: np.ndarray = np.array([[compose(i, j) for j in range(12)] for i in range(12)])


def orbit_images(position: np.ndarray) -> np.ndarray:
    """The 12 images g @ position (with repeats for special positions), shape (12, 3)."""
    return np.einsum("gij,j->gi", T_OPS, np.asarray(position, dtype=float))


def unique_image_map(images: np.ndarray, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Collapse repeated images: returns (distinct positions, op index -> distinct index)."""
    distinct: list[np.ndarray] = []
    mapping = np.empty(len(images), dtype=int)
    for g, x in enumerate(images):
        for k, y in enumerate(distinct):
            if np.linalg.norm(x - y) < tol:
                mapping[g] = k
                break
        else:
            mapping[g] = len(distinct)
            distinct.append(x)
    return np.array(distinct), mapping
