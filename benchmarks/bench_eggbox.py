"""Egg-box error of GPAW's real-space grid: energy and net force of a free molecule moved across one
grid spacing, for several grid spacings h, with a preset's other settings.

    .venv/bin/python benchmarks/bench_eggbox.py [--h 0.3 0.25 0.22 0.2] [--shifts 8] [--preset screen]
    mpiexec -n 2 .venv/bin/gpaw python -- benchmarks/bench_eggbox.py --structure results/screen/relax/parent/relaxed.xyz \
        --h 0.22 0.2 --fractions 0 0.25 0.5      # the "--": gpaw python would take --h for its --help

With ``--structure`` (a relaxed cluster, its charge from the file), the whole cluster is moved rigidly along
x by the given fractions of h in a box of its own (5 Å vacuum, edges whole multiples of 4h): its energy range
is the egg-box error between two structures placed differently on the grid. GPAW puts the density on a grid
of h/2, so a quarter of h is the farthest a rigid move can go from the start.

A free molecule's energy does not depend on where it sits and the forces on it sum to zero. On a grid
both move with the position; the error is the noise floor under every relative energy and every force
of a relaxation. Targets: an energy range below 0.02 eV for CH4 (5 atoms), and a net force below the
preset's force criterion (relax.fmax), which a relaxation could not get under otherwise. Runs on one
core, about 20 s per spacing with 8 positions.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path


from clusterdefects.dft import DFTSettings, grid_translation_error
from clusterdefects.study import CONFIG_FILE, load_study, read_config

ROOT = Path(__file__).resolve().parents[1]
TARGET_RANGE_EV = 0.02


def cluster_scan(path: str, base: DFTSettings, h_values: list[float], fractions: list[float]) -> None:
    """Energy of a relaxed cluster moved rigidly along x by ``fractions`` of h, per h (run under MPI)."""
    from ase.io import read

    from clusterdefects.dft import boxed, make_calculator
    from clusterdefects.mpi import say

    frame = read(path)
    charge = int(frame.info.get("charge", 0))
    say(f"{path} ({frame.get_chemical_formula('metal')} {charge:+d}) moved along x; energies relative to no move")
    say(f"{'h (Å)':>6} {'box (Å)':>8} {'move (h)':>9} {'E (eV)':>14} {'dE (eV)':>9} {'ratio':>7}")
    for h in h_values:
        settings = replace(base, h=h)
        placed = boxed(frame, settings.vacuum, h)
        energies = []
        for fraction in fractions:
            atoms = placed.copy()
            atoms.positions[:, 0] += fraction * h
            atoms.calc = make_calculator(settings, charge, txt=None)
            energies.append(atoms.get_potential_energy())
            delta = energies[-1] - energies[0]
            say(f"{h:>6.3f} {placed.cell.lengths()[0]:>8.2f} {fraction:>9.3f} {energies[-1]:>14.4f} {delta:>+9.4f} "
                f"{abs(delta) / TARGET_RANGE_EV:>7.2f}")
        say(f"{h:>6.3f} range {max(energies) - min(energies):.4f} eV (ratio to {TARGET_RANGE_EV} eV: "
            f"{(max(energies) - min(energies)) / TARGET_RANGE_EV:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h", type=float, nargs="+", default=[0.3, 0.25, 0.23, 0.22, 0.2])
    parser.add_argument("--molecule", default="CH4")
    parser.add_argument("--shifts", type=int, default=8, help="positions across one grid spacing")
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--structure", help="a relaxed cluster (XYZ with its charge) to move rigidly instead")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.0, 0.125, 0.25, 0.375, 0.5],
                        help="with --structure: moves along x, in units of h")
    args = parser.parse_args()
    config = read_config(ROOT / CONFIG_FILE)
    study = load_study(config, args.preset)
    base = DFTSettings.from_config(study.settings["dft"])
    if args.structure:
        return cluster_scan(args.structure, base, args.h, args.fractions)
    target_force = study.settings["relax"]["fmax"]
    print(f"{args.molecule} moved across one grid spacing; {args.preset} preset's settings, h varied "
          f"(the preset uses h = {base.h} Å)")
    print(f"{'h (Å)':>6} {'E range (eV)':>13} {'ratio':>7} {'net F (eV/Å)':>13} {'ratio':>7}")
    for h in args.h:
        spread, net = grid_translation_error(replace(base, h=h), args.molecule, args.shifts)
        print(f"{h:>6.3f} {spread:>13.4f} {spread / TARGET_RANGE_EV:>7.2f} {net:>13.4f} "
              f"{net / target_force:>7.2f}", flush=True)
    print(f"ratios are error / target (targets {TARGET_RANGE_EV} eV, and the preset's fmax {target_force} eV/Å); "
          "< 1 passes")


if __name__ == "__main__":
    sys.exit(main())
