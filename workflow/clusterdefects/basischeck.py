"""The basis check: the study's relaxed geometries recomputed at a larger basis (one SCF each), beside the
relaxation energies. The check's energies have their own fingerprint and are never mixed with the
relaxations': every table compares like with like and sets the two side by side.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import analysis
from .errors import InputError
from .fileio import read_json
from .results import RelaxResult


#: The tables ``basis_tables`` makes (empty where the check is off).
BASIS_TABLES = ("basis_energies", "basis_fragmentation", "basis_cost", "basis_spin")


def check_results(results: list[RelaxResult], checks: dict[str, dict[str, Any]]) -> list[RelaxResult]:
    """The relaxations with their energies replaced by the check's (one fingerprint for all, or an error)."""
    fingerprints = {c["fingerprint"] for c in checks.values()}
    if len(fingerprints) > 1:
        raise InputError(None, f"basis-check single points with different settings: {sorted(fingerprints)}",
                         "rerun them: snakemake --forcerun basis_check")
    missing = [r.structure_id for r in results if r.structure_id not in checks]
    if missing:
        raise InputError(None, f"no basis check for {', '.join(missing)}", "run the basis_check rule for them")
    out = []
    for r in results:
        c = checks[r.structure_id]
        same_box = r.box_A is None or np.allclose(c["box_A"], r.box_A, atol=1e-3)
        if c["relaxation_fingerprint"] != r.fingerprint or c["spin_state"] != r.spin_state or not same_box:
            raise InputError(c.get("path"), "the check was made from another relaxation, spin state or box",
                             "rerun it: snakemake --forcerun basis_check")
        out.append(replace(r, energy=float(c["energy"]), fingerprint=c["fingerprint"],
                           spin_energies={r.spin_state: float(c["energy"])}))
    return out


def load_checks(paths: list[Path]) -> dict[str, dict[str, Any]]:
    checks = {}
    for path in paths:
        data = read_json(path, "basis check")
        checks[data["structure_id"]] = {**data, "path": str(path)}
    return checks


def side_by_side(base: pd.DataFrame, check: pd.DataFrame, keys: list[str], value: str, basis: tuple[str, str]
                 ) -> pd.DataFrame:
    """Two tables of one quantity at two bases, joined on ``keys``, with the change and each basis' rank."""
    a, b = (f"{value}_{name}" for name in basis)
    merged = base[keys + [value]].rename(columns={value: a}).merge(
        check[keys + [value]].rename(columns={value: b}), on=keys)
    merged[f"change_{value}"] = merged[b] - merged[a]
    return merged


def ordering_rows(energies: pd.DataFrame, basis: tuple[str, str], preset: str) -> pd.DataFrame:
    """Comparison rows, one per composition: does the order of the isomers change between the two bases?"""
    a, b = (f"relative_energy_eV_{name}" for name in basis)
    rows = []
    for (comp, charge), sel in energies.groupby(["composition", "charge"], sort=False):
        order_a, order_b = (" < ".join(sel.sort_values(col)["role"]) for col in (a, b))
        verdict = (f"unchanged: {order_a}" if order_a == order_b
                   else f"CHANGES: {order_a} ({basis[0]}) -> {order_b} ({basis[1]})")
        rows.append(analysis.comparison_row(f"{comp} ({charge:+d}) isomer order, basis check {basis[1]} vs {basis[0]}", "",
                                            verdict, preset, source="this run (basis_check)"))
    return pd.DataFrame(rows, columns=analysis.COMPARISON_COLUMNS)


def basis_tables(results: list[RelaxResult], checks: dict[str, dict[str, Any]], corrections: dict[str, float],
                 check_corrections: dict[str, float], basis: tuple[str, str]) -> dict[str, pd.DataFrame]:
    """Relative, vacancy and fragmentation energies (raw and counterpoise-corrected) at both bases, side by
    side, and each single point's cost."""
    checked = check_results(results, checks)
    rel = side_by_side(analysis.relative_energies(results, {}), analysis.relative_energies(checked, {}),
                       ["composition", "charge", "kind", "structure_id", "role"], "relative_energy_eV", basis)
    frag_a = analysis.fragmentation_energies(results, corrections)
    frag_b = analysis.fragmentation_energies(checked, check_corrections)
    keys = ["parent_id", "product_id"]
    frag = pd.DataFrame(columns=keys)
    if not frag_a.empty:
        frag = side_by_side(frag_a, frag_b, keys, "fragmentation_energy_eV", basis)
        for value in ("counterpoise_correction_eV", "fragmentation_energy_cp_eV"):
            frag = frag.merge(side_by_side(frag_a, frag_b, keys, value, basis), on=keys)
    cost = pd.DataFrame([{"structure_id": sid, "basis": basis[1], "spin_state": point["spin_state"],
                          "scf_iterations": point["scf_iterations"], "wall_time_s": point["wall_time_s"],
                          "peak_memory_mb": c.get("peak_memory_mb")}
                         for sid, c in checks.items() for point in (c, c.get("other_spin")) if point])
    return {"basis_energies": rel, "basis_fragmentation": frag, "basis_cost": cost,
            "basis_spin": spin_gaps(results, checks, basis)}


def spin_gaps(results: list[RelaxResult], checks: dict[str, dict[str, Any]], basis: tuple[str, str]) -> pd.DataFrame:
    """Where a relaxation computed both spin states: the other state's energy minus the kept one's at each
    basis (positive: the kept state is lower). At the relaxation's basis each state is relaxed; at the check's
    basis both are at the kept state's geometry. ``kept_at_both``: the same state is the lower at both."""
    columns = ["structure_id", "kept_spin_state", "other_spin_state", f"spin_gap_eV_{basis[0]}",
               f"spin_gap_eV_{basis[1]}", "kept_at_both"]
    rows = []
    for r in results:
        other = checks.get(r.structure_id, {}).get("other_spin")
        if not other or other["spin_state"] not in r.spin_energies:
            continue
        gap_a = r.spin_energies[other["spin_state"]] - r.energy
        gap_b = float(checks[r.structure_id]["spin_gap_eV"])
        rows.append(dict(zip(columns, [r.structure_id, r.spin_state, other["spin_state"], gap_a, gap_b,
                                       bool(gap_a >= 0) == bool(gap_b >= 0)])))
    return pd.DataFrame(rows, columns=columns)
