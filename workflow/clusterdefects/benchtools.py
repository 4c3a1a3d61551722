"""What the scripts in ``benchmarks/`` share: running a command into a log, the relax step's command
line (the rules' own, ``mpi.gpaw_argv``), and the wall time of each SCF iteration in a GPAW log."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from .mpi import gpaw_argv, gpaw_environment

#: The bin folder of this Python's environment (snakemake, clusterdefects, gpaw).
BIN = Path(sys.executable).parent


def sh(cmd: list[str], log: Path | None = None, cwd: Path | None = None) -> None:
    """Run ``cmd`` (in the MPI environment, this environment's commands first on PATH), appending its
    output to ``log``; exit with the command line and the log's path if it fails."""
    env = dict(gpaw_environment(), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    with open(log, "a") if log else open(os.devnull, "w") as out:
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT if log else None)
    if done.returncode != 0:
        sys.exit(f"{Path(sys.argv[0]).name}: failed: {shlex.join(map(str, cmd))}" + (f" (log: {log})" if log else ""))


def relax_command(start: Path | str, outdir: Path, settings: str, ranks: int, box_from: Path | str | None = None
                  ) -> list[str]:
    """`clusterdefects.relax` of one start under MPI (mpiexec), in the box of ``box_from`` if given."""
    box = ["--box-from", str(box_from)] if box_from else []
    return gpaw_argv("relax", [str(start), str(outdir), "--settings", settings, *box], ranks, "mpiexec")


#: A GPAW log's SCF line: iteration number and its HH:MM:SS stamp.
ITERATION_LINE = re.compile(r"^\|?iter:\s+(\d+)\|?\s+(\d\d:\d\d:\d\d)", re.M)


def _seconds_between(a: str, b: str) -> float:
    return (datetime.strptime(b, "%H:%M:%S") - datetime.strptime(a, "%H:%M:%S")).total_seconds() % 86400


def iteration_times(txt: Path) -> list[float]:
    """Wall-clock seconds of each SCF iteration, from GPAW's 'iter:' lines (HH:MM:SS stamps)."""
    stamps = [stamp for _, stamp in ITERATION_LINE.findall(txt.read_text())]
    return [_seconds_between(a, b) for a, b in zip(stamps, stamps[1:])]


def setup_seconds(txt: Path) -> float:
    """Seconds from a GPAW log's 'Date:' line to its first SCF iteration (Poisson set-up, basis, guess)."""
    text = txt.read_text()
    started = re.search(r"^Date:\s+.*?(\d\d:\d\d:\d\d)", text, re.M)
    first = next((stamp for number, stamp in ITERATION_LINE.findall(text) if number == "1"), None)
    return _seconds_between(started.group(1), first) if started and first else float("nan")
