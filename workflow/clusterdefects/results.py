"""Relaxation results (result.json) and the rules for combining them.

Energies are only combined when every result has the same fingerprint (identical settings) and,
unless the config allows it, a converged relaxation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .ids import kind_of

SUMMARY_COLUMNS = ["structure_id", "kind", "formula", "charge", "energy_eV", "converged", "fmax_eV_per_A",
                   "steps", "force_calls", "spin_state", "magmom", "wall_time_s", "peak_memory_mb", "fingerprint"]


def load_result(path: str | Path) -> dict[str, Any]:
    """Read one result.json (clear error if missing or broken)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "result not found", "run the relaxation for this structure first") from None
    except json.JSONDecodeError as err:
        raise InputError(path, f"broken result file ({err})", "delete it and rerun that relaxation") from None
    data["path"] = str(path)
    return data


def require_converged(result: dict[str, Any], allow_unconverged: bool) -> None:
    """Refuse a relaxation that stopped at its step limit, unless the config allows it."""
    if not result["converged"] and not allow_unconverged:
        raise InputError(result["path"], f"relaxation not converged (fmax {result['fmax']:.3f} eV/Å after "
                         f"{result['steps']} steps)", "raise relax.steps and rerun it, or set allow_unconverged: true")


#: How a structure was relaxed: one value per study (result.json key -> what it is).
RELAXATION_KEYS = {"optimizer": "optimizer", "fmax_target": "fmax target (eV/Å)"}


def check_combinable(results: list[dict[str, Any]], allow_unconverged: bool = False) -> str:
    """All results must share one fingerprint, one optimizer and one fmax target (and be converged);
    returns that fingerprint. Structures relaxed to another fmax, or by another optimizer, end in
    other points of a flat surface: 0.06-0.13 eV apart for the Ag28Hg isomers here."""
    if not results:
        raise InputError(None, "no results to combine", "run the relaxations first")
    reference = results[0]
    for result in results[1:]:
        if result["fingerprint"] != reference["fingerprint"]:
            raise InputError(result["path"], f"settings fingerprint {result['fingerprint']} differs from "
                             f"{reference['fingerprint']} of {reference['path']}; energies from different "
                             "settings cannot be compared", "rerun both with the same preset")
    for key, what in RELAXATION_KEYS.items():
        for result in results[1:]:
            if result.get(key) != reference.get(key):
                raise InputError(result["path"], f"relaxed with {what} {result.get(key)}, {reference['path']} with "
                                 f"{reference.get(key)}; energies of structures relaxed differently cannot be compared",
                                 "rerun it with the study's relax settings (one optimizer and fmax per study)")
    in_study_box = [r for r in results if "box_A" in r and r.get("kind") != "atom"]
    for result in in_study_box[1:]:
        if result["box_A"] != in_study_box[0]["box_A"]:
            raise InputError(result["path"], f"computed in a {result['box_A']} Å box, {in_study_box[0]['path']} "
                             f"in {in_study_box[0]['box_A']} Å; energies from different grids cannot be compared",
                             "rerun it: the relax rule puts every isomer in the parent's box")
    for result in results:
        require_converged(result, allow_unconverged)
    return reference["fingerprint"]


def summary_frame(results: list[dict[str, Any]], allow_unconverged: bool = False) -> pd.DataFrame:
    """One row per structure, after checking the results may be combined."""
    check_combinable(results, allow_unconverged)
    rows = [{
        "structure_id": r["structure_id"], "kind": r.get("kind", kind_of(r["structure_id"])),
        "formula": r["formula"], "charge": r["charge"], "energy_eV": r["energy"], "converged": r["converged"],
        "fmax_eV_per_A": r["fmax"], "steps": r["steps"], "force_calls": r["force_calls"],
        "spin_state": r["spin_state"], "magmom": r["magmom"], "wall_time_s": r["wall_time_s"],
        "peak_memory_mb": r["peak_memory_mb"], "fingerprint": r["fingerprint"],
    } for r in results]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
