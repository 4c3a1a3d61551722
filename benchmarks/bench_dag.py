"""How long `snakemake -n` takes for a study of 200+ jobs (several dopants x sites x presets).

    .venv/bin/python benchmarks/bench_dag.py [--repeats 3]

Works in a scratch copy of the workflow with a config overlay of six dopants on the Ag29 system
and two presets, so nothing under results/ is touched. Prints the job count, each timing, the median
and its ratio to the 3 s target.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 3.0
# Dopants whose [Ag28X(BDT)12]2- has an even electron count, like Hg (Z - 47 odd).
DOPANTS = ["Hg", "Cd", "Zn", "Pt", "Pd", "Ni"]
PRESETS = ["screen", "production"]
OVERLAY = f"systems: {{Ag29_BDT12: {{dopants: [{', '.join(DOPANTS)}]}}}}\n"


def scratch_copy(dest: Path) -> Path:
    for name in ("Snakefile", "config", "workflow", "structures", "envs", "profiles"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    (dest / "overlay.yaml").write_text(OVERLAY)
    return dest


def dry_run(workdir: Path) -> tuple[float, int]:
    """Seconds for one `snakemake -n` over every preset's tables, and the number of jobs."""
    snakemake = Path(sys.executable).parent / "snakemake"
    targets = [f"results/{p}/tables/relative_energies.csv" for p in PRESETS]
    t0 = time.perf_counter()
    out = subprocess.run([str(snakemake), "-n", "--quiet", "rules", "--configfile", "config/config.yaml",
                          "overlay.yaml", "--", *targets], cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"bench_dag: snakemake -n failed:\n{out.stderr[-2000:]}")
    total = re.search(r"^total\s+(\d+)", out.stdout, re.M)
    return seconds, int(total.group(1)) if total else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dag-") as tmp:
        workdir = scratch_copy(Path(tmp))
        runs = [dry_run(workdir) for _ in range(args.repeats)]
    times = [t for t, _ in runs]
    median = statistics.median(times)
    print(f"study: {len(DOPANTS)} dopants x 4 sites x {len(PRESETS)} presets -> {runs[0][1]} jobs")
    print("snakemake -n: " + ", ".join(f"{t:.2f} s" for t in times))
    print(f"median {median:.2f} s; target < {TARGET_S:.0f} s; ratio median/target {median / TARGET_S:.2f}")


if __name__ == "__main__":
    main()
