"""DFT force calls to reach fmax for one real isomer: staged (the workflow) vs naive.

    .venv/bin/python benchmarks/bench_relax.py --preset screen --site centre [--dopant Hg] [--ranks 2]

staged: what the workflow does. The parent is relaxed once, and each doped isomer starts from the
        relaxed parent. The parent's cost is shared by all isomers of the study, and the parent line
        shows it.
naive:  ASE BFGS on the same doped isomer made from the *unrelaxed* parent (the system's own file,
        `parent-model`, not the shipped relaxed one), with the same final settings (the preset's DFT,
        optimizer and fmax) in the study's box, so that the two energies can be compared.

Both use `gpaw python -m clusterdefects.relax`, and both are resumable. The staged relaxations are
the study's own files (results/<preset>/relax/), made or reused through snakemake. The naive one goes
to results/<preset>/bench_relax/naive-<id>/. Prints the force calls, wall time and energy of each,
|dE| and the ratio of force calls (the target is >= 3).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path


from clusterdefects.results import RelaxResult
from clusterdefects.benchtools import BIN, relax_command, sh
from clusterdefects.ids import StructureId
from clusterdefects.study import CONFIG_FILE, MODEL_PARENT, load_study, read_config

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--site", required=True)
    parser.add_argument("--dopant", default="Hg")
    parser.add_argument("--ranks", type=int, default=2)
    args = parser.parse_args()

    study = load_study(read_config(ROOT / CONFIG_FILE), args.preset)
    sid = str(StructureId("doped", args.dopant, args.site))
    relax = ROOT / f"results/{args.preset}/relax"
    naive = ROOT / f"results/{args.preset}/bench_relax/naive-{sid}"
    naive.mkdir(parents=True, exist_ok=True)

    print(f"staged: snakemake {relax.relative_to(ROOT)}/{sid}/result.json (parent first)", flush=True)
    sh([str(BIN / "snakemake"), "--cores", str(args.ranks), "--config", f"preset={args.preset}",
        "--rerun-triggers", "mtime", "--", f"results/{args.preset}/relax/{sid}/result.json"], cwd=ROOT)

    print(f"naive: {sid} from the unrelaxed parent, {args.ranks} MPI ranks", flush=True)
    sh([str(BIN / "snakemake"), "--cores", "1", "--config", f"preset={args.preset}",
        "--", f"results/{args.preset}/relax/{MODEL_PARENT}/start.xyz"], cwd=ROOT)
    sh([str(BIN / "clusterdefects"), "dope", str(relax / f"{MODEL_PARENT}/start.xyz"),
        "--sites", f"results/{args.preset}/sites.csv", "--site", args.site, "--dopant", args.dopant,
        f"--charge={study.system['charges']['doped']}", "-o", str(naive / "start.xyz")], naive / "dope.log", ROOT)
    settings = shlex.split(study.relax_args(sid))[0]
    sh(relax_command(naive / "start.xyz", naive, settings, args.ranks, f"results/{args.preset}/relax/parent/start.xyz"),
       naive / "relax.log", ROOT)

    parent, staged, plain = (RelaxResult.read(p) for p in (relax / "parent/result.json", relax / f"{sid}/result.json",
                                                      naive / "result.json"))
    n_isomers = len(study.doped_ids())
    print(f"\n{'run':<34} {'force calls':>11} {'wall s':>8} {'fmax':>6} {'energy eV':>12}")
    for name, r in ((f"parent (once, shared by {n_isomers})", parent), (f"staged {sid}", staged),
                    (f"naive {sid}", plain)):
        print(f"{name:<34} {r.force_calls:>11} {r.wall_time_s:>8.0f} {r.fmax:>6.3f} {r.energy:>12.4f}")
    ratio = plain.force_calls / staged.force_calls
    shared = plain.force_calls / (staged.force_calls + parent.force_calls / n_isomers)
    print(f"\nforce calls naive/staged: {ratio:.2f} (target >= {TARGET_RATIO:.0f}); "
          f"with the parent's calls shared over {n_isomers} isomers: {shared:.2f}")
    print(f"|E(staged) - E(naive)| = {abs(staged.energy - plain.energy):.4f} eV "
          f"(both converged: {staged.converged and plain.converged})")


if __name__ == "__main__":
    main()
