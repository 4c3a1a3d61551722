"""Symmetry-distinct metal sites of a ligand-protected cluster, named by their structural role.

The point group comes from pymatgen's PointGroupAnalyzer, tried over a ladder of tolerances; its
operations are then checked by mapping every atom onto an atom of the same element (a wrong
symbol with wrong classes on a distorted geometry is a known pitfall), and the equivalence
classes are the orbits under the operations that pass.  Roles come from geometry alone:

* ``centre``: a metal atom alone in its class at the metal centroid;
* ``icosahedral`` (or ``kernel`` if the shell is no icosahedron): metals bonded to the centre;
* outside the kernel, by ligand coordination: ``crown`` (in a small M_kS_k ring of outer metals),
  ``staple`` (two donor atoms, as in Au25(SR)18 staples), ``capping`` (three or more donors, not in
  a ring), called ``tetrahedral`` when there are four such atoms at the corners of a tetrahedron,
  and otherwise ``surface``.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from ase.data import covalent_radii
from pymatgen.core import Molecule
from pymatgen.symmetry.analyzer import PointGroupAnalyzer
from scipy.spatial import cKDTree

from .elements import CHALCOGENS, NONMETALS
from .errors import InputError
from .structio import bonded_pairs

#: PointGroupAnalyzer tolerances (Å) tried in turn; the largest valid group wins.
TOLERANCES = (0.3, 0.5)
#: Order of roles from the inside out (for sorting tables).
ROLE_ORDER = ("centre", "icosahedral", "kernel", "staple", "tetrahedral", "capping", "crown", "surface")


@dataclass(frozen=True)
class Symmetry:
    """Point group of the heavy-atom framework and the orbits of all atoms under it.

    H atoms do not take part in the search (crystal structures place them by riding models);
    ``hydrogens_symmetric`` says whether they follow the group too (else they are their own orbits).
    """

    point_group: str
    tolerance: float
    n_operations: int
    max_deviation: float
    orbits: tuple[tuple[int, ...], ...]
    hydrogens_symmetric: bool = True


@dataclass(frozen=True)
class SiteClass:
    """One class of symmetry-equivalent metal atoms."""

    label: str
    role: str
    element: str
    members: tuple[int, ...]
    radius: float
    coordination: str

    @property
    def multiplicity(self) -> int:
        return len(self.members)

    @property
    def representative(self) -> int:
        return self.members[0]


def _permutation(op_matrix: np.ndarray, coords: np.ndarray, symbols: np.ndarray,
                 trees: dict[str, tuple[cKDTree, np.ndarray]]) -> tuple[np.ndarray, float]:
    """Image index of every atom under a rotation, and the largest mismatch (Å)."""
    moved = coords @ op_matrix.T
    image = np.empty(len(coords), dtype=int)
    worst = 0.0
    for element, (tree, indices) in trees.items():
        mask = symbols == element
        if not mask.any():
            continue
        dist, nearest = tree.query(moved[mask])
        image[mask] = indices[nearest]
        worst = max(worst, float(dist.max()))
    return image, worst


def _refine(op_matrix: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Best (Kabsch) orthogonal matrix of the same handedness as ``op_matrix`` mapping source onto target."""
    u, _, vt = np.linalg.svd(source.T @ target)
    d = np.sign(np.linalg.det(op_matrix)) * np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def group_order(symbol: str) -> int | None:
    """Number of operations of a Schoenflies point group (None for linear groups)."""
    fixed = {"C1": 1, "Cs": 2, "Ci": 2, "T": 12, "Td": 24, "Th": 24, "O": 24, "Oh": 48, "I": 60, "Ih": 120}
    if symbol in fixed:
        return fixed[symbol]
    if "*" in symbol:
        return None
    n = int("".join(ch for ch in symbol[1:] if ch.isdigit()))
    suffix = symbol[1 + len(str(n)):]
    factor = {("C", ""): 1, ("C", "v"): 2, ("C", "h"): 2, ("S", ""): 1, ("D", ""): 2, ("D", "d"): 4, ("D", "h"): 4}
    return n * factor[(symbol[0], suffix)]


def _orbits(permutations: list[np.ndarray], n: int) -> tuple[tuple[int, ...], ...]:
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for perm in permutations:
        for a, b in enumerate(perm):
            ra, rb = find(a), find(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for a in range(n):
        groups[find(a)].append(a)
    return tuple(tuple(g) for g in sorted(groups.values()))


@dataclass(frozen=True)
class _Operations:
    """The operations of a point group found in a structure: rotation matrices about ``centre``, each with
    the image of every atom (R x_i ~ x_image[i]), refined on the heavy atoms."""

    symbol: str
    centre: np.ndarray
    rotations: list[np.ndarray]
    images: list[np.ndarray]
    worst: float
    hydrogens_follow: bool


def _operations(atoms: Atoms, tol: float) -> _Operations | None:
    """The heavy-atom group PointGroupAnalyzer finds at ``tol``, if all its operations map every heavy
    atom onto an atom of the same element (and whether they map the H atoms too)."""
    symbols = np.array(atoms.get_chemical_symbols())
    heavy = symbols != "H" if (symbols != "H").sum() >= 2 else np.ones(len(symbols), dtype=bool)
    molecule = Molecule(list(symbols[heavy]), atoms.positions[heavy])
    analyzer = PointGroupAnalyzer(molecule, tolerance=tol)
    ops = analyzer.get_symmetry_operations()
    if group_order(analyzer.sch_symbol) != len(ops):
        return None
    coords = atoms.positions - molecule.center_of_mass
    trees = {el: (cKDTree(coords[symbols == el]), np.flatnonzero(symbols == el)) for el in set(symbols)}
    rotations, images, worst, h_ok = [], [], 0.0, True
    for op in ops:
        image, _ = _permutation(op.rotation_matrix, coords, symbols, trees)
        rotation = _refine(op.rotation_matrix, coords[heavy], coords[image[heavy]])
        image, dev = _permutation(rotation, coords, symbols, trees)
        heavy_dev = np.linalg.norm(coords[heavy] @ rotation.T - coords[image[heavy]], axis=1).max()
        if heavy_dev > tol or len(set(image[heavy])) != heavy.sum():
            return None
        h_ok = h_ok and dev <= tol and len(set(image)) == len(image)
        rotations.append(rotation)
        images.append(image)
        worst = max(worst, float(heavy_dev))
    if not h_ok:
        images = [np.where(heavy, p, np.arange(len(p))) for p in images]
    return _Operations(analyzer.sch_symbol, molecule.center_of_mass, rotations, images, worst, h_ok)


def _checked_group(atoms: Atoms, tol: float) -> Symmetry | None:
    """The group of ``_operations`` with the orbits of all atoms under it, if every orbit fits the group."""
    found = _operations(atoms, tol)
    if found is None:
        return None
    orbits = _orbits(found.images, len(atoms))
    if any(len(found.rotations) % len(o) for o in orbits):
        return None
    return Symmetry(found.symbol, tol, len(found.rotations), found.worst, orbits, found.hydrogens_follow)


def symmetry_deviation(atoms: Atoms, tol: float) -> tuple[str, float]:
    """The point group found at ``tol`` Å and the largest distance (Å) of a heavy atom from its image under
    that group's operations: how far a structure is from exactly symmetric (C1, 0.0 where none is found)."""
    found = _operations(atoms, tol)
    return ("C1", 0.0) if found is None else (found.symbol, found.worst)


def symmetrized(atoms: Atoms, tol: float, precision: float = 1e-10) -> Atoms:
    """A copy of ``atoms`` moved onto the exact point group found at ``tol`` Å (the largest one: a group
    found in a round may grow in the next, never shrink): every atom's position averaged over its images
    under the group (x_i -> mean over g of R_g^T x_image_g(i)), the rotations
    refined again and the average repeated until no atom moves by more than ``precision`` Å. Order,
    centre and orientation are kept. Raises ValueError where the group is C1 or the H atoms do not follow
    it (nothing to make exact)."""
    out, group = atoms.copy(), None
    for _ in range(100):
        found = _operations(out, tol)
        if group is None and (found is None or found.symbol == "C1" or not found.hydrogens_follow):
            raise ValueError(f"no point group above C1 (H atoms included) at {tol} Å")
        if found is None or len(found.rotations) < len(group.rotations if group else []):
            raise ValueError(f"symmetrizing to {group.symbol} at {tol} Å lost it on the way")
        group = found  # it may grow: a structure within tol of a larger group settles there
        coords = out.positions - found.centre
        exact = np.mean([coords[image] @ rotation for rotation, image in zip(found.rotations, found.images)], axis=0)
        out.positions = exact + found.centre
        if np.abs(exact - coords).max() < precision:
            return out
    raise ValueError(f"symmetrizing at {tol} Å did not settle to {precision} Å in 100 rounds")


def analyse_symmetry(atoms: Atoms, tolerances: tuple[float, ...] = TOLERANCES) -> Symmetry:
    """Largest point group (over the tolerance ladder) whose every operation maps the structure onto itself."""
    found = [g for g in (_checked_group(atoms, tol) for tol in tolerances) if g is not None]
    trivial = Symmetry("C1", 0.0, 1, 0.0, tuple((i,) for i in range(len(atoms))))
    return max(found, key=lambda g: (g.n_operations, -g.tolerance), default=trivial)


def frame_indices(atoms: Atoms, metals: set[str] | None = None) -> list[int]:
    """The metal frame: the metal atoms and the atoms bonded to them (the donor S of a thiolate cluster)."""
    symbols = atoms.get_chemical_symbols()
    metals = metals or {s for s in symbols if s not in NONMETALS}
    neighbours = _neighbours(atoms)
    metal_idx = {k for k, s in enumerate(symbols) if s in metals}
    return sorted(metal_idx | {n for k in metal_idx for n in neighbours[k]})


def frame_symmetry(atoms: Atoms, metals: set[str] | None = None,
                   tolerances: tuple[float, ...] = TOLERANCES) -> Symmetry:
    """The point group of the metal frame (``frame_indices``) and its orbits, as indices of ``atoms`` (every other
    atom its own orbit). Site classes come from it: a relaxed ligand shell whose rings turned is C1 as a whole,
    while its metal sites are still alike in the frame."""
    frame = frame_indices(atoms, metals)
    if len(frame) < 2:  # no metal (classify_sites then finds no class), or one with nothing bonded to it
        return Symmetry("C1", 0.0, 1, 0.0, tuple((i,) for i in range(len(atoms))))
    found = analyse_symmetry(atoms[frame], tolerances)
    covered = set(frame)
    orbits = [tuple(frame[k] for k in orbit) for orbit in found.orbits]
    orbits += [(k,) for k in range(len(atoms)) if k not in covered]
    return Symmetry(found.point_group, found.tolerance, found.n_operations, found.max_deviation,
                    tuple(sorted(orbits)), found.hydrogens_symmetric)


def _neighbours(atoms: Atoms) -> list[set[int]]:
    i, j, _ = bonded_pairs(atoms)
    neighbours: list[set[int]] = [set() for _ in range(len(atoms))]
    for a, b in zip(i, j):
        neighbours[int(a)].add(int(b))
    return neighbours


def _in_small_ring(metal: int, outer: set[int], neighbours: list[set[int]], symbols: list[str],
                   sizes: tuple[int, ...] = (3, 4)) -> bool:
    """Whether ``metal`` lies in an M_kS_k ring (k in ``sizes``) of outer metals and chalcogens."""
    def search(m: int, path: list[int], k: int) -> bool:
        for s in neighbours[m]:
            if symbols[s] not in CHALCOGENS or s in path:
                continue
            for m2 in neighbours[s] & (outer | {metal}):
                if m2 == metal and k in sizes:
                    return True
                if m2 not in path and k < max(sizes) and search(m2, path + [s, m2], k + 1):
                    return True
        return False

    return search(metal, [metal], 1)


def _is_tetrahedron(points: np.ndarray) -> bool:
    if len(points) != 4:
        return False
    d = [np.linalg.norm(a - b) for a, b in itertools.combinations(points, 2)]
    return max(d) - min(d) < 0.1 * np.mean(d)


#: Donor contacts longer than this factor times a metal's shortest one are secondary, not bonds.
PRIMARY_SPHERE = 1.12


def _donor_count(metal: int, neighbours: list[set[int]], symbols: list[str], centred: np.ndarray) -> int:
    """Chalcogen donors in the primary coordination sphere of ``metal``."""
    d = [np.linalg.norm(centred[s] - centred[metal]) for s in neighbours[metal] if symbols[s] in CHALCOGENS]
    return sum(x <= PRIMARY_SPHERE * min(d) for x in d) if d else 0


def _outer_roles(outer: set[int], neighbours: list[set[int]], symbols: list[str],
                 centred: np.ndarray) -> dict[int, str]:
    """Role of every metal outside the kernel, from its ligand coordination."""
    roles: dict[int, str] = {}
    for metal in outer:
        n_donors = _donor_count(metal, neighbours, symbols, centred)
        if _in_small_ring(metal, outer, neighbours, symbols):
            roles[metal] = "crown"
        elif n_donors == 2:
            roles[metal] = "staple"
        elif n_donors >= 3:
            roles[metal] = "capping"
        else:
            roles[metal] = "surface"
    capping = sorted(m for m, r in roles.items() if r == "capping")
    if _is_tetrahedron(centred[capping]):
        roles.update({m: "tetrahedral" for m in capping})
    return roles


def _coordination(metal: int, neighbours: list[set[int]], symbols: list[str]) -> str:
    counts = Counter(symbols[k] for k in neighbours[metal])
    return " ".join(f"{el}{n}" for el, n in sorted(counts.items())) or "-"


def classify_sites(atoms: Atoms, metals: set[str] | None = None, symmetry: Symmetry | None = None) -> list[SiteClass]:
    """Symmetry classes of the metal atoms, each with a unique label and a geometric role; the symmetry is the
    metal frame's (``frame_symmetry``) unless given."""
    symbols = atoms.get_chemical_symbols()
    metals = metals or {s for s in symbols if s not in NONMETALS}
    symmetry = symmetry or frame_symmetry(atoms, metals)
    metal_idx = [k for k, s in enumerate(symbols) if s in metals]
    centroid = atoms.positions[metal_idx].mean(axis=0)
    centred = atoms.positions - centroid
    radius = np.linalg.norm(centred, axis=1)
    neighbours = _neighbours(atoms)
    metal_orbits = [o for o in symmetry.orbits if symbols[o[0]] in metals]
    centre = next((o[0] for o in metal_orbits if len(o) == 1 and radius[o[0]] < 0.5), None)
    kernel: set[int] = set()
    if centre is not None:
        reach = 1.2 * 2 * covalent_radii[atoms.numbers[centre]]
        kernel = {k for k in metal_idx if k != centre and np.linalg.norm(centred[k] - centred[centre]) < reach}
    shell_kind = "icosahedral" if len(kernel) == 12 and all(
        len(neighbours[k] & kernel) == 5 for k in kernel) else "kernel"
    outer = set(metal_idx) - kernel - ({centre} if centre is not None else set())
    outer_roles = _outer_roles(outer, neighbours, symbols, centred)
    classes = []
    for orbit in metal_orbits:
        rep = min(orbit, key=lambda k: (radius[k], k))
        if rep == centre:
            role = "centre"
        elif rep in kernel:
            role = shell_kind
        else:
            role = outer_roles[rep]
        classes.append((role, float(np.mean(radius[list(orbit)])), orbit, rep))
    classes.sort(key=lambda c: (ROLE_ORDER.index(c[0]), c[1]))
    per_role = Counter(role for role, *_ in classes)
    seen: Counter[str] = Counter()
    result = []
    for role, rad, orbit, rep in classes:
        seen[role] += 1
        label = role if per_role[role] == 1 else f"{role}-{seen[role]}"
        members = (rep,) + tuple(k for k in orbit if k != rep)
        result.append(SiteClass(label, role, symbols[rep], members, rad, _coordination(rep, neighbours, symbols)))
    return result


def role_names(classes: list[SiteClass], atoms: Atoms) -> dict[int, str]:
    """Atom index -> 'Element(role)' for every metal atom in a class (e.g. 'Ag(crown)')."""
    return {k: f"{atoms[k].symbol}({c.role})" for c in classes for k in c.members}


def bond_table(atoms: Atoms, names: dict[int, str],
               also: Iterable[tuple[int, int]] = ()) -> list[dict[str, object]]:
    """Bond lengths per bond type, metals named by ``names`` (``role_names``; e.g. 'Ag(crown)-S'): the bonded
    pairs, and the pairs ``also`` (e.g. ``sitetrack.contacts_as_in_parent``) wherever they are."""
    i, j, _ = bonded_pairs(atoms)
    pairs = {(min(a, b), max(a, b)) for a, b in [*zip(i.tolist(), j.tolist()), *also] if a != b}
    by_kind: dict[str, list[float]] = defaultdict(list)
    for a, b in sorted(pairs):
        if a in names or b in names:
            pair = sorted([names.get(a, atoms[a].symbol), names.get(b, atoms[b].symbol)],
                          key=lambda name: ("(" not in name, name))
            by_kind["-".join(pair)].append(float(atoms.get_distance(a, b)))
    return [{"bond": kind, "n": len(v), "min_A": min(v), "mean_A": float(np.mean(v)), "max_A": max(v)}
            for kind, v in sorted(by_kind.items())]


#: Columns of the sites table (sites.csv), one row per class.
SITES_COLUMNS = ["class", "role", "paper_label", "element", "multiplicity", "representative",
                 "radius_A", "coordination", "members"]


def sites_frame(classes: list[SiteClass], paper_labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The sites table (one row per class)."""
    paper_labels = paper_labels or {}
    rows = [{
        "class": c.label, "role": c.role, "paper_label": paper_labels.get(c.label, ""), "element": c.element,
        "multiplicity": c.multiplicity, "representative": c.representative, "radius_A": round(c.radius, 4),
        "coordination": c.coordination, "members": " ".join(map(str, c.members)),
    } for c in classes]
    return pd.DataFrame(rows, columns=SITES_COLUMNS)


def check_expected_classes(frame: pd.DataFrame, expected: list[str], path: str | Path) -> None:
    """The configured site list must match the classes found (so the DAG names real isomers)."""
    found = list(frame["class"])
    if sorted(found) != sorted(expected):
        raise InputError(path, f"site classes found {found}, config lists {expected}",
                         f"set sites: {found} for this system in config/config.yaml "
                         "(see `clusterdefects sites <file>`)")


def read_sites(path: str | Path) -> pd.DataFrame:
    """Read a sites table written by ``sites_frame``."""
    try:
        return pd.read_csv(path, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(path, "sites table not found", "run the `sites` rule first") from None
