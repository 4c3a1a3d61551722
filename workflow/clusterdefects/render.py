"""Rendered isomer pictures (POV-Ray through ASE, a matplotlib fallback) and the gallery of a composition.

Each picture shows the metal-S framework opaque with bonds, the ligands (C, H) faded, the metal atoms
coloured by site class with a legend, the dopant and the empty site marked; a second panel shows the
metal core alone. All pictures of a study look down one axis of the parent (``view_axis``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.data import covalent_radii  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

ROLE_COLORS = {"centre": (0.85, 0.1, 0.1), "icosahedral": (0.25, 0.45, 0.9), "crown": (0.2, 0.7, 0.3),
               "tetrahedral": (1.0, 0.6, 0.0), "kernel": (0.25, 0.45, 0.9)}
OTHER_METAL = (0.75, 0.75, 0.75)
DOPANT = (0.85, 0.0, 0.85)
VACANCY = (0.1, 0.1, 0.1)
ELEMENT_COLORS = {"S": (0.95, 0.85, 0.1), "C": (0.45, 0.45, 0.45), "H": (0.95, 0.95, 0.95), "P": (1.0, 0.5, 0.0)}
LIGAND = ("C", "H", "N", "O", "P")
LIGAND_TRANSMIT = 0.8


def povray_available() -> bool:
    return shutil.which("povray") is not None


def isomer_roles(atoms: Atoms, parent_roles: dict[int, str]) -> list[str]:
    """Site role of each atom of an isomer (the parent's indices; a vacancy isomer lacks one atom)."""
    removed = atoms.info.get("vacancy_index")
    index = [i if removed is None or i < int(removed) else i + 1 for i in range(len(atoms))]
    return [parent_roles.get(i, "") for i in index]


def view_axis(parent: Atoms, parent_roles: dict[int, str]) -> np.ndarray:
    """A high-symmetry axis of the parent: from the metal centroid to an atom of its smallest site class
    other than the centre (for T-symmetric Ag29, a tetrahedral Ag: a 3-fold axis)."""
    counts = pd.Series(parent_roles).value_counts()
    counts = counts[counts.index != "centre"]
    if counts.empty:
        return np.array([1.0, 1.0, 1.0])
    role = counts.sort_values(kind="stable").index[0]
    atom = min(i for i, r in parent_roles.items() if r == role)
    metals = [i for i in parent_roles]
    axis = parent.positions[atom] - parent.positions[metals].mean(axis=0)
    return axis / np.linalg.norm(axis)


def view_rotation(axis: np.ndarray, up: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """3x3 matrix for ASE's ``rotation=``: ``axis`` points at the viewer."""
    z = np.array(axis, dtype=float) / np.linalg.norm(axis)
    u = np.array(up, dtype=float)
    if np.linalg.norm(np.cross(u, z)) < 1e-6:
        u = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(u, z)
    x /= np.linalg.norm(x)
    return np.column_stack([x, np.cross(z, x), z])


def styled(atoms: Atoms, roles: list[str], dopant: int | None, vacancy: np.ndarray | None, core_only: bool
           ) -> tuple[Atoms, list, list[float], list[float]]:
    """The atoms to draw with their colours, radii (Å) and transmittances."""
    keep = [i for i, a in enumerate(atoms) if not core_only or (a.symbol not in LIGAND and a.symbol != "S")]
    shown = atoms[keep]
    shown.cell, shown.pbc = None, False
    colors, radii, transmit = [], [], []
    for i in keep:
        symbol = atoms[i].symbol
        if i == dopant:
            color = DOPANT
        elif symbol in ELEMENT_COLORS:
            color = ELEMENT_COLORS[symbol]
        else:
            color = ROLE_COLORS.get(roles[i], OTHER_METAL)
        colors.append(color)
        radii.append(0.45 * covalent_radii[atoms[i].number] * (1.3 if i == dopant else 1.0))
        transmit.append(LIGAND_TRANSMIT if symbol in LIGAND else 0.0)
    if vacancy is not None:
        shown += Atoms("X", positions=[vacancy])
        colors.append(VACANCY)
        radii.append(0.9)
        transmit.append(0.45)
    return shown, colors, radii, transmit


def povray_image(atoms: Atoms, colors: list, radii: list[float], transmit: list[float], rotation: np.ndarray,
                 width: int = 560) -> np.ndarray:
    """Render with POV-Ray (bonds from ASE's covalent criterion); returns the image as an array."""
    from ase.io import write
    from ase.io.pov import get_bondpairs

    real = Atoms([a for a in atoms if a.symbol != "X"])
    bonds = [b for b in get_bondpairs(real, radius=1.1) if not any(b[2])]
    with tempfile.TemporaryDirectory() as tmp:
        pov = Path(tmp) / "scene.pov"
        write(pov, atoms, rotation=rotation, radii=radii, colors=colors, show_unit_cell=0,
              povray_settings=dict(canvas_width=width, transparent=False, background="White",
                                   bondatoms=bonds, bondlinewidth=0.10, transmittances=transmit,
                                   textures=["ase3"] * len(atoms)))
        subprocess.run(["povray", pov.with_suffix(".ini").name, "-D"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return plt.imread(pov.with_suffix(".png"))


def matplotlib_image(ax: plt.Axes, atoms: Atoms, colors: list, radii: list[float], rotation: np.ndarray) -> None:
    from ase.utils import irotate
    from ase.visualize.plot import plot_atoms

    plot_atoms(atoms, ax, radii=radii, colors=colors, rotation=irotate(rotation))


def draw_panel(ax: plt.Axes, atoms: Atoms, colors: list, radii: list[float], transmit: list[float],
               rotation: np.ndarray, renderer: str) -> None:
    if renderer == "povray":
        ax.imshow(povray_image(atoms, colors, radii, transmit, rotation))
    else:
        matplotlib_image(ax, atoms, colors, radii, rotation)
    ax.set_axis_off()


def legend_handles(roles: list[str], dopant: int | None, vacancy: np.ndarray | None, atoms: Atoms) -> list[Patch]:
    present = [r for r in ROLE_COLORS if r in set(roles)]
    handles = [Patch(color=ROLE_COLORS[r], label=f"{r} Ag") for r in present]
    if dopant is not None:
        handles.append(Patch(color=DOPANT, label=f"dopant {atoms[dopant].symbol}"))
    if vacancy is not None:
        handles.append(Patch(color=VACANCY, alpha=0.55, label="empty site"))
    return handles + [Patch(color=ELEMENT_COLORS["S"], label="S")]


def isomer_figure(atoms: Atoms, roles: list[str], path: Path, title: str, axis: np.ndarray,
                  dopant: int | None = None, vacancy: np.ndarray | None = None) -> tuple[Path, str, float]:
    """Two panels (whole cluster with ligands faded; metal core) and a legend. Returns (path, renderer, s)."""
    from .figures import _save

    renderer = "povray" if povray_available() else "matplotlib"
    t0 = time.perf_counter()
    rotation = view_rotation(axis)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.8))
    for ax, core in zip(axes, (False, True)):
        draw_panel(ax, *styled(atoms, roles, dopant, vacancy, core), rotation, renderer)
    axes[0].set_title("metal-S framework (ligands faded)", fontsize=9)
    axes[1].set_title("metal core", fontsize=9)
    fig.legend(handles=legend_handles(roles, dopant, vacancy, atoms), loc="lower center", ncol=6, fontsize=8,
               frameon=False)
    caption = ("rendered with POV-Ray" if renderer == "povray"
               else "matplotlib fallback (povray not installed: bash scripts/setup.sh installs it)")
    fig.suptitle(f"{title}\nview along a 3-fold axis of the parent; {caption}", fontsize=9)
    fig.subplots_adjust(bottom=0.1, top=0.86, wspace=0.02)
    _save(fig, path)
    return path, renderer, time.perf_counter() - t0


def gallery(rows: dict[str, list[tuple[Atoms, list[str], str, float, int | None, np.ndarray | None]]], path: Path,
            title: str, axis: np.ndarray) -> Path:
    """One row per composition: its isomers (atoms, roles, label, relative energy eV, dopant, empty site) in
    the order of energy, each labelled with its site and relative energy (the figure a paper prints)."""
    from .figures import _save

    renderer = "povray" if povray_available() else "matplotlib"
    ncols = max(len(v) for v in rows.values())
    fig, axes = plt.subplots(len(rows), ncols, figsize=(2.8 * ncols, 3.1 * len(rows)), squeeze=False)
    rotation = view_rotation(axis)
    for row_axes, (composition, isomers) in zip(axes, rows.items()):
        for ax in row_axes:
            ax.set_axis_off()
        for ax, (atoms, roles, label, energy, dopant, vacancy) in zip(row_axes, sorted(isomers, key=lambda x: x[3])):
            draw_panel(ax, *styled(atoms, roles, dopant, vacancy, False), rotation, renderer)
            ax.set_title(f"{composition}: {label}\n{energy:+.2f} eV", fontsize=9)
    caption = "POV-Ray" if renderer == "povray" else "matplotlib fallback (no povray)"
    fig.suptitle(f"{title}: isomers by relative energy, view along a 3-fold axis of the parent ({caption})", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
