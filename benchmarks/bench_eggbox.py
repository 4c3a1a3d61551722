"""Egg-box error of GPAW's real-space grid: energy and net force of a free molecule moved across one
grid spacing, for several grid spacings h, with a preset's other settings.

    .venv/bin/python benchmarks/bench_eggbox.py [--h 0.3 0.25 0.22 0.2] [--shifts 8] [--preset screen]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h", type=float, nargs="+", default=[0.3, 0.25, 0.23, 0.22, 0.2])
    parser.add_argument("--molecule", default="CH4")
    parser.add_argument("--shifts", type=int, default=8, help="positions across one grid spacing")
    parser.add_argument("--preset", default="screen")
    args = parser.parse_args()
    config = read_config(ROOT / CONFIG_FILE)
    study = load_study(config, args.preset)
    base = DFTSettings.from_config(study.settings["dft"])
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
