"""How far a relaxed energy still moves when fmax is tightened: one relaxation, read at each threshold.

    .venv/bin/python benchmarks/bench_fmax.py --structure results/screen/basins/doped-Hg-centre-from-lower-parent/relaxed.xyz \
        [--preset screen] [--optimizer BFGS] [--fmax 0.1 0.05 0.02] [--ranks 2] [--name NAME]

One `clusterdefects.relax` run (resumable) at the preset's DFT settings, from the structure given, to
the smallest fmax, in the study's box (that of the shipped relaxed parent). Every optimizer step is in
its trajectory with its energy and forces; the energy is read at the first step whose fmax is at or
below each threshold. Prints, per threshold: steps, DFT calls so far, energy, and the change from the
previous threshold. The change from the loosest to the tightest says how much of a relative energy
the loosest fmax can leave unconverged. Output: results/<preset>/bench_fmax/<name>/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ase.io import read

ROOT = Path(__file__).resolve().parents[1]

from clusterdefects.benchtools import relax_command, sh
from clusterdefects.dft import fmax_of
from clusterdefects.results import RelaxResult
from clusterdefects.study import CONFIG_FILE, load_study, read_config



def first_below(frames: list, thresholds: list[float]) -> list[tuple[float, int | None, float | None, float | None]]:
    """(threshold, step, energy, fmax) at the first frame whose fmax is at or below each threshold."""
    fmaxes = [fmax_of(f.get_forces()) for f in frames]
    out = []
    for threshold in thresholds:
        hit = next((i for i, fmax in enumerate(fmaxes) if fmax <= threshold), None)
        out.append((threshold, hit, None if hit is None else float(frames[hit].get_potential_energy()),
                    None if hit is None else fmaxes[hit]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structure", type=Path, required=True)
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--optimizer", default="BFGS")
    parser.add_argument("--fmax", type=float, nargs="+", default=[0.1, 0.05, 0.02])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--name", help="output folder name (default: the structure's folder)")
    args = parser.parse_args()

    study = load_study(read_config(ROOT / CONFIG_FILE), args.preset)
    thresholds = sorted(args.fmax, reverse=True)
    out = ROOT / f"results/{args.preset}/bench_fmax/{args.name or args.structure.parent.name}-{args.optimizer}"
    out.mkdir(parents=True, exist_ok=True)
    settings = json.dumps({"dft": study.settings["dft"], "spin": "paired",
                           "relax": {"optimizer": args.optimizer, "fmax": thresholds[-1], "steps": args.steps}})
    box_from = ROOT / study.shipped_parent()
    print(f"{args.structure} -> {out.relative_to(ROOT)}: {args.optimizer} to fmax {thresholds[-1]}, "
          f"{args.preset} DFT settings, box of {box_from.relative_to(ROOT)}", flush=True)
    sh(relax_command(args.structure, out, settings, args.ranks, box_from), out / "relax.log", ROOT)

    frames = read(out / "checkpoint/paired/relax.traj", ":")
    result = RelaxResult.read(out / "result.json")
    print(f"\n{'fmax target':>11} {'step':>5} {'fmax':>7} {'energy eV':>13} {'dE eV':>9}")
    previous = None
    for threshold, step, energy, fmax in first_below(frames, thresholds):
        if step is None:
            print(f"{threshold:>11.3f}   not reached in {len(frames) - 1} steps")
            continue
        change = "" if previous is None else f"{energy - previous:+9.4f}"
        print(f"{threshold:>11.3f} {step:>5d} {fmax:>7.4f} {energy:>13.5f} {change:>9}")
        previous = energy
    print(f"\n{result.force_calls} DFT calls, {result.wall_time_s:.0f} s, fingerprint {result.fingerprint}")


if __name__ == "__main__":
    main()
