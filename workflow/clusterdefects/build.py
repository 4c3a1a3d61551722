"""Build an idealised [Ag29(BDT)12(TPP)4]3- model with exact point group T.

No public copy of the crystal coordinates exists, so the model is made from its connectivity
(AbdulHalim et al., JACS 2015): a centred Ag13 icosahedron whose 3-fold axes are the cube body
diagonals; over each of the four "A" faces an Ag3S3 crown (ring S bonds two crown Ag); three outer
S per crown, each bonded to one shell Ag, the crown Ag above it and a tetrahedral Ag; four
tetrahedral Ag on the "B" axes, each bonded to three outer S and the P of a PPh3.  Each BDT
(1,3-benzenedithiolate) joins a ring S to an outer S of a neighbouring crown.

Only the asymmetric unit is fitted (shell Ag, crown Ag, ring S, outer S, tetrahedral radius and
the rotation of a rigid BDT about its S...S axis: 14 parameters) by least squares on bond-length
windows and non-bonded minimum distances, from several seeded random starts; the 12 rotations of
T make the rest, so the symmetry is exact by construction.  PPh3 propellers are placed last by a
scan of two angles that maximises the closest non-bonded contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from scipy.optimize import least_squares

from . import __version__
from .symmetry import A_AXES, B_AXES, COMPOSE, T_OPS, orbit_images, unique_image_map

GOLDEN = (1.0 + np.sqrt(5.0)) / 2.0

# Rigid ligand geometry (Å): aromatic C-C, C-H, C-S and P-C bond lengths.
CC, CH, CS, PC, AGP = 1.39, 1.08, 1.77, 1.83, 2.42
#: Angle between a P-C bond and the outward P axis that gives C-P-C = 103 degrees.
P_C_AXIS_ANGLE = np.arccos(np.sqrt((1.0 + 2.0 * np.cos(np.radians(103.0))) / 3.0))

#: Bond windows (low, target, high) in Å for the fit, from Ag thiolate crystal structures.
BOND_WINDOWS: dict[str, tuple[float, float, float]] = {
    "Ag(centre)-Ag(icosahedral)": (2.80, 2.86, 2.92),
    "Ag(icosahedral)-Ag(icosahedral)": (2.85, 3.00, 3.15),
    "Ag(icosahedral)-S": (2.48, 2.54, 2.60),
    "Ag(crown)-S": (2.46, 2.52, 2.58),
    "Ag(tetrahedral)-S": (2.64, 2.71, 2.76),
    # Contacts, not bonds: argentophilic contact of a crown Ag with the shell Ag below it (not a bond; shapes the crown).
    "Ag(crown)...Ag(icosahedral)": (3.30, 3.45, 3.60),
    # The tetrahedral Ag caps a B face of the icosahedron at a distance, through its three S.
    "Ag(tetrahedral)...Ag(icosahedral)": (3.85, 4.0, 4.15),
}

#: Minimum non-bonded distances (Å) by element pair.
NONBONDED_MIN: dict[frozenset[str], float] = {
    frozenset(["Ag"]): 3.0,
    frozenset(["Ag", "S"]): 3.1,
    frozenset(["S"]): 3.3,
    frozenset(["Ag", "C"]): 3.0,
    frozenset(["Ag", "H"]): 2.7,
    frozenset(["S", "C"]): 3.1,
    frozenset(["S", "H"]): 2.7,
    frozenset(["C"]): 3.2,
    frozenset(["C", "H"]): 2.7,
    frozenset(["H"]): 2.1,
    frozenset(["P", "Ag"]): 3.0,
    frozenset(["P", "S"]): 3.2,
    frozenset(["P", "C"]): 3.0,
    frozenset(["P", "H"]): 2.7,
    frozenset(["P"]): 3.5,
}

#: Weight of the BDT atoms' smooth repulsion from non-bonded neighbours (fixes the ring's rotation).
LIGAND_REPULSION = 0.01
#: Relative tolerance every fit is converged to, and costs that tie within it.
FIT_TOLERANCE = 1e-12
COST_TIE = 1e-6

# Connectivity of the asymmetric unit as (label, op index) pairs: the bond joins atom
# T_OPS[op_a] @ label_a to T_OPS[op_b] @ label_b; every other bond is an image under T.
_CROWN_NEIGHBOUR_OP = 4  # ring S(E) bridges crown(E) and crown(4): the next Ag of the same ring
_OUTER_S_CROWN_OP = 8  # outer S(E) binds crown(8), the crown Ag sitting above shell(E)
_BDT_RING_S_OP = 7  # BDT(E) joins outer S(E) to ring S(7), a neighbouring crown
_TETRA_AXIS = B_AXES[1]  # (-1, 1, 1): the B face that holds shell(E)

_ASYM_BONDS: list[tuple[str, int, str, int, str]] = [
    ("centre", 0, "shell", 0, "Ag(centre)-Ag(icosahedral)"),
    ("crown", 0, "ring_S", 0, "Ag(crown)-S"),
    ("crown", _CROWN_NEIGHBOUR_OP, "ring_S", 0, "Ag(crown)-S"),
    ("shell", 0, "outer_S", 0, "Ag(icosahedral)-S"),
    ("crown", _OUTER_S_CROWN_OP, "outer_S", 0, "Ag(crown)-S"),
    ("tetra", 0, "outer_S", 0, "Ag(tetrahedral)-S"),
    ("crown", _OUTER_S_CROWN_OP, "shell", 0, "Ag(crown)...Ag(icosahedral)"),
    ("tetra", 0, "shell", 0, "Ag(tetrahedral)...Ag(icosahedral)"),
]

# Benzene-ring frame of 1,3-benzenedithiolate: ring C at 60 degree steps, S on C0 and C2.
_RING_ANGLES = np.radians(60.0 * np.arange(6))
_BDT_LOCAL = {
    "C": np.c_[CC * np.cos(_RING_ANGLES), CC * np.sin(_RING_ANGLES), np.zeros(6)],
    "H": np.array([[(CC + CH) * np.cos(a), (CC + CH) * np.sin(a), 0.0] for a in _RING_ANGLES[[1, 3, 4, 5]]]),
    "S": np.array([[(CC + CS) * np.cos(a), (CC + CS) * np.sin(a), 0.0] for a in _RING_ANGLES[[0, 2]]]),
}
BDT_S_S = float(np.linalg.norm(_BDT_LOCAL["S"][0] - _BDT_LOCAL["S"][1]))


@dataclass
class Ag29Model:
    """The fitted model: atoms (with a per-atom ``label`` array) and fit diagnostics."""

    atoms: Atoms
    cost: float
    seed: int
    n_starts: int
    bond_lengths: dict[str, np.ndarray] = field(default_factory=dict)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _perpendicular_frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors completing a right-handed frame with ``axis``."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = _unit(np.cross(axis, helper))
    return e1, np.cross(axis, e1)


def place_bdt(s_a: np.ndarray, s_b: np.ndarray, theta: float) -> dict[str, np.ndarray]:
    """C6H4 of a BDT whose S atoms sit at ``s_a`` and ``s_b``; ``theta`` turns the ring about S...S."""
    mid_local = _BDT_LOCAL["S"].mean(axis=0)
    u_local = _unit(_BDT_LOCAL["S"][1] - _BDT_LOCAL["S"][0])
    n_local = _unit(-mid_local)  # from the S...S midpoint towards the ring centre
    local = np.array([u_local, n_local, np.cross(u_local, n_local)])
    u = _unit(s_b - s_a)
    e1, e2 = _perpendicular_frame(u)
    n = np.cos(theta) * e1 + np.sin(theta) * e2
    frame = np.array([u, n, np.cross(u, n)])
    rotation = frame.T @ local
    mid = 0.5 * (s_a + s_b)
    return {el: mid + (xyz - mid_local) @ rotation.T for el, xyz in _BDT_LOCAL.items() if el != "S"}


def initial_guess() -> np.ndarray:
    """Idealised asymmetric unit: 12 coordinates, tetrahedral radius and BDT angle (14 numbers)."""
    vertex = _unit(np.array([0.0, 1.0, GOLDEN]))
    shell = 2.86 * vertex
    crown_vertex = T_OPS[_CROWN_NEIGHBOUR_OP] @ vertex  # the crown atom above shell(4)
    crown = 6.1 * _unit(crown_vertex + 0.35 * A_AXES[0])
    crown_next = T_OPS[_CROWN_NEIGHBOUR_OP] @ crown
    ring_s = 6.6 * _unit(crown + crown_next)
    tetra = 5.96 * _TETRA_AXIS
    crown_above = T_OPS[_OUTER_S_CROWN_OP] @ crown
    outer_s = 5.3 * _unit(shell + crown_above + tetra)
    return np.concatenate([shell, crown, ring_s, outer_s, [5.96, 0.0]])


class _Framework:
    """Full cluster (without PPh3) as a function of the 14 asymmetric-unit parameters."""

    labels = ("centre", "shell", "crown", "tetra", "ring_S", "outer_S")
    elements = {"centre": "Ag", "shell": "Ag", "crown": "Ag", "tetra": "Ag", "ring_S": "S", "outer_S": "S"}

    def __init__(self) -> None:
        x0 = initial_guess()
        self.maps: dict[str, np.ndarray] = {}
        self.offsets: dict[str, int] = {}
        symbols: list[str] = []
        atom_labels: list[str] = []
        for label, pos in self._asym(x0).items():
            distinct, mapping = unique_image_map(orbit_images(pos))
            self.maps[label] = mapping
            self.offsets[label] = len(symbols)
            symbols += [self.elements[label]] * len(distinct)
            atom_labels += [label] * len(distinct)
        self.n_core = len(symbols)
        self.ligand_offset = len(symbols)
        for g in range(12):
            symbols += ["C"] * 6 + ["H"] * 4
            atom_labels += ["bdt_C"] * 6 + ["bdt_H"] * 4
        self.symbols = np.array(symbols)
        self.atom_labels = np.array(atom_labels)
        self.bonds, self.bond_kinds = self._bonds()
        self.excluded = self._excluded_pairs()
        self.asym_indices = np.array(
            [self.index(label, 0) for label in self.labels] + list(range(self.ligand_offset, self.ligand_offset + 10))
        )
        minima = np.zeros((len(self.symbols), len(self.symbols)))
        for i, a in enumerate(self.symbols):
            for j, b in enumerate(self.symbols):
                minima[i, j] = NONBONDED_MIN[frozenset([a, b])]
        self.nonbonded_min = minima[self.asym_indices]
        self.nonbonded_mask = ~self.excluded[self.asym_indices]
        self.nonbonded_mask[np.arange(len(self.asym_indices)), self.asym_indices] = False

    @staticmethod
    def _asym(x: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "centre": np.zeros(3),
            "shell": x[0:3],
            "crown": x[3:6],
            "tetra": x[12] * _TETRA_AXIS,
            "ring_S": x[6:9],
            "outer_S": x[9:12],
        }

    def index(self, label: str, op: int) -> int:
        """Atom index of T_OPS[op] @ (asymmetric atom ``label``)."""
        return self.offsets[label] + int(self.maps[label][op])

    def ligand_s_indices(self, g: int) -> tuple[int, int]:
        """Indices of the outer S and ring S joined by ligand ``g``."""
        return self.index("outer_S", g), self.index("ring_S", COMPOSE[g, _BDT_RING_S_OP])

    def _bonds(self) -> tuple[np.ndarray, list[str]]:
        pairs: set[tuple[int, int, str]] = set()
        vertices = orbit_images(_unit(np.array([0.0, 1.0, GOLDEN])))
        edge = np.linalg.norm(vertices[0] - vertices, axis=1).round(6)
        neighbours = [k for k in range(12) if edge[k] == np.min(edge[edge > 0])]
        asym = list(_ASYM_BONDS) + [("shell", 0, "shell", k, "Ag(icosahedral)-Ag(icosahedral)") for k in neighbours]
        for g in range(12):
            for la, oa, lb, ob, kind in asym:
                i, j = self.index(la, COMPOSE[g, oa]), self.index(lb, COMPOSE[g, ob])
                pairs.add((min(i, j), max(i, j), kind))
        ordered = sorted(pairs)
        return np.array([(i, j) for i, j, _ in ordered]), [k for _, _, k in ordered]

    def _excluded_pairs(self) -> np.ndarray:
        n = len(self.symbols)
        excluded = np.zeros((n, n), dtype=bool)
        excluded[self.bonds[:, 0], self.bonds[:, 1]] = True
        for g in range(12):
            members = list(range(self.ligand_offset + 10 * g, self.ligand_offset + 10 * g + 10))
            members += list(self.ligand_s_indices(g))
            excluded[np.ix_(members, members)] = True
        return excluded | excluded.T

    def positions(self, x: np.ndarray) -> np.ndarray:
        """Cartesian positions of all atoms for parameters ``x``."""
        pos = np.empty((len(self.symbols), 3))
        for label, p in self._asym(x).items():
            images = orbit_images(p)
            pos[self.offsets[label] + self.maps[label]] = images
        s_outer, s_ring = pos[self.index("outer_S", 0)], pos[self.index("ring_S", _BDT_RING_S_OP)]
        ligand = place_bdt(s_outer, s_ring, x[13])
        ligand_xyz = np.vstack([ligand["C"], ligand["H"]])
        pos[self.ligand_offset:] = np.einsum("gij,aj->gai", T_OPS, ligand_xyz).reshape(-1, 3)
        return pos

    def residuals(self, x: np.ndarray) -> np.ndarray:
        pos = self.positions(x)
        d = np.linalg.norm(pos[self.bonds[:, 0]] - pos[self.bonds[:, 1]], axis=1)
        windows = np.array([BOND_WINDOWS[k] for k in self.bond_kinds])
        lo, target, hi = windows.T
        window = np.maximum(lo - d, 0.0) + np.maximum(d - hi, 0.0)
        pull = 0.2 * (d - target)
        s_outer, s_ring = self.ligand_s_indices(0)
        ss = 10.0 * (np.linalg.norm(pos[s_outer] - pos[s_ring]) - BDT_S_S)
        dist = np.linalg.norm(pos[self.asym_indices][:, None, :] - pos[None, :, :], axis=2)
        clash = np.where(self.nonbonded_mask, np.maximum(self.nonbonded_min - dist, 0.0), 0.0)
        outward = 0.5 * np.maximum(6.0 - np.linalg.norm(pos[self.ligand_offset:self.ligand_offset + 6].mean(axis=0)), 0.0)
        # The hinges above leave the BDT ring's rotation flat wherever nothing clashes; a weak, smooth
        # repulsion of its atoms from their non-bonded neighbours gives it one minimum.
        ligand_rows = slice(len(self.labels), None)
        repel = np.where(self.nonbonded_mask[ligand_rows],
                         LIGAND_REPULSION * np.exp(-(dist[ligand_rows] - self.nonbonded_min[ligand_rows]) / 0.5), 0.0)
        return np.concatenate([window, pull, [ss, outward], clash.ravel(), repel.ravel()])


def _fit_framework(framework: _Framework, seed: int, n_starts: int) -> tuple[np.ndarray, float]:
    """Best of ``n_starts`` least-squares fits, each converged to FIT_TOLERANCE (not stopped at an
    evaluation cap), so the model does not depend on BLAS threads or the CPU's reduction order.
    Costs that tie within COST_TIE are the same minimum: the first start among them wins."""
    rng = np.random.default_rng(seed)
    x0 = initial_guess()
    best_x, best_cost = x0, np.inf
    for start in range(n_starts):
        trial = x0.copy()
        if start:
            trial[:12] += rng.normal(scale=0.25, size=12)
        trial[13] = rng.uniform(0.0, 2.0 * np.pi)
        fit = least_squares(framework.residuals, trial, method="trf", ftol=FIT_TOLERANCE, xtol=FIT_TOLERANCE,
                            gtol=FIT_TOLERANCE, max_nfev=20000)
        if fit.status <= 0:
            raise RuntimeError(f"model fit, start {start}: {fit.message}")
        if fit.cost < best_cost * (1.0 - COST_TIE):
            best_x, best_cost = fit.x, float(fit.cost)
    return best_x, best_cost


def _phenyl(p: np.ndarray, axis: np.ndarray, psi: float, phi: float) -> dict[str, np.ndarray]:
    """One phenyl of a PPh3 whose P sits at ``p`` on ``axis`` (pointing away from the cluster)."""
    e1, e2 = _perpendicular_frame(axis)
    bond = np.cos(P_C_AXIS_ANGLE) * axis + np.sin(P_C_AXIS_ANGLE) * (np.cos(psi) * e1 + np.sin(psi) * e2)
    ipso = p + PC * bond
    f1, f2 = _perpendicular_frame(bond)
    v = np.cos(phi) * f1 + np.sin(phi) * f2
    centre = ipso + CC * bond
    ring = [centre + CC * (-np.cos(a) * bond + np.sin(a) * v) for a in _RING_ANGLES]
    hydrogens = [centre + (CC + CH) * (-np.cos(a) * bond + np.sin(a) * v) for a in _RING_ANGLES[1:]]
    return {"C": np.array(ring), "H": np.array(hydrogens)}


def _place_phosphines(core_pos: np.ndarray, tetra_radius: float, steps: int = 36) -> tuple[np.ndarray, np.ndarray]:
    """P positions (4) and phenyl C/H (12 x 11) of the PPh3 propellers, clash-minimised by a scan."""
    p0 = (tetra_radius + AGP) * _TETRA_AXIS
    best, best_gap = None, -np.inf
    for psi in np.linspace(0.0, 2.0 * np.pi / 3.0, steps, endpoint=False):
        for phi in np.linspace(0.0, np.pi, steps, endpoint=False):
            ph = _phenyl(p0, _TETRA_AXIS, psi, phi)
            unit = np.vstack([ph["C"], ph["H"]])
            images = np.einsum("gij,aj->gai", T_OPS, unit)
            own = images[0]
            others = np.vstack([core_pos, images[1:].reshape(-1, 3)])
            gap = np.min(np.linalg.norm(own[:, None] - others[None], axis=2))
            if gap > best_gap:
                best, best_gap = images, gap
    p_all, _ = unique_image_map(orbit_images(p0))
    return p_all, best.reshape(-1, 3)


def build_ag29_bdt12_tpp4(seed: int = 0, n_starts: int = 12, with_phosphines: bool = True) -> Ag29Model:
    """Fit and assemble the T-symmetric [Ag29(BDT)12(TPP)4]3- model (seconds, reproducible by seed)."""
    framework = _Framework()
    x, cost = _fit_framework(framework, seed, n_starts)
    pos = framework.positions(x)
    symbols, labels = list(framework.symbols), list(framework.atom_labels)
    if with_phosphines:
        p_pos, phenyl_pos = _place_phosphines(pos, x[12])
        per_phenyl = ["C"] * 6 + ["H"] * 5
        pos = np.vstack([pos, p_pos, phenyl_pos])
        symbols += ["P"] * len(p_pos) + per_phenyl * 12
        labels += ["tpp_P"] * len(p_pos) + [f"tpp_{s}" for s in per_phenyl * 12]
    role = {"centre": "Ag_centre", "shell": "Ag_icosahedral", "crown": "Ag_crown", "tetra": "Ag_tetrahedral"}
    labels = [role.get(lab, lab) for lab in labels]
    charge = -3
    atoms = Atoms(symbols=symbols, positions=pos)
    atoms.set_array("label", np.array(labels, dtype="U16"))
    atoms.info.update(
        {
            "name": "Ag29(BDT)12(TPP)4" if with_phosphines else "Ag29(BDT)12",
            "charge": charge,
            "point_group": "T",
            "source": "idealised model, clusterdefects.build.build_ag29_bdt12_tpp4",
            "clusterdefects_version": __version__,
            "seed": seed,
            "n_starts": n_starts,
            "fit_cost": round(cost, 6),
        }
    )
    bonds = {}
    for kind in BOND_WINDOWS:
        mask = np.array([k == kind for k in framework.bond_kinds])
        ij = framework.bonds[mask]
        bonds[kind] = np.linalg.norm(pos[ij[:, 0]] - pos[ij[:, 1]], axis=1)
    return Ag29Model(atoms=atoms, cost=cost, seed=seed, n_starts=n_starts, bond_lengths=bonds)


def build_ag5_sh4(ag_ag: float = 2.78, ag_s: float = 2.40, s_h: float = 1.35, ag_s_h: float = 100.0) -> Atoms:
    """Tiny [Ag5(SH)4]- test cluster: a centred Ag4 tetrahedron with one SH on each corner.

    The four SH groups are images under the S4 axis along z, so the four corner Ag stay
    equivalent (point group S4): two Ag site classes, like a miniature of a real cluster.
    """
    corners = np.array([[1, 1, 1], [1, -1, -1], [-1, -1, 1], [-1, 1, -1]], dtype=float) / np.sqrt(3.0)
    s4 = np.array([[0, 1, 0], [-1, 0, 0], [0, 0, -1]], dtype=float)  # (x, y, z) -> (y, -x, -z)
    axis = corners[0]
    e1, _ = _perpendicular_frame(axis)
    tilt = np.radians(180.0 - ag_s_h)
    s0 = (ag_ag + ag_s) * axis
    h0 = s0 + s_h * (np.cos(tilt) * axis + np.sin(tilt) * e1)
    ops = [np.linalg.matrix_power(s4, k) for k in range(4)]
    ag = [np.zeros(3)] + [g @ (ag_ag * axis) for g in ops]
    sulfur = [g @ s0 for g in ops]
    hydrogen = [g @ h0 for g in ops]
    atoms = Atoms("Ag5S4H4", positions=np.vstack([ag, sulfur, hydrogen]))
    atoms.info.update({"name": "Ag5(SH)4", "charge": -1, "point_group": "S4",
                       "source": "test cluster, clusterdefects.build.build_ag5_sh4",
                       "clusterdefects_version": __version__})
    return atoms
