"""GPAW under MPI: how a run is started (one command line, one environment) and, inside it, who writes.

Outside a run: ``gpaw_argv`` is the one command line of every GPAW step (relax, basin check,
counterpoise), ``clusterdefects gpaw`` becomes it for the rules (``exec_gpaw``), and the benchmarks and
tests call it too.
Inside a run every rank executes the whole script; only rank 0 writes (``on_rank0``) and speaks (``say``).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

#: Environment of every GPAW run under MPI: one thread per rank, and OpenMPI allowed to run as root.
MPI_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                   "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
#: The package's modules that run under ``gpaw python -m``.
GPAW_MODULES = ("relax", "basin", "counterpoise", "singlepoint", "md")


def mpi_starter(configured: str, environ: Mapping[str, str] = os.environ) -> str:
    """The MPI launcher for a job: ``auto`` is srun inside a SLURM job and mpiexec elsewhere.

    Snakemake evaluates it where the job runs (in the SLURM job for the slurm profile), so one config
    serves a laptop and a cluster; any other value (``mpirun``, ``srun --mpi=pmix``) is used as given.
    """
    if configured != "auto":
        return configured
    return "srun" if environ.get("SLURM_JOB_ID") else "mpiexec"


def gpaw_argv(module: str, args: Sequence[str], ranks: int, starter: str = "auto",
              environ: Mapping[str, str] = os.environ) -> list[str]:
    """``<starter> -n <ranks> gpaw python -m clusterdefects.<module> <args>``, with the ``gpaw`` of this
    Python's environment (found whether or not it was activated)."""
    if module not in GPAW_MODULES:
        raise ValueError(f"not a GPAW module of clusterdefects: {module!r} (one of {GPAW_MODULES})")
    gpaw = Path(sys.executable).parent / "gpaw"
    return [*shlex.split(mpi_starter(starter, environ)), "-n", str(ranks), str(gpaw) if gpaw.exists() else "gpaw",
            "python", "-m", f"clusterdefects.{module}", *map(str, args)]


def gpaw_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    return {**environ, **MPI_ENVIRONMENT}


def exec_gpaw(module: str, args: Sequence[str], ranks: int, starter: str = "auto") -> NoReturn:
    """Become the MPI launcher of one GPAW step (exec, no child): a signal to this process (Ctrl-C, kill,
    Snakemake stopping its jobs) reaches the launcher, which ends every rank; no orphaned run is left."""
    argv = gpaw_argv(module, args, ranks, starter)
    os.execvpe(argv[0], argv, gpaw_environment())


# Inside a GPAW run -------------------------------------------------------------------------------

def world():
    from gpaw.mpi import world as gpaw_world

    return gpaw_world


def say(text: str) -> None:
    """Progress line from rank 0, flushed at once (the rule's log)."""
    if world().rank == 0:
        print(text, flush=True)


def on_rank0(action: Callable[[], Any]) -> None:
    """Rank 0 does ``action`` (writes, moves or removes files); then every rank waits for it, so no rank
    looks for a file before it is there. Whatever a rank decides from files, it decides before this."""
    if world().rank == 0:
        action()
    world().barrier()


def save_json(path: Path, data: Any) -> None:
    """Rank 0 writes ``data`` atomically; the others wait for it."""
    from .fileio import write_json

    on_rank0(lambda: write_json(path, data))


def exit_status(prog: str, subject: object, call: Callable[[], Any], errors: tuple[type[Exception], ...]) -> int:
    """The exit status of one step's ``main``: 0, or 2 after rank 0 printed a known error as
    '<prog>: error: <subject>: <error>' (the error names the fix)."""
    try:
        call()
    except errors as err:
        if world().rank == 0:
            where = f"{subject}: " if subject is not None else ""
            print(f"{prog}: error: {where}{err}", file=sys.stderr, flush=True)
        return 2
    return 0
