"""One 173-atom isomer's single point at the preset's basis and at the check basis: time, SCF iterations,
peak memory, and their ratios (what the basis check costs per structure).

    .venv/bin/python benchmarks/bench_basis.py [--preset screen] [--isomer doped-Hg-crown] [--ranks 2]

Both single points start from scratch on the relaxed geometry (`clusterdefects gpaw singlepoint`), in the
study's box and the isomer's kept spin state; they go to results/<preset>/bench_basis/ and are reused
when they exist. The check basis' single point is the study's own where its basis check has run
(results/<preset>/basis_check/<isomer>.json, the same command): only the preset's is then computed. Don't run it beside other GPAW jobs (two MPI jobs on 2 cores slow each other tenfold).
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from clusterdefects.benchtools import BIN, sh
from clusterdefects.dft import basis_label
from clusterdefects.study import CONFIG_FILE, load_study, read_config

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--isomer", default="doped-Hg-crown")
    parser.add_argument("--ranks", type=int, default=2)
    args = parser.parse_args()
    study = load_study(read_config(ROOT / CONFIG_FILE), args.preset)
    relax = ROOT / f"results/{args.preset}/relax/{args.isomer}"
    out = ROOT / f"results/{args.preset}/bench_basis"
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for label, settings in (("preset", study.dft_args()), ("check", study.check_dft_args())):
        path = out / f"{args.isomer}-{label}.json"
        study_check = ROOT / f"results/{args.preset}/basis_check/{args.isomer}.json"
        if label == "check" and not path.is_file() and study_check.is_file():
            path = study_check
        if not path.is_file():
            sh([str(BIN / "clusterdefects"), "gpaw", "--ranks", str(args.ranks), "singlepoint", "--",
                str(relax / "relaxed.xyz"), "-o", str(path), "--relaxation", str(relax / "result.json"),
                "--settings", shlex.split(settings)[0], "--box-from", f"results/{args.preset}/relax/parent/start.xyz",
                "--no-charges"], out / f"{args.isomer}-{label}.log", ROOT)
        rows[label] = json.loads(path.read_text())
    print(f"{'basis':<10} {'SCF it':>6} {'wall s':>7} {'peak MiB':>9} {'energy eV':>14}  ({args.isomer}, {args.ranks} ranks)")
    for row in rows.values():
        print(f"{basis_label(row['dft']['basis']):<10} {row['scf_iterations']:>6} {row['wall_time_s']:>7.0f} "
              f"{row['peak_memory_mb']:>9.0f} {row['energy']:>14.4f}")
    a, b = rows["preset"], rows["check"]
    print(f"ratio {basis_label(b['dft']['basis'])}/{basis_label(a['dft']['basis'])}: wall {b['wall_time_s'] / a['wall_time_s']:.2f}, "
          f"SCF iterations {b['scf_iterations'] / a['scf_iterations']:.2f}, peak memory "
          f"{b['peak_memory_mb'] / a['peak_memory_mb']:.2f}")


if __name__ == "__main__":
    main()
