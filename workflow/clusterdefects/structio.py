"""Read a parent structure (XYZ, extended XYZ, CIF, any ASE format) and cut out the gas-phase cluster.

A crystal (CIF) is expanded by its space group, partial occupancy is resolved by keeping the
major part of each disorder assembly (or refused where no part is the major one), and the one
cluster ion is kept: the largest connected component that contains the host metal, made whole
across the periodic boundaries.  Counter-ions and solvent are dropped and reported, never
silently: every step returns what it removed.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers
from ase.io import read
from ase.io.cif import CIFBlock, parse_cif
from ase.neighborlist import natural_cutoffs, neighbor_list

from .errors import InputError

#: Bonds for connectivity: natural (covalent) cutoffs times this factor.
BOND_SCALE = 1.15


@dataclass
class ReadReport:
    """What reading and cutting did to a structure: lines for the log and the JSON report."""

    source: str
    notes: list[str] = field(default_factory=list)

    def add(self, note: str) -> None:
        self.notes.append(note)


def read_structure(path: str | Path, report: ReadReport | None = None) -> Atoms:
    """Read any structure file; CIFs are expanded to the full unit cell with disorder resolved."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "check the path (config: systems.<name>.parent)")
    if path.suffix.lower() == ".cif":
        return read_cif(path, report)
    try:
        atoms = read(path)
    except KeyError as err:
        raise InputError(path, f"unknown element {err.args[0]!r}", "correct the element symbol in the file") from None
    except Exception as err:  # ASE raises many kinds for malformed files
        raise InputError(path, f"cannot be read as a structure ({type(err).__name__}: {err})",
                         "give an XYZ, extended XYZ or CIF file") from None
    if len(atoms) == 0:
        raise InputError(path, "holds no atoms", "give a file with coordinates")
    return atoms


def _structure_block(path: Path) -> CIFBlock:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with open(path, errors="replace") as fd:
                blocks = [block for block in parse_cif(fd) if block.has_structure()]
        except Exception as err:
            raise InputError(path, f"unreadable CIF ({type(err).__name__}: {err})",
                             "export the CIF again (CCDC/Mercury) or check it with a CIF validator") from None
    problems = "; ".join(str(w.message) for w in caught)
    if not blocks:
        raise InputError(path, "unreadable CIF: no data block with a cell, atom sites and symbols"
                         + (f" ({problems})" if problems else ""),
                         "export the CIF again (CCDC/Mercury) with _atom_site_fract_x/y/z and _atom_site_type_symbol")
    if problems:
        raise InputError(path, f"unreadable CIF: {problems}", "repair the CIF (check it with a CIF validator)")
    if len(blocks) > 1:
        names = ", ".join(b.name for b in blocks)
        raise InputError(path, f"{len(blocks)} structures in one CIF ({names})", "keep only the cluster's data block")
    return blocks[0]


def _major_part_rows(block: CIFBlock, path: Path, report: ReadReport | None) -> np.ndarray:
    """Boolean mask of atom-site rows to keep: full occupancy plus the major part of each disorder."""
    labels = [str(x) for x in block.get("_atom_site_label", block.get("_atom_site_type_symbol"))]
    n = len(labels)
    occupancy = np.array([float(x) if isinstance(x, (int, float)) else 1.0
                          for x in block.get("_atom_site_occupancy", [1.0] * n)])
    groups = [str(x) for x in block.get("_atom_site_disorder_group", ["."] * n)]
    assemblies = [str(x) for x in block.get("_atom_site_disorder_assembly", ["."] * n)]
    keep = np.ones(n, dtype=bool)
    parts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, (occ, group, assembly) in enumerate(zip(occupancy, groups, assemblies)):
        if group not in (".", "?", "0"):
            parts[assembly][group.lstrip("-")].append(i)
        elif occ < 0.999:
            if abs(occ - 0.5) < 1e-3:
                raise InputError(path, f"atom site {labels[i]} has occupancy 0.5 and no disorder group",
                                 "resolve the disorder in the CIF (e.g. in Mercury/Olex2) or give _atom_site_disorder_group")
            keep[i] = occ > 0.5
    for assembly, by_group in parts.items():
        weight = {g: float(np.mean(occupancy[rows])) for g, rows in by_group.items()}
        ranked = sorted(weight, key=weight.get, reverse=True)
        if len(ranked) > 1 and abs(weight[ranked[0]] - weight[ranked[1]]) < 1e-3:
            raise InputError(path, f"disorder assembly {assembly!r}: parts {ranked[0]} and {ranked[1]} are equally occupied",
                             "choose one part in the CIF (delete the other's atom sites)")
        for group in ranked[1:]:
            keep[by_group[group]] = False
    if report is not None and not keep.all():
        dropped = [labels[i] for i in np.flatnonzero(~keep)]
        report.add(f"disorder: kept the major part, dropped {len(dropped)} minor site(s): {' '.join(dropped)}")
    return keep


def read_cif(path: Path, report: ReadReport | None = None) -> Atoms:
    """Full unit cell of a CIF: symmetry expanded, partial occupancy resolved to the major part."""
    block = _structure_block(path)
    keep = _major_part_rows(block, path, report)
    n = len(keep)
    tags = {key: ([v for v, k in zip(value, keep) if k] if isinstance(value, list) and len(value) == n
                  and key.startswith("_atom_site_") else value)
            for key, value in block._tags.items()}
    tags.pop("_atom_site_occupancy", None)
    for symbol in CIFBlock(block.name, tags).get_symbols():
        if symbol not in atomic_numbers:
            raise InputError(path, f"unknown element {symbol!r}", "correct _atom_site_type_symbol in the CIF")
    try:
        atoms = CIFBlock(block.name, tags).get_atoms(fractional_occupancies=False)
    except Exception as err:
        raise InputError(path, f"unreadable CIF: cannot expand the structure ({type(err).__name__}: {err})",
                         "check the cell, space group and symmetry operations in the CIF") from None
    if report is not None:
        report.add(f"CIF block {block.name}: {len(atoms)} atoms in the unit cell after symmetry expansion")
    return atoms


def bonded_pairs(atoms: Atoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covalent bonds (i, j, cell shift) from natural cutoffs scaled by BOND_SCALE."""
    return neighbor_list("ijS", atoms, natural_cutoffs(atoms, mult=BOND_SCALE))


def connected_fragments(atoms: Atoms) -> list[Atoms]:
    """Connected components of the bond graph, each made whole across periodic boundaries."""
    i, j, shifts = bonded_pairs(atoms)
    neighbours: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
    for a, b, s in zip(i, j, shifts):
        neighbours[int(a)].append((int(b), s))
    seen = np.full(len(atoms), False)
    image = np.zeros((len(atoms), 3), dtype=int)
    fragments = []
    for start in range(len(atoms)):
        if seen[start]:
            continue
        members, stack = [start], [start]
        seen[start] = True
        while stack:
            a = stack.pop()
            for b, s in neighbours[a]:
                if not seen[b]:
                    seen[b] = True
                    image[b] = image[a] + s
                    members.append(b)
                    stack.append(b)
        members.sort()  # keep the file's atom order
        positions = atoms.positions[members] + image[members] @ atoms.cell.array
        fragments.append(Atoms(atoms.symbols[members], positions=positions))
    return fragments


def extract_cluster(atoms: Atoms, host: str, path: Path | str, report: ReadReport | None = None) -> Atoms:
    """The largest connected fragment containing ``host`` atoms, as a non-periodic molecule centred at the
    origin; a non-periodic file whose every atom is the cluster keeps its cell and positions (a relaxed
    structure stays where it sits on the grid)."""
    fragments = connected_fragments(atoms)
    with_host = [f for f in fragments if host in f.symbols]
    if not with_host:
        raise InputError(path, f"no {host} atom in the structure", f"give a structure of a {host} cluster (config: host)")
    if not atoms.pbc.any() and atoms.cell.rank == 3 and len(fragments) == 1:
        return atoms.copy()  # Atoms.copy keeps cell, positions and a copy of info
    cluster = max(with_host, key=len)
    others = [f for f in fragments if f is not cluster]
    if report is not None and others:
        kinds = defaultdict(int)
        for f in others:
            kinds[f.get_chemical_formula('metal')] += 1
        summary = ", ".join(f"{n} x {formula}" for formula, n in sorted(kinds.items()))
        report.add(f"kept the {cluster.get_chemical_formula('metal')} cluster; dropped other fragments: {summary}")
    cluster.pbc = False
    cluster.cell = None
    cluster.info = dict(atoms.info)
    cluster.positions -= cluster.positions.mean(axis=0)
    return cluster


def strip_ligands(atoms: Atoms, donors: list[str], metals: set[str], report: ReadReport | None = None) -> Atoms:
    """Remove each ligand bound to a metal through a donor atom of the given elements (e.g. P for PPh3)."""
    if not donors:
        return atoms
    i, j, _ = bonded_pairs(atoms)
    symbols = atoms.get_chemical_symbols()
    is_metal = np.array([s in metals for s in symbols])
    remove: set[int] = set()
    adjacency: dict[int, list[int]] = defaultdict(list)
    for a, b in zip(i, j):
        if not (is_metal[a] or is_metal[b]):
            adjacency[int(a)].append(int(b))
    stripped = 0
    for a, b in zip(i, j):
        if is_metal[a] and symbols[b] in donors and b not in remove:
            ligand, stack = {int(b)}, [int(b)]
            while stack:
                for c in adjacency[stack.pop()]:
                    if c not in ligand:
                        ligand.add(c)
                        stack.append(c)
            remove |= ligand
            stripped += 1
    if report is not None and stripped:
        formula = Atoms([symbols[k] for k in sorted(remove)]).get_chemical_formula('metal')
        report.add(f"stripped {stripped} ligand(s) bound through {'/'.join(donors)}: {formula} in all")
    kept = [k for k in range(len(atoms)) if k not in remove]
    result = atoms[kept]
    result.info = dict(atoms.info)
    return result
