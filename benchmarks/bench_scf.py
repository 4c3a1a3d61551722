"""SCF iterations to convergence of one structure, per density mixer (and smearing), at a preset's settings.

    .venv/bin/python benchmarks/bench_scf.py [--structure results/screen/relax/vacancy-Hg-tetrahedral/start.xyz]
                                             [--variants preset pulay soft smear0.05] [--ranks 2]

Why: the Ag28 2- vacancy isomers have an open 1P shell, near-degenerate levels at the Fermi level,
and their SCF took 20-33 iterations per ionic step against 5-14 for the closed-shell isomers. Each
variant is one single point from scratch, on the study's grid (box of the parent's start), under
`mpiexec -n R gpaw python`. The mixer is not part of the settings fingerprint (it changes the path
to the SCF solution, not the solution), so a faster mixer can be adopted without rerunning anything.
A smearing variant changes the energies (another fingerprint): it is shown to price that choice.
The SCF-tolerance variants (abs5meV, abs1meV, abs1meV-dens2e-5) use an absolute total-energy
criterion (GPAW's default is per valence electron: 5e-4 eV x 976 electrons allows ~0.5 eV) and are
measured against ``tight`` (1e-5 eV absolute, density 1e-7 per electron) on the same geometry.
Prints iterations, seconds per iteration, wall time and the energy of each variant.

``--moment M``: spin-polarised with the total moment M held fixed (the open-shell vacancies' triplet: 2);
``--layouts ours gpaw``: each variant under our MPI layout (``dft.SPIN_POLARIZED_LAYOUT``) and GPAW's own
(spins over ranks), with ``--iterations N`` to stop each after N SCF iterations (s/iter only).

``--reconverge D``: after the single point, move every atom D Å along its force, converge there from
the current density, move back and converge again, as an optimizer's line search does. The change of
energy and forces between the two SCFs of one geometry is the noise the optimizer sees.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from clusterdefects.benchtools import iteration_times, setup_seconds

#: Our convergence settings: ``tol`` eV absolute on the total energy over the last 3 iterations
#: (``dft.SCF_ENERGY_RULE``), ``density`` per valence electron.
def absolute_energy(tol: float, density: float) -> dict:
    return {"energy": tol, "density": density}


#: name -> (mixer or None for the preset's, Fermi-Dirac width or None, SCF convergence or None)
VARIANTS = {
    "preset": (None, None, None),
    "pulay": ({"backend": "pulay", "beta": 0.05, "nmaxold": 5, "weight": 50.0}, None, None),
    "soft": ({"beta": 0.02, "nmaxold": 8, "weight": 100.0}, None, None),
    "smear0.05": (None, 0.05, None),
    # SCF tolerance: absolute energy criteria against a reference converged far tighter.
    "abs5meV": (None, None, absolute_energy(0.005, 1e-4)),
    "abs1meV": (None, None, absolute_energy(0.001, 1e-4)),
    "abs1meV-dens2e-5": (None, None, absolute_energy(0.001, 2e-5)),
    "abs0.1meV": (None, None, absolute_energy(1e-4, 1e-4)),
    "tight": (None, None, absolute_energy(1e-5, 1e-7)),
    # The criterion before 2026-12: GPAW's per-valence-electron energy criterion, 5e-4 eV.
    "per-electron5e-4": (None, None, {"energy": {"name": "energy", "tol": 5e-4, "n_old": 3, "relative": True},
                                      "density": 1e-4}),
}


def worker(job: dict) -> None:
    """Runs under MPI: one single point of the structure with one variant."""
    from ase.io import read
    from gpaw.mpi import world

    from gpaw import KohnShamConvergenceError

    from clusterdefects.dft import DFTSettings, box_for, boxed, initial_magmoms, make_calculator
    from clusterdefects.study import CONFIG_FILE, load_study, read_config

    config = read_config(ROOT / CONFIG_FILE)
    dft = DFTSettings.from_config(load_study(config, job["preset"]).settings["dft"])
    mixer, width, convergence = VARIANTS[job["variant"]]
    settings = replace(dft, mixer=mixer or dft.mixer, convergence=convergence or dft.convergence,
                       maxiter=job["iterations"] or (max(dft.maxiter, 600) if convergence else dft.maxiter),
                       occupations={**dft.occupations, "width": width} if width else dft.occupations)
    start = read(job["structure"])
    box = box_for(read(job["box_from"]), dft.vacuum, dft.h)
    atoms = boxed(start, dft.vacuum, dft.h, box)
    txt = Path(job["out"]).with_suffix(".txt")
    moment = job["moment"]
    if moment is not None:
        atoms.set_initial_magnetic_moments(initial_magmoms(atoms, moment))
    atoms.calc = make_calculator(settings, int(start.info.get("charge", 0)), txt=str(txt), fixed_moment=moment,
                                 layout=None if job["layout"] == "ours" else {})
    t0 = time.perf_counter()
    try:
        energy = atoms.get_potential_energy()
    except KohnShamConvergenceError:  # stopped after --iterations: timing only
        if not job["iterations"]:
            raise
        energy = float("nan")
    wall = time.perf_counter() - t0
    iterations = int(atoms.calc.get_number_of_iterations() or settings.maxiter)
    noise = reconverge(atoms, job["reconverge"]) if job["reconverge"] and not math.isnan(energy) else {}
    if world.rank == 0:
        steps = iteration_times(txt)
        Path(job["out"]).write_text(json.dumps({
            "iterations": iterations, "s_per_iteration": sum(steps) / max(len(steps), 1), "wall_s": wall,
            "energy": energy, "fingerprint": settings.fingerprint(), "setup_s": setup_seconds(txt), **noise}))


def reconverge(atoms, distance: float) -> dict:
    """Energy and force change (meV, meV/Å) between two SCFs of one geometry: the first as converged,
    the second after a step of ``distance`` Å along the forces and back, each from the density before."""
    import numpy as np

    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    home = atoms.positions.copy()
    atoms.positions = home + distance * forces / np.abs(forces).max()
    away = atoms.get_potential_energy()
    atoms.positions = home
    again, forces_again = atoms.get_potential_energy(), atoms.get_forces()
    return {"dE_away_meV": 1000 * (away - energy), "dE_back_meV": 1000 * (again - energy),
            "dF_back_meV_per_A": 1000 * float(np.abs(forces_again - forces).max()),
            "iterations_back": int(atoms.calc.get_number_of_iterations())}


def run(job: dict, ranks: int) -> dict:
    from clusterdefects.mpi import MPI_ENVIRONMENT

    env = dict(os.environ, **MPI_ENVIRONMENT, BENCH_SCF_JOB=json.dumps(job))
    gpaw = Path(sys.executable).parent / "gpaw"
    done = subprocess.run(["mpiexec", "-n", str(ranks), str(gpaw), "python", __file__], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"bench_scf: variant {job['variant']} failed:\n{done.stderr[-2000:]}")
    return json.loads(Path(job["out"]).read_text())


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "nan (GPAW's log stamps whole seconds)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structure", default="results/screen/relax/vacancy-Hg-tetrahedral/start.xyz")
    parser.add_argument("--box-from", default="results/screen/relax/parent/start.xyz")
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--moment", type=float, help="spin-polarised, this total moment held fixed (μB)")
    parser.add_argument("--layouts", nargs="+", choices=["ours", "gpaw"], default=["ours"],
                        help="MPI layout: ours (dft.SPIN_POLARIZED_LAYOUT when spin-polarised) or GPAW's own")
    parser.add_argument("--iterations", type=int, default=0, help="stop each run after this many SCF iterations")
    parser.add_argument("--reconverge", type=float, default=0.0, metavar="D",
                        help="also step D Å along the forces and back, converging from the density before")
    args = parser.parse_args()
    if args.iterations and args.reconverge:
        parser.error("--iterations stops the SCF unconverged: it cannot go with --reconverge")
    for path in (args.structure, args.box_from):
        if not (ROOT / path).is_file():
            sys.exit(f"bench_scf: {path} not found. Fix: run the study up to it (snakemake {path}).")
    spin = "spin-paired" if args.moment is None else f"fixed moment {args.moment:g}"
    print(f"{args.structure}, {args.preset} preset, {spin}, {args.ranks} MPI ranks, one single point per row")
    print(f"{'variant':<10} {'layout':>6} {'iterations':>10} {'s/iter':>7} {'setup s':>7} {'wall s':>7} "
          f"{'energy eV':>12} {'fingerprint':>17}")
    per_layout = {}
    with tempfile.TemporaryDirectory(prefix="bench-scf-") as tmp:
        for variant, layout in itertools.product(args.variants, args.layouts):
            job = {"variant": variant, "preset": args.preset, "structure": str(ROOT / args.structure),
                   "box_from": str(ROOT / args.box_from), "out": str(Path(tmp) / f"{variant}-{layout}.json"),
                   "reconverge": args.reconverge, "moment": args.moment, "layout": layout,
                   "iterations": args.iterations}
            r = per_layout[variant, layout] = run(job, args.ranks)
            print(f"{variant:<10} {layout:>6} {r['iterations']:>10} {r['s_per_iteration']:>7.2f} "
                  f"{r['setup_s']:>7.0f} {r['wall_s']:>7.0f} {r['energy']:>12.4f} {r['fingerprint']:>17}", flush=True)
            if args.reconverge:
                print(f"{'':<10} step {args.reconverge:g} Å along F: dE {r['dE_away_meV']:+.3f} meV; back: "
                      f"dE {r['dE_back_meV']:+.3f} meV, max dF {r['dF_back_meV_per_A']:.2f} meV/Å, "
                      f"{r['iterations_back']} iterations", flush=True)
    rows = {variant: per_layout[variant, args.layouts[0]] for variant in args.variants}
    for variant in args.variants if len(args.layouts) == 2 else []:
        ours, gpaw = per_layout[variant, "ours"], per_layout[variant, "gpaw"]
        print(f"{variant}: s/iter GPAW's layout / ours = {ratio(gpaw['s_per_iteration'], ours['s_per_iteration'])}"
              f", set-up {ratio(gpaw['setup_s'], ours['setup_s'])}")
    if "preset" in rows and len(args.variants) > 1:
        for variant, r in rows.items():
            print(f"{variant}: iterations / preset's = {r['iterations'] / rows['preset']['iterations']:.2f}")
    if "tight" in rows:
        ref = rows["tight"]
        for variant, r in rows.items():
            print(f"{variant}: E - E(tight) = {1000 * (r['energy'] - ref['energy']):+.2f} meV, "
                  f"iterations {r['iterations']} (tight: {ref['iterations']})")


if __name__ == "__main__":
    if "BENCH_SCF_JOB" in os.environ:
        worker(json.loads(os.environ["BENCH_SCF_JOB"]))
    else:
        main()
