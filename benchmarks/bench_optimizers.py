"""DFT calls to reach fmax for one real isomer, per optimizer, from the study's own start.

    .venv/bin/python benchmarks/bench_optimizers.py --site icosahedral [--kind doped] [--preset screen]
                                                    [--optimizers BFGS PreconLBFGS] [--ranks 2]

Each optimizer relaxes the same start (the study's `results/<preset>/relax/<id>/start.xyz`, made
through snakemake if missing) with the preset's DFT settings and fmax, in the study's box, under
`mpiexec -n R gpaw python -m clusterdefects.relax`, into `results/<preset>/bench_optimizers/<opt>-<id>/`
(resumable; a finished run is reused). `--baseline NAME=result.json` adds a finished relaxation of the
same start (for example the study's own, made with the preset's optimizer) instead of running it again.
DFT calls are counted by the calculator (every converged SCF, line-search trials included), not by
optimizer steps. Prints DFT calls, steps, SCF iterations, wall
time and energy per optimizer, and each one's DFT calls as a ratio of BFGS's.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

from clusterdefects.benchtools import BIN, relax_command, sh
from clusterdefects.results import RelaxResult
from clusterdefects.ids import StructureId
from clusterdefects.study import CONFIG_FILE, load_study, read_config


def relax_with(optimizer: str, sid: str, settings: dict, preset: str, ranks: int) -> dict:
    """Relax the study's start of ``sid`` with ``optimizer``; returns its result.json."""
    outdir = ROOT / f"results/{preset}/bench_optimizers/{optimizer}-{sid}"
    if not (outdir / "result.json").is_file():
        outdir.mkdir(parents=True, exist_ok=True)
        chosen = {**settings, "relax": {**settings["relax"], "optimizer": optimizer}}
        print(f"{optimizer}: relaxing {sid} ({outdir.relative_to(ROOT)}/logs for progress)", flush=True)
        sh(relax_command(f"results/{preset}/relax/{sid}/start.xyz", outdir, json.dumps(chosen), ranks,
                         f"results/{preset}/relax/parent/start.xyz"), outdir / "relax.log", ROOT)
    return RelaxResult.read(outdir / "result.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--kind", default="doped", choices=["doped", "vacancy"])
    parser.add_argument("--site", required=True)
    parser.add_argument("--dopant", default="Hg")
    parser.add_argument("--optimizers", nargs="+", default=["BFGS", "PreconLBFGS"])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--baseline", metavar="NAME=RESULT_JSON",
                        help="a finished relaxation of the same start to compare with, e.g. BFGS=results/...")
    args = parser.parse_args()

    study = load_study(read_config(ROOT / CONFIG_FILE), args.preset)
    sid = str(StructureId(args.kind, args.dopant, args.site))
    sh([str(BIN / "snakemake"), "--cores", str(args.ranks), "--config", f"preset={args.preset}",
        "--rerun-triggers", "mtime", "--", f"results/{args.preset}/relax/{sid}/start.xyz"], cwd=ROOT)
    settings = json.loads(shlex.split(study.relax_args(sid))[0])
    results = {}
    if args.baseline:
        name, path = args.baseline.split("=", 1)
        results[name] = RelaxResult.read(Path(path))
    results |= {opt: relax_with(opt, sid, settings, args.preset, args.ranks) for opt in args.optimizers}

    base = results.get("BFGS")
    print(f"\n{sid}, preset {args.preset}, fmax {settings['relax']['fmax']} eV/Å, {args.ranks} MPI ranks")
    print(f"{'optimizer':<14} {'DFT calls':>9} {'steps':>5} {'SCF its':>7} {'wall s':>7} {'fmax':>6} "
          f"{'energy eV':>12} {'conv':>5} {'calls/BFGS':>10} {'dE/BFGS eV':>10}")
    for opt, r in results.items():
        ratio = f"{r.force_calls / base.force_calls:.2f}" if base else "-"
        d_e = f"{r.energy - base.energy:+.4f}" if base else "-"
        print(f"{opt:<14} {r.force_calls:>9} {r.steps:>5} {r.scf_iterations:>7} {r.wall_time_s:>7.0f} "
              f"{r.fmax:>6.3f} {r.energy:>12.4f} {str(r.converged):>5} {ratio:>10} {d_e:>10}")


if __name__ == "__main__":
    main()
