"""A relaxation's checkpoint: what it must match to be resumed, where it resumes, and the Hessian it
may start with. Layout of ``<outdir>/checkpoint/<spin>/``: identity.json, relax.traj (every step),
optimizer.json (the optimizer's state), progress.json (``Progress``); ``<outdir>/running.json`` while
a run is alive. Every rank calls these functions; only rank 0 touches the files (``mpi.on_rank0``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io.trajectory import Trajectory

from .dft import DFTSettings, box_for
from .errors import InputError
from .mpi import on_rank0, save_json, say, world
from .results import fallback_chain
from .status import RUNNING_FILE


@dataclass
class Progress:
    """Counters that survive a restart (saved beside the trajectory after every step)."""

    steps: int = 0
    force_calls: int = 0
    scf_iterations: int = 0
    wall_time_s: float = 0.0
    rung: int = 0
    rungs_tried: list[str] = field(default_factory=list)
    #: The step at which the optimizer's line search failed and ``relax.LINE_SEARCH_FALLBACK`` took over.
    fallback_at_step: int | None = None
    #: [optimizer, from step] of each force-only optimizer the run went on with, in order.
    fallbacks: list[list] = field(default_factory=list)
    #: The checkpoint at other settings this run went on from (``continue_from``): its fingerprint, optimizer
    #: and counters. None: it started from its start.
    continued_from: dict | None = None
    #: The Exp preconditioner's mu (PreconLBFGS on 100 atoms or more): ASE estimates it with two extra DFT
    #: calls; kept so that a resumed run, or the next spin state, does not estimate it again.
    precon_mu: float | None = None

    @classmethod
    def load(cls, path: Path) -> Progress:
        saved = json.loads(path.read_text()) if path.is_file() else {}
        progress = cls(**{key: value for key, value in saved.items() if key in cls.__dataclass_fields__})
        progress.fallbacks = fallback_chain(progress.fallback_at_step, progress.fallbacks)
        return progress


def structure_digest(atoms: Atoms) -> str:
    """A short hash of a structure's elements and positions (to 1e-5 Å): what a saved state was started from."""
    return hashlib.sha256(np.round(atoms.positions, 5).tobytes() + str(atoms.symbols).encode()).hexdigest()[:16]


def checkpoint_identity(start: Atoms, dft: DFTSettings, optimizer: str, spin: str, charge: int,
                        box: np.ndarray | None = None) -> dict:
    """What a checkpoint must match to be resumed: start geometry, settings, box, optimizer, spin, charge."""
    digest = structure_digest(start)
    edges = box_for(start, dft.vacuum, dft.h) if box is None else np.asarray(box)
    return {"start": digest, "fingerprint": dft.fingerprint(), "box": [round(float(x), 4) for x in edges],
            "optimizer": optimizer, "spin": spin, "charge": charge}


def prepare_checkpoint(workdir: Path, identity: dict) -> None:
    """Keep a matching checkpoint; move a stale one (other start or settings) aside to ``<spin>.stale`` and
    start afresh."""
    id_path = workdir / "identity.json"
    stale = id_path.is_file() and json.loads(id_path.read_text()) != identity
    world().barrier()  # every rank has looked before rank 0 may move the folder
    if stale:
        say(f"checkpoint in {workdir} is for another start or other settings: starting afresh")

        def move_aside() -> None:
            aside = workdir.with_name(workdir.name + ".stale")
            shutil.rmtree(aside, ignore_errors=True)
            workdir.rename(aside)

        on_rank0(move_aside)
    on_rank0(lambda: workdir.mkdir(parents=True, exist_ok=True))
    save_json(id_path, identity)


#: What a stale checkpoint must share with a run for the run to go on from its last frame: the same start
#: in the same spin state and charge; the settings (fingerprint), the box or the optimizer may differ.
SAME_STRUCTURE = ("start", "spin", "charge")


def continue_from(atoms: Atoms, workdir: Path, identity: dict) -> dict | None:
    """Move ``atoms`` (the run's start, placed in its box) to the last frame of the checkpoint moved aside
    (``<spin>.stale``, ``prepare_checkpoint``), moved as its start was moved between the two boxes, when it
    relaxed the same start in the same state at other settings or in another box; returns what it was (None: nothing to go on from). Call it only while ``workdir`` has no
    frame of its own.

    The energy and forces of the run are all at its own settings: the stale run only chose where it starts,
    as a pre-relaxation would. A run from the start itself may end in another local minimum."""
    aside = workdir.with_name(workdir.name + ".stale")
    try:
        stale = json.loads((aside / "identity.json").read_text())
    except (OSError, ValueError):
        return None
    if any(stale.get(key) != identity[key] for key in SAME_STRUCTURE):
        return None
    try:
        with Trajectory(str(aside / "relax.traj")) as frames:
            first, last = frames[0], frames[-1]
    except Exception:  # no frame, or a trajectory cut mid-write
        return None
    # The same start, placed by ``boxed`` in each box: the stale run's frames move by the offset between the two
    # placements, so the continued run sits on the grid where its start does (dft.BOX_RULE).
    atoms.positions[:] = last.positions + (atoms.positions - first.positions).mean(axis=0)
    earlier = Progress.load(aside / "progress.json")
    return {"fingerprint": stale["fingerprint"], "box": stale["box"], "optimizer": stale["optimizer"],
            "steps": earlier.steps, "force_calls": earlier.force_calls, "scf_iterations": earlier.scf_iterations,
            "wall_time_s": round(earlier.wall_time_s, 1)}


def has_frames(traj_path: Path) -> bool:
    """Whether a trajectory file holds anything (it may still be cut mid-write)."""
    return traj_path.is_file() and traj_path.stat().st_size > 0


def resume_positions(atoms: Atoms, traj_path: Path) -> int:
    """Move ``atoms`` to the last saved step; returns the number of saved frames."""
    if not has_frames(traj_path):
        return 0
    try:
        with Trajectory(str(traj_path)) as frames:
            n = len(frames)
            if n:
                atoms.positions[:] = frames[-1].positions
        return n
    except Exception:  # a trajectory cut mid-write: start this state again
        on_rank0(lambda: traj_path.unlink(missing_ok=True))
        return 0


def forget_optimizer_state(opt_path: Path) -> None:
    """Drop a saved optimizer state; the run continues from its last frame afresh."""
    on_rank0(lambda: opt_path.unlink(missing_ok=True))


def seed_hessian(opt_path: Path, source: Path, atoms: Atoms, drop_atom: int | None = None) -> bool:
    """Start a BFGS run at ``atoms`` with the Hessian another run ended with.

    The seeded state says "already at these positions", so the first step uses the Hessian as it is
    and no forces of the other run enter the update. The other run had the same atoms or, with
    ``drop_atom`` (a vacancy made from it), one atom more, whose rows and columns are removed.
    """
    from ase.io.jsonio import read_json, write_json

    try:
        with open(source) as fd:
            hessian, _, _, maxstep = read_json(fd)[:4]
    except (OSError, ValueError, TypeError):
        return False
    hessian = np.asarray(hessian)
    n = 3 * len(atoms)
    if drop_atom is not None and hessian.shape == (n + 3, n + 3):
        keep = np.delete(np.arange(n + 3), np.arange(3 * drop_atom, 3 * drop_atom + 3))
        hessian = hessian[np.ix_(keep, keep)]
    if hessian.shape != (n, n):
        return False

    def write() -> None:
        with open(opt_path, "w") as fd:
            write_json(fd, (hessian, atoms.positions.ravel().copy(), np.zeros(n), maxstep))

    on_rank0(write)
    return True


def final_hessian(relaxed_dir: Path) -> Path | None:
    """The BFGS state a finished relaxation ended with (its kept spin state), if there is one."""
    from .results import RelaxResult

    try:
        spin = RelaxResult.read(relaxed_dir / "result.json").spin_state
    except InputError:
        return None
    path = relaxed_dir / "checkpoint" / spin / "optimizer.json"
    return path if path.is_file() else None


def mark_running(outdir: Path) -> None:
    """Say who is relaxing this structure (host, rank 0's pid, SLURM job), so that ``clusterdefects
    status`` tells a live run from a killed one; ``mark_finished`` removes it."""
    save_json(outdir / RUNNING_FILE, {"host": socket.gethostname(), "pid": os.getpid(),
                                      "slurm_job_id": os.environ.get("SLURM_JOB_ID"), "started": time.time()})


def mark_finished(outdir: Path) -> None:
    on_rank0(lambda: (outdir / RUNNING_FILE).unlink(missing_ok=True))
