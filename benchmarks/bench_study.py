"""The whole study of a preset on this machine: wall time, CPU time and peak memory per job.

    .venv/bin/python benchmarks/bench_study.py --run [--preset screen] [--cores 2]  # run it, then report
    .venv/bin/python benchmarks/bench_study.py [--preset screen]                    # report a run's files

With --run it runs `snakemake --profile profiles/local --config preset=<preset>` here, timed end to
end; getrusage gives the CPU time of all its processes and the largest resident set of any one of them.
A run that was stopped resumes from its checkpoints, so it only times what was left. The report
reads the run's records, whether or not it is complete: each relaxation's and basin check's
result.json (steps, DFT calls and SCF iterations of every spin state it relaxed, from the checkpoints;
wall time summed over restarts; peak RSS per rank times the ranks), and every single point: the
counterpoise ones, the Hirshfeld charges and the basis check (and its counterpoise) at the larger basis. The totals are compared with the targets (60 min
wall, 12 GiB peak), and DFT calls per structure with bench_relax's naive run where one exists here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from clusterdefects.results import RelaxResult
from clusterdefects.study import CONFIG_FILE, load_study, read_config

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


def relax_rows(folder: Path) -> list[RelaxResult]:
    return [RelaxResult.read(p) for p in sorted(folder.glob("*/result.json"))]


def all_states(r: RelaxResult) -> tuple[int, int, int]:
    """(steps, DFT calls, SCF iterations) summed over every spin state the relaxation ran (its checkpoints'
    counters; result.json holds the kept state's alone)."""
    progress = [json.loads(p.read_text()) for p in sorted(Path(r.path).parent.glob("checkpoint/*/progress.json"))]
    if not progress:
        return r.steps, r.force_calls, r.scf_iterations
    return tuple(sum(int(p[k]) for p in progress) for k in ("steps", "force_calls", "scf_iterations"))


def print_relaxations(title: str, results: list[RelaxResult]) -> tuple[float, float, int, int]:
    """One line per relaxation (all its spin states); returns (wall s, peak MiB, DFT calls, SCF iterations)."""
    print(f"\n{title}")
    print(f"{'structure':<30} {'kept spin':>9} {'steps':>5} {'DFT calls':>9} {'SCF it':>6} {'it/call':>7} "
          f"{'wall min':>8} {'peak MiB':>9} {'conv':>5}")
    wall = peak = 0.0
    calls = iterations = 0
    for r in results:
        job_peak = r.peak_memory_mb * r.mpi_ranks
        wall, peak = wall + r.wall_time_s, max(peak, job_peak)
        steps, r_calls, r_iterations = all_states(r)
        calls, iterations = calls + r_calls, iterations + r_iterations
        per_call = r_iterations / r_calls if r_calls else float("nan")
        print(f"{r.structure_id:<30} {r.spin_state:>9} {steps:>5} {r_calls:>9} {r_iterations:>6} "
              f"{per_call:>7.1f} {r.wall_time_s / 60:>8.1f} {job_peak:>9.0f} {str(r.converged):>5}")
    return wall, peak, calls, iterations


def single_points(path: Path) -> dict[str, dict]:
    """The SCF calculations one file records: a counterpoise file's four, or a single point and, where it
    computed the other spin state too, that one."""
    data = json.loads(path.read_text())
    if "single_points" in data:
        return data["single_points"]
    points = {data.get("spin_state", "scf"): data}
    if data.get("other_spin"):
        points[data["other_spin"]["spin_state"]] = data["other_spin"]
    return points


def print_single_points(title: str, folder: Path) -> tuple[float, int, int]:
    """The single points of one kind; returns (wall s, SCF calculations, SCF iterations)."""
    files = sorted(folder.glob("*.json"))
    print(f"\n{title} ({folder.relative_to(ROOT)})")
    wall, calls, iterations = 0.0, 0, 0
    for path in files:
        for name, point in single_points(path).items():
            wall, calls, iterations = wall + point["wall_time_s"], calls + 1, iterations + point["scf_iterations"]
            print(f"  {path.stem:<28} {name:<20} {point['scf_iterations']:>4} SCF it {point['wall_time_s'] / 60:>6.1f} min")
    if not files:
        print("  none yet")
    return wall, calls, iterations


def naive_calls(preset: str) -> list[RelaxResult]:
    """bench_relax's naive runs (a doped isomer relaxed from the unrelaxed model), where they exist here."""
    return relax_rows(ROOT / f"results/{preset}/bench_relax")


def report(preset: str) -> None:
    base = ROOT / f"results/{preset}"
    relaxations = relax_rows(base / "relax")
    if not relaxations:
        sys.exit(f"bench_study: no results/{preset}/relax/*/result.json yet. Fix: run with --run.")
    wall, peak, calls, iterations = print_relaxations("relaxations", relaxations)
    b_wall, b_peak, b_calls, b_iter = print_relaxations("basin checks (dopant put back)", relax_rows(base / "basin_check"))
    c_wall, c_calls, c_iter = 0.0, 0, 0
    for title, folder in (("counterpoise single points", base / "counterpoise"),
                          ("Hirshfeld charges (one SCF each)", base / "charges"),
                          ("basis check single points", base / "basis_check"),
                          ("basis check counterpoise", base / "basis_check" / "counterpoise")):
        w, n, it = print_single_points(title, folder)
        c_wall, c_calls, c_iter = c_wall + w, c_calls + n, c_iter + it
    study = load_study(read_config(ROOT / CONFIG_FILE), preset)
    pending = [sid for sid in study.structure_ids() if not (base / "relax" / sid / "result.json").exists()]
    print(f"\n{len(relaxations)} relaxations done, {len(pending)} not yet: {', '.join(pending) or '-'}")
    total_wall = wall + b_wall + c_wall
    total_calls, total_iter = calls + b_calls + c_calls, iterations + b_iter + c_iter
    print(f"total: {total_calls} DFT calls, {total_iter} SCF iterations "
          f"({total_iter / max(total_calls, 1):.1f} per call), DFT wall {total_wall / 60:.1f} min summed "
          f"(one job at a time; target {TARGET_WALL_MIN:.0f} min, ratio {total_wall / 60 / TARGET_WALL_MIN:.2f})")
    print(f"peak memory of any job (RSS per rank x ranks): {max(peak, b_peak) / 1024:.2f} GiB "
          f"(target {TARGET_PEAK_GIB:.0f} GiB, ratio {max(peak, b_peak) / 1024 / TARGET_PEAK_GIB:.2f})")
    structures = [r for r in relaxations if r.kind != "atom"]
    structure_calls = sum(all_states(r)[1] for r in structures)
    print(f"DFT calls per structure (relaxations only): {structure_calls / max(len(structures), 1):.1f} "
          f"(physical limit 1: a start that is already the minimum)")
    naive = naive_calls(preset)
    for r in naive:
        staged = next((s for s in relaxations if s.structure_id == r.structure_id.removeprefix("naive-")), None)
        if staged is not None and staged.force_calls:
            print(f"  {staged.structure_id}: staged {staged.force_calls} DFT calls vs naive {r.force_calls} "
                  f"(bench_relax, from the unrelaxed model): ratio {r.force_calls / staged.force_calls:.1f}")
    if not naive:
        print(f"  no naive run in results/{preset}/bench_relax here: benchmarks/bench_relax.py --site centre makes one")


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
