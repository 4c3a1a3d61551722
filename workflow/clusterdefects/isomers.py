"""Doped isomers (one representative of a site class replaced by the dopant) and vacancy isomers."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms
from ase.data import atomic_numbers

from .errors import InputError
from .ids import StructureId


def check_element(symbol: str, what: str) -> None:
    if symbol not in atomic_numbers:
        raise InputError(None, f"unknown element {symbol!r} as {what}", "use a chemical symbol such as Hg (config: dopants)")


def substitute(parent: Atoms, index: int, dopant: str, charge: int, site: str, role: str) -> Atoms:
    """The parent with atom ``index`` replaced by ``dopant``; atom order is kept."""
    check_element(dopant, "dopant")
    doped = parent.copy()
    host = doped[index].symbol
    doped[index].symbol = dopant
    doped.info = {
        "structure_id": str(StructureId("doped", dopant, site)),
        "kind": "doped",
        "dopant": dopant,
        "host": host,
        "site": site,
        "role": role,
        "site_index": index,
        "charge": charge,
    }
    return doped


def remove_dopant(doped: Atoms, dopant: str, charge: int, path: str | Path) -> Atoms:
    """The vacancy isomer: the doped isomer with its one dopant atom removed."""
    hits = [a.index for a in doped if a.symbol == dopant]
    if len(hits) != 1:
        raise InputError(path, f"expected exactly one {dopant} atom, found {len(hits)}",
                         "give the doped isomer this vacancy is made from")
    vacancy = doped.copy()
    del vacancy[hits[0]]
    site = doped.info.get("site", "unknown")
    vacancy.info = {
        "structure_id": str(StructureId("vacancy", dopant, site)),
        "kind": "vacancy",
        "dopant": dopant,
        "site": site,
        "role": doped.info.get("role", "unknown"),
        "vacancy_index": hits[0],
        "vacancy_position": doped.positions[hits[0]].round(5),
        "charge": charge,
    }
    return vacancy


def isolated_atom(symbol: str) -> Atoms:
    """A neutral free atom (for fragmentation energies)."""
    check_element(symbol, "atom")
    return Atoms(symbol, positions=[(0.0, 0.0, 0.0)],
                 info={"structure_id": str(StructureId("atom", symbol)), "kind": "atom", "charge": 0})
