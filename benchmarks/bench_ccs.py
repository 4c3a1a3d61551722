"""Trajectory-method cross sections in N2: validation table and speed.

    .venv/bin/python benchmarks/bench_ccs.py [--threads 2] [--target-error 0.01] [--isomer results/screen/relax/doped-Hg-crown]

Validation: a 12-6 centre with a structureless gas against the Neufeld-Janzen-Aziz collision integral (the
integration itself), and C60+, tetramethylammonium+ and tetraethylammonium+ in N2 against experiment
(data/ccs_n2.yaml; target within 3 %). The ammonium ions are built here from their connectivity with
standard bond lengths (N-C 1.50, C-C 1.53, C-H 1.09 Å, tetrahedral angles, staggered), not relaxed; their
charge is spread evenly. Speed: trajectories per second and the wall time to the target error for one
173-atom isomer (its Hirshfeld charges from results/<preset>/charges/ when they exist, else uniform);
target <= 15 min on 2 cores. Prints ratios.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import molecule

ROOT = Path(__file__).resolve().parents[1]
TARGET_MIN = 15.0
TOLERANCE = 0.03


def place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, dihedral: float) -> np.ndarray:
    """Position of atom d bonded to c with |cd| = bond, angle bcd and dihedral abcd (degrees)."""
    bc = (c - b) / np.linalg.norm(c - b)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    th, ph = math.radians(angle), math.radians(dihedral)
    d = np.array([-bond * math.cos(th), bond * math.sin(th) * math.cos(ph), bond * math.sin(th) * math.sin(ph)])
    return c + d[0] * bc + d[1] * m + d[2] * n


def tetraalkylammonium(ethyl: bool) -> Atoms:
    """N(CH3)4+ or N(C2H5)4+ (one anti conformer), from connectivity and standard geometry."""
    tet = math.degrees(math.acos(-1 / 3))
    arms = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / math.sqrt(3)
    symbols, pos = ["N"], [np.zeros(3)]
    for k, u in enumerate(arms):
        ca = 1.50 * u
        other = 1.50 * arms[(k + 1) % 4]
        symbols.append("C")
        pos.append(ca)
        if ethyl:
            cb = place(other, np.zeros(3), ca, 1.53, tet, 180.0)
            symbols.append("C")
            pos.append(cb)
            for dih in (120.0, -120.0):
                symbols.append("H")
                pos.append(place(cb, np.zeros(3), ca, 1.09, tet, dih))
            for dih in (60.0, 180.0, -60.0):
                symbols.append("H")
                pos.append(place(np.zeros(3), ca, cb, 1.09, tet, dih))
        else:
            for dih in (60.0, 180.0, -60.0):
                symbols.append("H")
                pos.append(place(other, np.zeros(3), ca, 1.09, tet, dih))
    atoms = Atoms(symbols, positions=pos)
    d = atoms.get_all_distances() + np.eye(len(atoms)) * 10
    assert d.min() > 0.9, "clash in the built ion"
    return atoms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--target-error", type=float, default=0.01)
    parser.add_argument("--isomer", type=Path, default=ROOT / "results/screen/relax/doped-Hg-crown")
    parser.add_argument("--skip-isomer", action="store_true")
    args = parser.parse_args()
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    from clusterdefects.ccs import (KB, CCSSettings, GasModel, IonModel, TrajectoryCCS, ccs_of_file, ion_model,
                                    neufeld_omega11, parameters, uniform_charges)

    settings = CCSSettings(target_error=args.target_error, sensitivity=0)
    experiment = {v["ion"]: v["ccs_A2"] for v in parameters()["validation"]["experiment_n2"]}
    print(f"{'system':<24} {'reference':>10} {'this code':>16} {'error':>8} {'traj':>7} {'wall s':>7}  reference from")
    eps, sig = 0.01, 3.5
    lj = IonModel(np.zeros((1, 3)), np.array([eps]), np.array([sig]), np.zeros(1), 100.0, np.array([False]))
    rows = [("LJ centre, point gas", math.pi * sig**2 * neufeld_omega11(KB * settings.temperature / eps),
             TrajectoryCCS(lj, GasModel.point(), settings), "Neufeld et al. 1972 (eps 10 meV, sigma 3.5 Å)")]
    ions = {"C60+": molecule("C60"), "tetramethylammonium+": tetraalkylammonium(False),
            "tetraethylammonium+": tetraalkylammonium(True)}
    for name, atoms in ions.items():
        rows.append((name, experiment[name], TrajectoryCCS(ion_model(atoms, uniform_charges(atoms, 1)), settings=settings),
                     "experiment in N2"))
    worst = 0.0
    for name, ref, calc, source in rows:
        r = calc.compute(progress=False)
        error = r.ccs_A2 / ref - 1
        worst = max(worst, abs(error))
        print(f"{name:<24} {ref:>10.1f} {r.ccs_A2:>9.1f} +- {r.standard_error_A2:>4.1f} {100 * error:>+7.1f}% "
              f"{r.trajectories:>7} {r.wall_time_s:>7.0f}  {source}")
    print(f"largest |error| {100 * worst:.1f} % (tolerance {100 * TOLERANCE:.0f} %, ratio {worst / TOLERANCE:.2f})")
    if args.skip_isomer:
        return
    structure = args.isomer / "relaxed.xyz"
    charges = ROOT / "results" / args.isomer.parts[-3] / "charges" / f"{args.isomer.name}.json"
    t0 = time.perf_counter()
    r = ccs_of_file(structure, CCSSettings(target_error=args.target_error), charges if charges.is_file() else None,
                    progress=False)
    wall = time.perf_counter() - t0
    print(f"\n{args.isomer.name} ({structure.relative_to(ROOT)}), {args.threads} threads: CCS {r.ccs_A2:.1f} +- "
          f"{r.standard_error_A2:.1f} Å^2, {r.trajectories} trajectories, {r.trajectories_per_s:.0f} trajectories/s, "
          f"charges {r.charge_model}")
    print(f"wall time to {100 * args.target_error:.0f} % (with the metal-sigma sensitivity runs): {wall / 60:.1f} min "
          f"(target {TARGET_MIN:.0f} min, ratio {wall / 60 / TARGET_MIN:.2f}); sensitivity {r.sensitivity}")


if __name__ == "__main__":
    main()
