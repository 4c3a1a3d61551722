"""The results tables of one preset: computed from relaxed structures, written as CSV, Markdown and
an ASE database, and read back by ``clusterdefects show``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from ase import Atoms
from ase.io import read

from . import analysis
from .errors import InputError
from .ids import StructureId, kind_of
from .fileio import read_json, write_atomically, write_text
from .sites import read_sites
from .results import RelaxResult, check_combinable

#: Table name -> (file stem, what `show` calls it).
TABLES = {
    "energies": "relative_energies",
    "dopants": "dopant_scan",
    "fragmentation": "fragmentation_energies",
    "bonds": "bond_lengths",
    "geometry": "geometry",
    "connectivity": "connectivity",
    "basins": "basin_check",
    "ccs": "ccs",
    "basis_energies": "basis_energies",
    "basis_fragmentation": "basis_fragmentation",
    "basis_cost": "basis_cost",
    "basis_spin": "basis_spin",
    "compare": "comparison",
}


def load_outputs(relax_dir: Path, structure_ids: list[str], allow_unconverged: bool = False
                 ) -> tuple[list[RelaxResult], dict[str, Atoms], dict[str, Atoms]]:
    """Every ``result.json`` (checked to be combinable), ``relaxed.xyz`` and ``start.xyz`` of a study."""
    results = [RelaxResult.read(relax_dir / sid / "result.json") for sid in structure_ids]
    check_combinable(results, allow_unconverged)
    return (results, {sid: read(relax_dir / sid / "relaxed.xyz") for sid in structure_ids},
            {sid: read(relax_dir / sid / "start.xyz") for sid in structure_ids})


def load_counterpoise(paths: list[Path], fingerprint: str) -> dict[str, float]:
    """Doped id -> counterpoise correction (eV) from the files that exist; each must have the study's settings."""
    corrections = {}
    for path in paths:
        if not path.is_file():
            continue
        data = read_json(path, "counterpoise correction")
        if data["fingerprint"] != fingerprint:
            raise InputError(path, f"counterpoise computed with settings {data['fingerprint']}, the study's "
                             f"relaxations with {fingerprint}", "rerun it: snakemake --forcerun counterpoise")
        corrections[data["structure_id"]] = float(data["correction_eV"])
    return corrections


def load_basin_checks(paths: list[Path], parent: RelaxResult) -> pd.DataFrame:
    """The basin checks that exist (one row per doped isomer with its dopant put back); each must have been
    made against this parent: its settings fingerprint and energy."""
    rows = []
    for path in (p for p in paths if p.is_file()):
        row = read_json(path, "basin check")
        if row["fingerprint"] != parent.fingerprint or abs(float(row["parent_energy"]) - parent.energy) > 1e-6:
            raise InputError(path, f"basin check made against another parent (settings {row['fingerprint']}, "
                             f"E {row['parent_energy']:.5f} eV; this study's parent: {parent.fingerprint}, "
                             f"{parent.energy:.5f} eV)", "rerun it: snakemake --forcerun basin_check")
        rows.append(row)
    return pd.DataFrame([{k: r[k] for k in analysis.BASIN_COLUMNS} for r in rows], columns=analysis.BASIN_COLUMNS)


def load_ccs(paths: list[Path], results: list[RelaxResult]) -> pd.DataFrame:
    """The cross sections that exist, one row per structure."""
    formulas = {r.structure_id: r.formula for r in results}
    return analysis.ccs_table([read_json(p, "cross section") for p in paths if p.is_file()], formulas)


def build_tables(results: list[RelaxResult], relaxed: dict[str, Atoms], starts: dict[str, Atoms], sites_csv: Path,
                 system: dict[str, Any], preset: str, corrections: dict[str, float] | None = None,
                 basins: pd.DataFrame | None = None, ccs: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """All tables of a study from its results, relaxed structures and their starts, the counterpoise
    corrections and the basin checks."""
    basins = pd.DataFrame(columns=analysis.BASIN_COLUMNS) if basins is None else basins
    energies = analysis.relative_energies(results, system.get("paper_labels", {}))
    fragmentation = analysis.fragmentation_energies(results, corrections)
    sites = read_sites(sites_csv)
    roles = dict(zip(sites["class"], sites["role"]))
    centre = next((int(r) for c, r in zip(sites["role"], sites["representative"]) if c == "centre"), None)
    kernel = {int(m) for role, members in zip(sites["role"], sites["members"])
              if role in ("centre", "icosahedral", "kernel") for m in str(members).split()}
    parent = relaxed["parent"]
    atom_roles = analysis.atom_roles(sites)
    bond_rows = analysis.parent_bonds(parent, starts["parent"], atom_roles)
    for sid, atoms in relaxed.items():
        kind = kind_of(sid)
        if kind == "doped":
            bond_rows += analysis.doped_bonds(sid, atoms, parent, int(atoms.info["site_index"]), centre)
        elif kind == "vacancy":
            doped_id = str(StructureId.parse(sid).doped())
            removed = int(atoms.info["vacancy_index"])
            bond_rows += analysis.vacancy_bonds(sid, atoms, relaxed[doped_id], parent, removed, kernel)
            bond_rows += analysis.vacancy_site_bonds(sid, atoms, relaxed[doped_id], parent, removed, atom_roles)
    bonds = pd.DataFrame(bond_rows, columns=analysis.BOND_COLUMNS)
    if not energies.empty:
        energies["role"] = [roles.get(r, r) for r in energies["role"]]
    return {
        "energies": energies,
        "fragmentation": fragmentation,
        "dopants": analysis.dopant_scan(energies, fragmentation),
        "bonds": bonds,
        "geometry": analysis.geometry_rows(relaxed),
        "connectivity": pd.DataFrame([analysis.connectivity_changes(sid, starts[sid], atoms)
                                      for sid, atoms in relaxed.items()], columns=analysis.CONNECTIVITY_COLUMNS),
        "basins": basins,
        "ccs": pd.DataFrame(columns=analysis.CCS_COLUMNS) if ccs is None else ccs,
        "compare": pd.concat([analysis.basin_verdict(basins, preset),
                              analysis.comparison(system.get("published", []), energies, fragmentation, bonds, preset,
                                                  ccs)],
                             ignore_index=True),
    }


def write_tables(tables: dict[str, pd.DataFrame], outdir: Path) -> list[Path]:
    """CSV (tidy, units in column names) and a Markdown rendering of each table."""
    written = []
    for name, frame in tables.items():
        stem = TABLES[name]
        written.append(write_text(outdir / f"{stem}.csv", frame.to_csv(index=False)))
        written.append(write_text(outdir / f"{stem}.md", to_markdown(frame) + "\n"))
    return written


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table (no extra dependency); a missing value is an empty cell."""
    def cell(x: Any) -> str:
        if isinstance(x, float):
            return "" if pd.isna(x) else f"{x:.4f}"
        return "" if x is None or x is pd.NA else str(x)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def database_rows(results: list[RelaxResult], relaxed: dict[str, Atoms], preset: str,
                  roles: dict[str, str]) -> list[tuple[Atoms, dict[str, Any]]]:
    """Each relaxed structure as `ase db` users expect it: calculator gpaw with its energy settings, the
    moment, and keys for the net charge, site role, relative energy within its ion (composition and charge), the path of
    its relaxation trajectory. (ASE's own ``charge`` column sums per-atom initial charges, none here.)"""
    from ase.calculators.singlepoint import SinglePointCalculator

    composition = {r.structure_id: analysis.metal_composition(r.formula) for r in results}
    ion = {r.structure_id: (composition[r.structure_id], int(r.charge)) for r in results}
    lowest: dict[tuple[str, int], float] = {}
    for r in results:
        lowest[ion[r.structure_id]] = min(r.energy, lowest.get(ion[r.structure_id], r.energy))
    rows = []
    for r in results:
        sid = StructureId.parse(r.structure_id)
        atoms = relaxed[str(sid)].copy()
        calc = SinglePointCalculator(atoms, energy=r.energy, forces=relaxed[str(sid)].get_forces(), magmom=r.magmom)
        calc.name, calc.parameters = "gpaw", dict(r.dft)
        atoms.calc = calc
        trajectory = r.trajectory() or ""
        rows.append((atoms, {
            "structure_id": str(sid), "kind": sid.kind, "composition": composition[str(sid)],
            "role": roles.get(sid.site or "", sid.site or ""), "preset": preset, "fingerprint": r.fingerprint,
            "converged": bool(r.converged), "net_charge": int(r.charge), "spin_state": r.spin_state,
            "relative_energy": r.energy - lowest[ion[str(sid)]], "trajectory": str(trajectory)}))
    return rows


def write_database(results: list[RelaxResult], relaxed: dict[str, Atoms], db_path: Path, preset: str,
                   roles: dict[str, str]) -> Path:
    """An ASE database of every relaxed structure (``database_rows``)."""
    from ase.db import connect

    def fill(tmp: Path) -> None:
        with connect(tmp, type="db") as db:
            for atoms, keys in database_rows(results, relaxed, preset, roles):
                db.write(atoms, **keys)

    return write_atomically(db_path, fill)


def show(name: str, preset: str, fmt: str, results_root: Path = Path("results")) -> str:
    """One table as text: table, csv, md or json."""
    if name not in TABLES:
        raise InputError(None, f"unknown table {name!r}", f"use one of {', '.join(TABLES)}")
    path = results_root / preset / "tables" / f"{TABLES[name]}.csv"
    if not path.is_file():
        raise InputError(path, "table not made yet", f"run: snakemake {path} --config preset={preset}")
    frame = pd.read_csv(path, keep_default_na=False)
    if fmt == "csv":
        return frame.to_csv(index=False).rstrip()
    if fmt == "md":
        return to_markdown(frame)
    if fmt == "json":
        return frame.to_json(orient="records", indent=2)
    if frame.empty:
        why = {"compare": " (the system has no published values: systems.<name>.published in the config)",
               "basis_energies": " (no basis check in this preset: basis_check.enabled in the config)",
               "basis_fragmentation": " (no basis check in this preset, or no fragmentation energies)",
               "basis_cost": " (no basis check in this preset: basis_check.enabled in the config)",
               "ccs": " (no cross sections in this preset: ccs.enabled in the config)"}.get(name, "")
        return f"{path}: no rows{why}; columns: {', '.join(frame.columns)}"
    return frame.to_string(index=False, float_format=lambda x: f"{x:.4f}")
