"""Seconds per SCF iteration vs atom count and vs MPI ranks, at the screen preset's GPAW settings.

    .venv/bin/python benchmarks/bench_scaling.py [--ranks 1 2] [--iterations 10]

Three clusters cut from the committed Ag29 model: the Ag13 icosahedron ([Ag13]-, 13 atoms), the
Ag29S24 metal-sulfur frame ([Ag29S24]3-, 53 atoms) and the full [Ag29(BDT)12]3- (173 atoms). Each
runs `--iterations` SCF iterations with the screen preset's GPAW settings from config/config.yaml
(the screen preset's, from config/config.yaml) under `mpiexec -n R gpaw python`; the time per iteration comes from the timestamps of GPAW's own iteration lines, so set-up
(basis functions, grid) is reported apart. Prints one row per run and the speed-up of 2 ranks over 1.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clusterdefects.benchtools import iteration_times

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "structures" / "Ag29_BDT12_TPP4.xyz"
CLUSTERS = {"Ag13": -1, "Ag29S24": -3, "Ag29(BDT)12": -3}


def cut(name: str):
    """One of the three clusters, cut from the model with PPh3 stripped as the workflow strips it."""
    import numpy as np
    from ase.io import read

    from clusterdefects.structio import strip_ligands

    atoms = strip_ligands(read(MODEL), ["P"], {"Ag"})
    if name == "Ag29S24":
        return atoms[[a.index for a in atoms if a.symbol in ("Ag", "S")]]
    if name == "Ag13":
        ag = [a.index for a in atoms if a.symbol == "Ag"]
        centre = atoms.positions[ag].mean(axis=0)
        dist = np.linalg.norm(atoms.positions[ag] - centre, axis=1)
        return atoms[[ag[i] for i in np.argsort(dist)[:13]]]
    return atoms


def profile_table(profile: cProfile.Profile, rows: int = 12) -> str:
    """The functions (GPAW's C kernels included) that took the most time of their own."""
    stream = io.StringIO()
    pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(rows)
    return stream.getvalue()[stream.getvalue().find("ncalls"):].rstrip()


def worker(name: str, iterations: int, out: Path) -> None:
    """Runs under MPI: a fixed number of SCF iterations of one cluster."""
    from gpaw import KohnShamConvergenceError
    from gpaw.mpi import world

    from dataclasses import replace


    from clusterdefects.dft import DFTSettings, boxed, make_calculator
    from clusterdefects.study import CONFIG_FILE, load_study, read_config

    config = read_config(ROOT / CONFIG_FILE)
    screen = DFTSettings.from_config(load_study(config, "screen").settings["dft"])
    atoms = boxed(cut(name), screen.vacuum, screen.h)
    settings = replace(screen, maxiter=iterations, convergence={"energy": 1e-12, "density": 1e-12})
    txt = out.with_suffix(".txt")
    atoms.calc = make_calculator(settings, CLUSTERS[name], txt=str(txt))
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    try:
        with profile:
            atoms.get_potential_energy()
    except KohnShamConvergenceError:
        pass  # expected: the criteria are unreachable, so exactly `iterations` are run
    wall = time.perf_counter() - t0
    if world.rank == 0:
        steps = iteration_times(txt)
        per_iter = sum(steps[1:]) / max(len(steps) - 1, 1)  # the first iteration also builds the guess
        out.write_text(json.dumps({"atoms": len(atoms), "ranks": world.size, "wall_s": wall,
                                   "s_per_iteration": per_iter, "setup_s": wall - sum(steps) - per_iter,
                                   "iterations": len(steps) + 1, "profile": profile_table(profile)}))


def run(name: str, ranks: int, iterations: int, tmp: Path) -> dict:
    out = tmp / f"{name.replace('(', '').replace(')', '')}-{ranks}.json"
    # `gpaw python` parses options itself, so the worker's job travels in the environment.
    from clusterdefects.mpi import MPI_ENVIRONMENT

    env = dict(os.environ, **MPI_ENVIRONMENT, BENCH_SCALING_JOB=json.dumps([name, iterations, str(out)]))
    gpaw = Path(sys.executable).parent / "gpaw"
    cmd = ["mpiexec", "-n", str(ranks), str(gpaw), "python", __file__]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_scaling: {name} on {ranks} ranks failed:\n{done.stderr[-2000:]}")
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--clusters", nargs="+", choices=list(CLUSTERS), default=list(CLUSTERS))
    parser.add_argument("--profile", action="store_true", help="print where rank 0 spent its time (cProfile)")
    args = parser.parse_args()
    print(f"{'cluster':<12} {'atoms':>5} {'ranks':>5} {'s/iter':>8} {'setup s':>8} {'wall s':>8}")
    rows: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        for name in args.clusters:
            for ranks in args.ranks:
                r = rows[name, ranks] = run(name, ranks, args.iterations, Path(tmp))
                print(f"{name:<12} {r['atoms']:>5} {ranks:>5} {r['s_per_iteration']:>8.2f} {r['setup_s']:>8.1f} "
                      f"{r['wall_s']:>8.1f}", flush=True)
                if args.profile:
                    print(r["profile"], flush=True)
    names = args.clusters
    for ranks in args.ranks:
        small, big = rows[names[0], ranks], rows[names[-1], ranks]
        print(f"{ranks} rank(s): {big['atoms'] / small['atoms']:.1f}x the atoms cost "
              f"{big['s_per_iteration'] / small['s_per_iteration']:.1f}x the time per iteration")
    if 1 in args.ranks and 2 in args.ranks:
        for name in names:
            speedup = rows[name, 1]["s_per_iteration"] / rows[name, 2]["s_per_iteration"]
            print(f"{name}: 2 ranks vs 1, speed-up {speedup:.2f} (2.00 would be perfect)")


if __name__ == "__main__":
    if "BENCH_SCALING_JOB" in os.environ:
        job_name, job_iterations, job_out = json.loads(os.environ["BENCH_SCALING_JOB"])
        worker(job_name, job_iterations, Path(job_out))
    else:
        main()
