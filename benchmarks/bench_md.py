"""What MD of a 172-atom vacancy isomer costs with GPAW at the study's settings: seconds and SCF iterations
per step, peak memory, and what a 12 ps run (the paper's length) would take at that rate.

    .venv/bin/python benchmarks/bench_md.py [--preset screen] [--structure vacancy-Hg-centre] [--steps 50] [--ranks 2]

It runs `clusterdefects gpaw md` (one calculator for the whole run: each step's SCF starts from the last
step's LCAO state) from the structure the study's MD starts from, writing one frame per step to
results/<preset>/bench_md/<structure>/nvt/; a killed run goes on where it stopped. Needs the cores alone.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import pandas as pd

from clusterdefects.benchtools import BIN, sh
from clusterdefects.dft import basis_label
from clusterdefects.study import CONFIG_FILE, load_study, read_config

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--structure", default="vacancy-Hg-centre")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--ranks", type=int, default=2)
    args = parser.parse_args()
    study = load_study(read_config(ROOT / CONFIG_FILE), args.preset)
    settings = json.loads(shlex.split(study.md_args("gpaw"))[3])
    settings["md"].update(steps=args.steps, interval=1)
    out = ROOT / f"results/{args.preset}/bench_md/{args.structure}/nvt"
    sh([str(BIN / "clusterdefects"), "gpaw", "--ranks", str(args.ranks), "md", "--", study.md_start(args.structure),
        str(out), "--ensemble", "nvt", "--settings", json.dumps(settings),
        "--box-from", f"results/{args.preset}/relax/parent/start.xyz"], out.parent / "bench_md.log", ROOT)
    steps = pd.read_csv(out / "steps.csv").iloc[1:]
    per_step = float(steps["s_per_step"].mean())
    fs = settings["md"]["timestep"]
    print(f"{args.structure}, GPAW {basis_label(study.settings['dft']['basis'])} h {study.settings['dft']['h']}, {args.ranks} ranks, "
          f"{len(steps)} steps of {fs} fs")
    print(f"s/step: mean {per_step:.1f}, first {steps['s_per_step'].iloc[0]:.1f}, last 10 {steps['s_per_step'].tail(10).mean():.1f}")
    print(f"SCF iterations/step: mean {steps['scf_iterations'].mean():.1f}, "
          f"s/iteration {per_step / steps['scf_iterations'].mean():.1f}")
    print(f"12 ps at this rate: {12000 / fs * per_step / 3600:.0f} h on {args.ranks} cores "
          f"({12000 / fs * per_step * args.ranks / 3600:.0f} core-hours)")


if __name__ == "__main__":
    main()
