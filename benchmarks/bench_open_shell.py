"""An exactly symmetric open-shell vacancy start, relaxed as it is and displaced; paired vs fixed triplet.

    .venv/bin/python benchmarks/bench_open_shell.py [--parent results/screen/basins/parent-lower-basin/relaxed.xyz]
        [--site tetrahedral] [--preset screen] [--runs displaced symmetric] [--ranks 2]
    .venv/bin/python benchmarks/bench_open_shell.py --runs symmetric \
        --start results/screen/relax/vacancy-Hg-tetrahedral/start.xyz \
        --displaced-result results/screen/relax/vacancy-Hg-tetrahedral/result.json [--trace | --trace-only]

The vacancy start is the parent with one atom of the site class removed (the class's first member) and
the vacancy's charge (for Ag29(BDT)12: [Ag28(BDT)12]2-, 6 superatom electrons, an open 1P shell; the
tetrahedral vacancy of a T parent is exactly C3). Runs, each one resumable `clusterdefects.relax` at the
preset's DFT and relax settings in the box of the shipped parent:

displaced:  the workflow's way: the open-shell start displaced (the preset's ``relax.displace``, seeded),
            spin policy ``lowest``: paired, then the fixed-moment triplet (M = 2) from where it ended.
symmetric:  the same start made exactly symmetric (``sites.symmetrized`` at ``--symmetrize`` Å, default 0.1: a
            relaxed doped isomer is symmetric only to ~0.1 Å) and not displaced (``displace: 0``), paired only.

``--start``: a vacancy start of the study instead (the study's own vacancy, Hg removed from its relaxed
doped isomer); ``--displaced-result``: that study relaxation's result.json, shown as the displaced run.

Prints per run: point group (start and end, at 0.02/0.1/0.3 Å), energy per spin state, magnetic moment,
steps and DFT calls. Output: results/<preset>/bench_open_shell/<site>-<run>/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ase.io import read

ROOT = Path(__file__).resolve().parents[1]

from clusterdefects.benchtools import relax_command, sh
from clusterdefects.fileio import write_xyz
from clusterdefects.results import RelaxResult
from clusterdefects.sites import classify_sites, symmetrized, symmetry_deviation
from clusterdefects.study import CONFIG_FILE, load_study, read_config

RUNS = {"displaced": ("lowest", None), "symmetric": ("paired", 0.0)}


def vacancy_start(parent: Path, site: str, charge: int) -> tuple:
    atoms = read(parent)
    members = next(c.members for c in classify_sites(atoms) if c.role == site)
    vacancy = atoms.copy()
    del vacancy[members[0]]
    vacancy.info = {"structure_id": f"vacancy-{site}", "kind": "vacancy", "charge": charge,
                    "source": str(parent), "removed_index": int(members[0])}
    return vacancy, members[0]


def exact_start(vacancy, tol: float):
    """The symmetric run's start: ``vacancy`` made exactly symmetric at ``tol`` Å (printed: groups, largest move)."""
    import numpy as np

    from clusterdefects.relax import point_groups

    if tol <= 0:
        return vacancy
    exact = symmetrized(vacancy, tol)
    moved = float(np.linalg.norm(exact.positions - vacancy.positions, axis=1).max())
    print(f"symmetric start: point group {point_groups(vacancy)} made exact at {tol} Å "
          f"(largest move {moved:.4f} Å): {point_groups(exact)}", flush=True)
    return exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parent", type=Path, default=Path("results/screen/basins/parent-lower-basin/relaxed.xyz"))
    parser.add_argument("--site", default="tetrahedral")
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--start", type=Path, help="a vacancy start of the study (default: made from --parent)")
    parser.add_argument("--symmetrize", type=float, default=0.1, metavar="TOL",
                        help="make the symmetric run's start exact at this tolerance (Å; 0: as it is)")
    parser.add_argument("--displaced-result", type=Path, help="a finished study relaxation of --start, shown as "
                        "the displaced run")
    parser.add_argument("--trace", action="store_true", help="also print the symmetric run step by step "
                        "(energy, fmax, deviation from its start's group) beside the displaced run")
    parser.add_argument("--trace-only", action="store_true", help="run nothing: only the trace of what the "
                        "symmetric run has so far (a run in progress included)")
    args = parser.parse_args()

    study = load_study(read_config(ROOT / CONFIG_FILE), args.preset)
    if args.start:
        vacancy, removed = read(ROOT / args.start), "none: the study's start"
        source, name = args.start, Path(args.start).parent.name
    else:
        vacancy, removed = vacancy_start(ROOT / args.parent, args.site, study.system["charges"]["vacancy"])
        source, name = args.parent, args.site
    if args.trace_only:
        return trace(ROOT / f"results/{args.preset}/bench_open_shell/{name}-symmetric", args.displaced_result)
    box_from = ROOT / study.box_source("parent")[0]  # the study's grid, as its relaxations
    rows = [("displaced", RelaxResult.read(ROOT / args.displaced_result))] if args.displaced_result else []
    for run in args.runs:
        policy, displace = RUNS[run]
        out = ROOT / f"results/{args.preset}/bench_open_shell/{name}-{run}"
        start = write_xyz(out / "start.xyz",
                          exact_start(vacancy, args.symmetrize) if run == "symmetric" else vacancy)
        relax = {**study.settings["relax"], **({} if displace is None else {"displace": displace})}
        settings = json.dumps({"dft": study.settings["dft"], "relax": relax, "spin": policy})
        print(f"{run}: vacancy of {source} (atom {removed} removed), spin {policy}, "
              f"displace {relax.get('displace')} Å -> {out.relative_to(ROOT)}", flush=True)
        sh(relax_command(start, out, settings, args.ranks, box_from), out / "relax.log", ROOT)
        rows.append((run, RelaxResult.read(out / "result.json")))

    print(f"\n{'run':<10} {'group start':<14} {'group end':<14} {'state':<10} {'energy eV':>12} {'M':>5} "
          f"{'steps':>5} {'calls':>5} {'fmax':>6}")
    for run, r in rows:
        start_group = "/".join(r.point_group_start.values())
        end_group = "/".join(r.point_group.values())
        for state, energy in r.spin_energies.items():
            kept = "*" if state == r.spin_state else " "
            print(f"{run:<10} {start_group:<14} {end_group:<14} {state + kept:<10} {energy:>12.5f} "
                  f"{r.spin_moments[state]:>5.2f} {r.steps:>5} {r.force_calls:>5} {r.fmax:>6.3f}")
    print("point groups at 0.02/0.1/0.3 Å; * the kept spin state; steps/calls/fmax of the kept state")
    if args.trace:
        trace(ROOT / f"results/{args.preset}/bench_open_shell/{name}-symmetric", args.displaced_result)


def trace(symmetric: Path, displaced_result: Path | None) -> None:
    """Per paired step of the symmetric run (so far, or finished): its energy, fmax and the largest deviation
    of a heavy atom from the point group found at the loosest reporting tolerance (0.3 Å), beside the
    displaced run's energy and fmax at the same step."""
    from ase.io import Trajectory

    from clusterdefects.dft import fmax_of
    from clusterdefects.relax import POINT_GROUP_TOLERANCES

    frames = Trajectory(str(symmetric / "checkpoint" / "paired" / "relax.traj"))
    other = (Trajectory(str(ROOT / Path(displaced_result).parent / "checkpoint" / "paired" / "relax.traj"))
             if displaced_result else [])
    print(f"\n{'step':>4} {'symmetric E eV':>15} {'fmax':>6} {'group':>5} {'deviation Å':>11}   "
          f"{'displaced E eV':>15} {'fmax':>6}")
    for step, atoms in enumerate(frames):
        group, deviation = symmetry_deviation(atoms, max(POINT_GROUP_TOLERANCES))
        beside = (f"{other[step].get_potential_energy():>15.5f} {fmax_of(other[step].get_forces()):>6.3f}"
                  if step < len(other) else "")
        print(f"{step:>4} {atoms.get_potential_energy():>15.5f} {fmax_of(atoms.get_forces()):>6.3f} {group:>5} "
              f"{deviation:>11.5f}   {beside}")


if __name__ == "__main__":
    main()
