"""Where a study stands: one line per relaxation, read from its checkpoints and result files only.

Works while Snakemake runs (locally or on SLURM: every job writes its checkpoint into the shared
results folder) and after it was killed; it starts nothing and takes no lock.

States: ``waiting`` (nothing written yet), ``running`` (the process or SLURM job that
``running.json`` names is alive; where that cannot be told, a checkpoint or GPAW log written within
``ACTIVE_S``), ``stopped`` (a checkpoint and no live run: killed, or copied or cloned without its
marker; the next run resumes it),
``stale`` (a checkpoint or result made with other settings: the next run starts it afresh), ``failed``
(the rule's log ends in an error), ``done`` (result.json with the study's settings).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .results import RelaxResult, fallback_chain
from .study import Study

#: The marker a running relaxation keeps beside its checkpoint (``relax.mark_running``).
RUNNING_FILE = "running.json"

#: A relaxation whose checkpoint or GPAW log changed within this many seconds counts as running (an
#: open-shell SCF of Ag28(BDT)12 writes a line every ~10 s; the Poisson set-up takes ~40 s).
ACTIVE_S = 600.0
#: How many of the last fmax values the trend shows.
TREND = 4


@dataclass
class StructureStatus:
    """One relaxation of a study, as its files show it."""

    structure_id: str
    state: str = "waiting"
    spin: str = ""
    step: int | None = None
    energy: float | None = None
    fmax: float | None = None
    dft_calls: int | None = None
    elapsed_s: float = 0.0
    ranks: int | None = None
    fmax_trend: list[float] = field(default_factory=list)
    note: str = ""


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _last_frames(traj: Path, n: int) -> list[tuple[float, float]]:
    """(energy, fmax) of the last ``n`` frames of a trajectory another process may be appending to."""
    from ase.io.trajectory import Trajectory

    from .dft import fmax_of

    try:
        with Trajectory(str(traj)) as frames:
            picked = [frames[i] for i in range(max(len(frames) - n, 0), len(frames))]
        return [(float(a.get_potential_energy()), fmax_of(a.get_forces())) for a in picked]
    except Exception:  # missing, empty or cut mid-write: no frames to show yet
        return []


def _newest_mtime(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def _failed(log: Path) -> str:
    """The error line a rule's log ends with, or ''."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in lines if "error:" in line.lower() or line.startswith("Traceback")]
    return errors[-1].strip()[:120] if errors else ""


def run_alive(marker: dict[str, Any] | None) -> bool | None:
    """Whether the run a ``running.json`` names is alive: its SLURM job in squeue, or its process on
    this host; False with no marker (every run writes one first); None where that cannot be told
    (another host, no squeue)."""
    import os
    import socket
    import subprocess

    if not marker:
        return False
    if marker.get("slurm_job_id"):
        try:
            out = subprocess.run(["squeue", "-h", "-j", str(marker["slurm_job_id"]), "-o", "%T"],
                                 capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.returncode == 0 and out.stdout.strip() in ("RUNNING", "COMPLETING", "CONFIGURING")
    if marker.get("host") != socket.gethostname():
        return None
    try:
        pid = int(marker["pid"])
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except (ValueError, KeyError, TypeError):
        return None
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process not yet reaped (in a container nothing may ever reap it) is not alive."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def _same_settings(identity: dict[str, Any] | None, fingerprint: str, optimizer: str) -> bool:
    """A checkpoint's identity names these settings (or names none)."""
    return not identity or (identity.get("fingerprint") == fingerprint and identity.get("optimizer") == optimizer)


def relaxation_status(sid: str, folder: Path, log: Path, fingerprint: str, optimizer: str,
                      now: float | None = None, active_s: float = ACTIVE_S,
                      spin_policy: str | None = None) -> StructureStatus:
    """The state of one relaxation from its folder (result.json, checkpoint/<spin>/, logs/) and rule log;
    a result is current if made with ``fingerprint``, ``optimizer`` and (if given) ``spin_policy``."""
    now = time.time() if now is None else now
    status = StructureStatus(sid)
    if (folder / "result.json").is_file():
        try:
            result = RelaxResult.read(folder / "result.json")
        except InputError as err:
            status.state, status.note = "failed", str(err)[:120]
            return status
        same = result.fingerprint == fingerprint and result.optimizer == optimizer \
            and spin_policy in (None, result.spin_policy)
        status.state = "done" if same else "stale"
        status.note = "" if same else "result made with other settings: the next run redoes it"
        status.spin, status.step, status.energy = result.spin_state, result.steps, result.energy
        status.fmax, status.dft_calls = result.fmax, result.force_calls
        status.elapsed_s, status.ranks = result.wall_time_s, result.mpi_ranks
        if same and not result.converged:
            status.note = f"not converged (fmax target {result.fmax_target})"
        elif same and result.optimizer_fallback_at_step is not None:
            status.note = fallback_note(fallback_chain(result.optimizer_fallback_at_step, result.optimizer_fallbacks))
        return status
    states = sorted((d for d in (folder / "checkpoint").glob("*") if d.is_dir() and not d.name.endswith(".stale")),
                    key=lambda d: _newest_mtime(list(d.iterdir())))
    if not states:
        error = _failed(log)
        if error:
            status.state, status.note = "failed", error
        return status
    spent = {state: float((_read_json(state / "progress.json") or {}).get("wall_time_s", 0.0)) for state in states}
    here = [state for state in states if _same_settings(_read_json(state / "identity.json"), fingerprint, optimizer)]
    # A run at these settings: its own time (a spin state left from other settings is redone, not resumed).
    status.elapsed_s += sum(spent[state] for state in here) if here else sum(spent.values())
    current = states[-1]
    progress = _read_json(current / "progress.json") or {}
    identity = _read_json(current / "identity.json") or {}
    frames = _last_frames(current / "relax.traj", TREND)
    status.spin, status.step, status.dft_calls = current.name, progress.get("steps", 0), progress.get("force_calls", 0)
    if frames:
        status.energy, status.fmax = frames[-1]
        status.fmax_trend = [f for _, f in frames]
    touched = _newest_mtime([*current.iterdir(), *(folder / "logs").glob("gpaw-*.txt")])
    alive = run_alive(_read_json(folder / RUNNING_FILE))
    if identity and not _same_settings(identity, fingerprint, optimizer):
        status.state, status.note = "stale", "checkpoint made with other settings: the next run starts afresh (or goes on from it: relax.continue_other_settings)"
    elif alive or (alive is None and now - touched < active_s):
        status.state = "running"  # and for the time since its last saved step
        status.elapsed_s += now - _newest_mtime([current / "progress.json", current / "identity.json"])
    else:
        error = _failed(log)
        status.state = "failed" if error else "stopped"
        status.note = error or f"nothing written for {(now - touched) / 60:.0f} min: the next run resumes it"
    if not status.note and progress.get("fallback_at_step") is not None:
        status.note = fallback_note(fallback_chain(progress["fallback_at_step"], progress.get("fallbacks")))
    return status


def fallback_note(fallbacks: list[list]) -> str:
    """Which force-only optimizers a relaxation went on with, from which steps."""
    chain = ", ".join(f"{name} from step {step}" for name, step in fallbacks)
    return f"{chain} (the line search failed at the SCF's noise)"


def study_status(study: Study, results_root: Path = Path("results"), now: float | None = None,
                 ids: list[str] | None = None) -> list[StructureStatus]:
    """One status per relaxation of the study (or of ``ids``), in the study's order."""
    root = results_root / study.preset
    fingerprint = study_fingerprint(study)
    optimizer = study.settings["relax"]["optimizer"]
    rows = [relaxation_status(sid, root / "relax" / sid, root / "logs" / f"relax-{sid}.log", fingerprint, optimizer, now,
                              spin_policy=study.spin_policy(sid)) for sid in ids or study.structure_ids()]
    for row in rows:
        row.ranks = row.ranks or study.resources()["tasks"]
    return rows


def search_status(study: Study, results_root: Path = Path("results"), now: float | None = None) -> list[StructureStatus]:
    """One status per parent-search candidate that has begun (``snakemake results/<preset>/parent_search.csv``)."""
    begun = [sid for sid in study.search_ids() if (results_root / study.preset / "relax" / sid).is_dir()]
    return study_status(study, results_root, now, begun) if begun else []


def study_fingerprint(study: Study) -> str:
    """The fingerprint of the study's DFT settings (what its relaxations and later steps must share)."""
    from .dft import DFTSettings

    return DFTSettings.from_config(study.settings["dft"]).fingerprint()


def made_with(record: Path) -> str | None:
    """The relaxation settings a step's record was made with (``relaxation_fingerprint``, else ``fingerprint``);
    None where it records none or is missing (a cross section with the smoke preset's uniform charges)."""
    data = _read_json(record) or {}
    return data.get("relaxation_fingerprint", data.get("fingerprint"))


def step_files(study: Study, results_root: Path = Path("results")) -> dict[str, tuple[int, int, int]]:
    """Done, total and stale (made at other settings: Snakemake does not redo them, ``--forcerun`` does) of the
    steps after the relaxations (basin checks, counterpoise corrections, basis checks, cross sections). Each
    output is judged by its own record, a cross section by its charges file."""
    def here(path: str) -> Path:
        return results_root / Path(path).relative_to("results")

    fingerprint = study_fingerprint(study)
    ccs = [(f, study.ccs_inputs(sid).get("charges", f)) for f, sid in zip(study.ccs_files(), study.ccs_ids())]
    steps = {"basin checks": study.basin_files(), "counterpoise": study.counterpoise_files(),
             "basis checks": study.basis_check_files()}
    records = {**{name: [(f, f) for f in paths] for name, paths in steps.items()}, "cross sections": ccs}
    def is_stale(output: Path, record: Path) -> bool:  # a record newer than its output: Snakemake redoes it
        older = record != output and record.is_file() and output.stat().st_mtime < record.stat().st_mtime
        return older or made_with(record) not in (None, fingerprint)

    counts = {}
    for name, pairs in records.items():
        found = [(here(output), here(record)) for output, record in pairs if here(output).is_file()]
        stale = sum(is_stale(output, record) for output, record in found)
        if pairs:
            counts[name] = (len(found) - stale, len(pairs), stale)
    return counts


def md_stage_is_stale(study: Study, engine: str, sid: str, ensemble: str, results_root: Path) -> bool:
    """Whether an MD stage's folder holds a run of other settings or another start (the next run sets it
    aside and begins afresh)."""
    from .md import MDSettings, engine_fingerprint, load_start

    def here(path: str) -> Path:
        return results_root / Path(path).relative_to("results")

    stage = results_root / study.preset / "md" / engine / sid / ensemble
    start = here(study.md_start(sid)) if ensemble == "min" else stage.parent / "min/minimized.xyz"
    saved = stage / "fingerprint.json"
    if not (saved.is_file() and start.is_file()):
        return False
    cfg = study.md_config(engine, ensemble)
    atoms, meta = load_start(start)
    box = here(study.box_source("parent")[0]) if engine == "gpaw" else None
    expected = engine_fingerprint(engine, ensemble, MDSettings.from_config(cfg["md"]), cfg.get("dft"), atoms,
                                  meta["charge"], box)
    return json.loads(saved.read_text()) != expected


def md_status(study: Study, results_root: Path = Path("results")) -> list[str]:
    """One line per MD run that has started: each stage's steps done of its total and the speed, or that
    it is stale (other settings or another start: the next run begins it afresh)."""
    import pandas as pd

    lines = []
    total = {"nve": study.md.get("nve_steps", 100), "nvt": study.md.get("steps", 2000)}
    for engine, sid in study.md_runs():
        run = results_root / study.preset / "md" / engine / sid
        if not run.is_dir():
            continue
        parts = []
        stale = {e for e in ("min", "nve", "nvt") if md_stage_is_stale(study, engine, sid, e, results_root)}
        if "min" in stale:
            parts.append("min stale (the next run begins it afresh)")
        elif (run / "min/summary.json").is_file():
            parts.append("min done")
        elif (run / "min").is_dir():
            parts.append("min not finished")
        for ensemble in ("nve", "nvt"):
            steps = run / ensemble / "steps.csv"
            if ensemble in stale:
                parts.append(f"{ensemble} stale")
                continue
            if not steps.is_file():
                continue
            table = pd.read_csv(steps)
            done = "done" if (run / ensemble / "summary.json").is_file() else "so far"
            speed = table["s_per_step"].iloc[1:].mean() if len(table) > 1 else float("nan")
            parts.append(f"{ensemble} {int(table['step'].iloc[-1])}/{total[ensemble]} steps {done} "
                         f"({table['time_fs'].iloc[-1] / 1000:.2f} ps, {speed:.1f} s/step)")
        lines.append(f"md {engine} {sid}: {', '.join(parts) or 'started'}")
    return lines


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def format_row(r: StructureStatus) -> str:
    """One relaxation's line of the status table."""
    trend = " > ".join(f"{f:.3f}" for f in r.fmax_trend) if r.state == "running" else ""
    return (f"{r.structure_id:<24} {r.state:<8} {r.spin:<9} {_cell(r.step, 'd'):>5} {_cell(r.energy, '.5f'):>13} "
            f"{_cell(r.fmax, '.3f'):>7} {_cell(r.dft_calls, 'd'):>5} {r.elapsed_s / 60:7.1f}m  "
            f"{'; '.join(x for x in (trend, r.note) if x)}".rstrip())


def format_search(rows: list[StructureStatus], study: Study) -> list[str]:
    """The parent-search candidates that have begun, below the study's table (nothing if none has)."""
    if not rows:
        return []
    done = sum(r.state == "done" for r in rows)
    return [f"parent search: {done}/{len(study.search_ids())} candidates done, {len(rows)} begun", *map(format_row, rows)]


def format_status(rows: list[StructureStatus], study: Study, steps: dict[str, tuple[int, int, int]]) -> str:
    """The table ``clusterdefects status`` prints, with totals below it."""
    head = (f"{'structure':<24} {'state':<8} {'spin':<9} {'step':>5} {'energy eV':>13} {'fmax':>7} "
            f"{'calls':>5} {'elapsed':>8}  fmax trend / note")
    lines = [f"study {study.preset} ({study.system_name}): {len(rows)} relaxations", head, "-" * len(head)]
    lines += [format_row(r) for r in rows]
    done = sum(r.state == "done" for r in rows)
    cpu_h = sum(r.elapsed_s * (r.ranks or 1) for r in rows) / 3600
    counts = ", ".join(f"{n} {s}" for s in ("running", "stopped", "failed", "stale", "waiting")
                       if (n := sum(r.state == s for r in rows)))
    singles = ", ".join(f"{name} {d}/{t}" + (f" ({s} stale)" if s else "") for name, (d, t, s) in steps.items())
    lines.append(f"relaxations done {done}/{len(rows)}{f' ({counts})' if counts else ''}; {singles}; "
                 f"CPU time so far {cpu_h:.2f} core-hours")
    return "\n".join(lines)
