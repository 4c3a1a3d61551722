"""Checks every structure must pass before any calculation: composition, charge, electrons, clashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import covalent_radii
from ase.formula import Formula

from .elements import metal_valence
from .errors import InputError

#: Two atoms closer than this fraction of their covalent-radius sum are a clash.
CLASH_FRACTION = 0.65
#: Superatom (spherical jellium) shell closings: 1S, 1P, 1D, 2S, 1F, 2P, 1G, ...
SHELL_CLOSINGS = (0, 2, 8, 18, 20, 34, 40, 58, 68, 90, 92)


def check_formula(atoms: Atoms, expected: str, path: str | Path) -> None:
    """The structure's composition must equal the configured formula."""
    found = Formula(atoms.get_chemical_formula('metal'))
    want = Formula(expected)
    if found.count() != want.count():
        diff = {el: found.count().get(el, 0) - want.count().get(el, 0)
                for el in set(found.count()) | set(want.count())}
        delta = ", ".join(f"{el} {n:+d}" for el, n in sorted(diff.items()) if n)
        raise InputError(path, f"wrong composition {found.format('metal')} (expected {want.format('metal')}: {delta})",
                         "give the right structure, or correct the formula in config/config.yaml")


def check_charge(atoms: Atoms, charge: int, path: str | Path) -> None:
    """A charge stored in the file (extended XYZ ``charge=``) must agree with the configured one."""
    stored = atoms.info.get("charge")
    if stored is not None and int(stored) != int(charge):
        raise InputError(path, f"file says charge={stored}, config says {charge}",
                         "make them agree (config: systems.<name>.charges)")


def electron_count(atoms: Atoms, charge: int) -> int:
    """Total number of electrons of the ion."""
    return int(atoms.numbers.sum()) - int(charge)


def check_electron_count(atoms: Atoms, charge: int, path: str | Path, allow_odd: bool = False) -> int:
    """Refuse an odd electron count (an open-shell doublet) unless the config allows it."""
    n = electron_count(atoms, charge)
    if n % 2 and not allow_odd:
        raise InputError(path, f"odd electron count {n} ({atoms.get_chemical_formula('metal')}, charge {charge:+d})",
                         "check the charge, or set allow_odd_electrons: true and choose a spin policy")
    return n


def superatom_electrons(atoms: Atoms, charge: int, n_thiolate: int) -> int:
    """Jellium count: metal valence electrons minus one per thiolate S minus the charge."""
    valence = sum(metal_valence(s) for s in atoms.get_chemical_symbols())
    return valence - n_thiolate - int(charge)


def is_closed_shell(superatom_count: int) -> bool:
    """A superatom electron count that fills its last shell (8 for Ag29 3- and Ag28Hg 2-; 6 for Ag28 2- is open)."""
    return superatom_count in SHELL_CLOSINGS


def check_clashes(atoms: Atoms, path: str | Path) -> float:
    """Refuse two atoms closer than CLASH_FRACTION of their covalent radii; return the worst ratio."""
    if len(atoms) < 2:
        return np.inf
    d = atoms.get_all_distances()
    radii = covalent_radii[atoms.numbers]
    ratio = d / (radii[:, None] + radii[None, :])
    np.fill_diagonal(ratio, np.inf)
    i, j = np.unravel_index(np.argmin(ratio), ratio.shape)
    if ratio[i, j] < CLASH_FRACTION:
        raise InputError(path, f"atoms {i} ({atoms[i].symbol}) and {j} ({atoms[j].symbol}) are only {d[i, j]:.2f} Å apart",
                         "fix the coordinates (duplicate or overlapping atoms?)")
    return float(ratio[i, j])
