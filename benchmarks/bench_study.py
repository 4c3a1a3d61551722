"""The whole study of a preset on this machine: wall time, CPU time and peak memory per job.

    .venv/bin/python benchmarks/bench_study.py --run [--preset screen] [--cores 2]  # run it, then report
    .venv/bin/python benchmarks/bench_study.py [--preset screen]                    # report a run's files

With --run it runs `snakemake --profile profiles/local --config preset=<preset>` here, timed end to
end; getrusage gives the CPU time of all its processes and the largest resident set of any one of them.
A run that was stopped resumes from its checkpoints, so it only times what was left. The report
reads each results/<preset>/relax/*/result.json, whether or not the run is complete. For each
relaxation it gives steps, force calls, wall time (summed over restarts) and peak RSS per MPI rank
times the ranks. The totals are compared with the targets (60 min wall, 12 GiB peak).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from clusterdefects.results import RelaxResult

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_WALL_MIN = 60.0
TARGET_PEAK_GIB = 12.0


def run_study(preset: str, cores: int) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    t0 = time.perf_counter()
    done = subprocess.run([str(BIN / "snakemake"), "--profile", "profiles/local", "--cores", str(cores),
                           "--config", f"preset={preset}"], cwd=ROOT, env=env)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nsnakemake exit {done.returncode}; end-to-end wall {wall / 60:.1f} min "
          f"(target {TARGET_WALL_MIN:.0f}, ratio {wall / 60 / TARGET_WALL_MIN:.2f}); CPU time of all "
          f"processes {(usage.ru_utime + usage.ru_stime) / 60:.1f} min; largest process RSS "
          f"{usage.ru_maxrss / 1024:.0f} MiB")


def report(preset: str) -> None:
    results = sorted((ROOT / f"results/{preset}/relax").glob("*/result.json"))
    if not results:
        sys.exit(f"bench_study: no results/{preset}/relax/*/result.json yet. Fix: run with --run.")
    print(f"{'structure':<26} {'steps':>5} {'force calls':>11} {'wall min':>8} {'peak MiB':>9} {'conv':>5}")
    total_wall = 0.0
    peak = 0.0
    for path in results:
        r = RelaxResult.read(path)
        job_peak = r.peak_memory_mb * r.mpi_ranks
        total_wall += r.wall_time_s
        peak = max(peak, job_peak)
        print(f"{r.structure_id:<26} {r.steps:>5} {r.force_calls:>11} {r.wall_time_s / 60:>8.1f} "
              f"{job_peak:>9.0f} {str(r.converged):>5}")
    pending = sorted(p.parent.name for p in (ROOT / f"results/{preset}/relax").glob("*/start.xyz")
                     if not (p.parent / "result.json").exists())
    print(f"\n{len(results)} relaxations done, {len(pending)} not yet: {', '.join(pending) or '-'}")
    print(f"DFT wall time, summed (one job at a time): {total_wall / 60:.1f} min "
          f"(target {TARGET_WALL_MIN:.0f} min for the whole study, ratio {total_wall / 60 / TARGET_WALL_MIN:.2f})")
    print(f"peak memory of any job (RSS per rank x ranks): {peak / 1024:.2f} GiB "
          f"(target {TARGET_PEAK_GIB:.0f} GiB, ratio {peak / 1024 / TARGET_PEAK_GIB:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--run", action="store_true", help="run the study first (resumes a stopped one)")
    args = parser.parse_args()
    if args.run:
        run_study(args.preset, args.cores)
    report(args.preset)


if __name__ == "__main__":
    main()
