"""Relaxation results (result.json) and the rules for combining them.

Energies are only combined when every result has the same fingerprint (identical settings) and,
unless the config allows it, a converged relaxation.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .ids import kind_of

SUMMARY_COLUMNS = ["structure_id", "kind", "formula", "charge", "energy_eV", "converged", "fmax_eV_per_A",
                   "steps", "force_calls", "spin_state", "magmom", "wall_time_s", "peak_memory_mb", "fingerprint"]


#: The line-search fallback of runs that do not name theirs (until 2026-12-05).
LEGACY_FALLBACK = "ODE12r"


def fallback_chain(at_step: int | None, fallbacks: list[list] | None) -> list[list]:
    """[optimizer, from step] of each force-only optimizer a run went on with; a run saved before they were
    named went on with ``LEGACY_FALLBACK`` from ``at_step``."""
    return list(fallbacks or ([] if at_step is None else [[LEGACY_FALLBACK, at_step]]))


@dataclass
class RelaxResult:
    """One relaxation's outcome, as result.json holds it: written by ``relax`` only (``write``), read by
    everything else (``read``). Keys this version does not know are kept in ``extra``."""

    structure_id: str
    formula: str
    charge: int
    energy: float
    converged: bool
    fmax: float
    fingerprint: str
    fmax_target: float | None = None
    optimizer: str | None = None
    #: The step from which ``relax.LINE_SEARCH_FALLBACK`` went on after the optimizer's line search failed.
    optimizer_fallback_at_step: int | None = None
    #: [optimizer, from step] of each force-only optimizer it went on with (``checkpoint.Progress.fallbacks``).
    optimizer_fallbacks: list[list] = field(default_factory=list)
    steps: int = 0
    force_calls: int = 0
    scf_iterations: int = 0
    scf_ladder: list[str] = field(default_factory=list)
    #: The run at other settings this one went on from (``checkpoint.continue_from``): fingerprint,
    #: optimizer, steps, force calls, SCF iterations and wall time there. None: from its start.
    continued_from: dict[str, Any] | None = None
    wall_time_s: float = 0.0
    wall_time_this_run_s: float = 0.0
    peak_memory_mb: float = 0.0
    mpi_ranks: int = 1
    box_A: list[float] | None = None
    magmom: float = 0.0
    spin_policy: str = "paired"
    spin_state: str = "paired"
    spin_energies: dict[str, float] = field(default_factory=dict)
    spin_moments: dict[str, float] = field(default_factory=dict)
    superatom_electrons: int | None = None
    closed_shell: bool | None = None
    displacement: dict[str, Any] | None = None
    point_group_start: dict[str, str] = field(default_factory=dict)
    point_group: dict[str, str] = field(default_factory=dict)
    dft: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    preset: str | None = None
    system: str | None = None
    energy_unit: str = "eV"
    extra: dict[str, Any] = field(default_factory=dict)
    #: Where it was read from (for error messages; not written).
    path: str | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str | Path | None = None) -> RelaxResult:
        names = {f.name for f in fields(cls)} - {"extra", "path"}
        missing = [f.name for f in fields(cls) if f.name in names and f.default is MISSING
                   and f.default_factory is MISSING and f.name not in data]
        if missing:
            raise InputError(path, f"not a relaxation result: no {', '.join(missing)}", "rerun that relaxation")
        factories = {f.name: f.default_factory for f in fields(cls) if f.default_factory is not MISSING}
        known = {k: (factories[k]() if v is None and k in factories else v) for k, v in data.items() if k in names}
        extra = {k: v for k, v in data.items() if k not in names and k != "path"}
        return cls(**known, extra=extra, path=None if path is None else str(path))

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "path")}
        return {**data, **self.extra}

    @classmethod
    def read(cls, path: str | Path) -> RelaxResult:
        """Read one result.json (clear error if missing or broken)."""
        from .fileio import read_json

        return cls.from_dict(read_json(path), path)

    def trajectory(self) -> Path | None:
        """The relaxation trajectory of the kept spin state (its checkpoint), where the result was read."""
        return Path(self.path).parent / "checkpoint" / self.spin_state / "relax.traj" if self.path else None

    def write(self, path: str | Path) -> Path:
        """Write result.json atomically."""
        from .fileio import write_json

        return write_json(path, self.to_dict())


def require_converged(result: RelaxResult, allow_unconverged: bool) -> None:
    """Refuse a relaxation that stopped at its step limit, unless the config allows it."""
    if not result.converged and not allow_unconverged:
        raise InputError(result.path, f"relaxation not converged (fmax {result.fmax:.3f} eV/Å after "
                         f"{result.steps} steps)", "raise relax.steps and rerun it, or set allow_unconverged: true")


#: How a structure was relaxed: one value per study (result.json key -> what it is).
RELAXATION_KEYS = {"optimizer": "optimizer", "fmax_target": "fmax target (eV/Å)"}


def check_combinable(results: list[RelaxResult], allow_unconverged: bool = False) -> str:
    """All results must share one fingerprint, one optimizer and one fmax target (and be converged);
    returns that fingerprint. Structures relaxed to another fmax, or by another optimizer, end in
    other points of a flat surface: 0.06-0.13 eV apart for the Ag28Hg isomers here."""
    if not results:
        raise InputError(None, "no results to combine", "run the relaxations first")
    reference = results[0]
    for result in results[1:]:
        if result.fingerprint != reference.fingerprint:
            raise InputError(result.path, f"settings fingerprint {result.fingerprint} differs from "
                             f"{reference.fingerprint} of {reference.path}; energies from different "
                             "settings cannot be compared", "rerun both with the same preset")
    for key, what in RELAXATION_KEYS.items():
        for result in results[1:]:
            if getattr(result, key) != getattr(reference, key):
                raise InputError(result.path, f"relaxed with {what} {getattr(result, key)}, {reference.path} with "
                                 f"{getattr(reference, key)}; energies of structures relaxed differently cannot be "
                                 "compared", "rerun it with the study's relax settings (one optimizer and fmax per study)")
    in_study_box = [r for r in results if r.box_A is not None and r.kind != "atom"]
    for result in in_study_box[1:]:
        if result.box_A != in_study_box[0].box_A:
            raise InputError(result.path, f"computed in a {result.box_A} Å box, {in_study_box[0].path} "
                             f"in {in_study_box[0].box_A} Å; energies from different grids cannot be compared",
                             "rerun it: the relax rule puts every isomer in the parent's box")
    for result in results:
        require_converged(result, allow_unconverged)
    return reference.fingerprint


def summary_frame(results: list[RelaxResult], allow_unconverged: bool = False) -> pd.DataFrame:
    """One row per structure, after checking the results may be combined."""
    check_combinable(results, allow_unconverged)
    rows = [{
        "structure_id": r.structure_id, "kind": r.kind or kind_of(r.structure_id),
        "formula": r.formula, "charge": r.charge, "energy_eV": r.energy, "converged": r.converged,
        "fmax_eV_per_A": r.fmax, "steps": r.steps, "force_calls": r.force_calls,
        "spin_state": r.spin_state, "magmom": r.magmom, "wall_time_s": r.wall_time_s,
        "peak_memory_mb": r.peak_memory_mb, "fingerprint": r.fingerprint,
    } for r in results]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
