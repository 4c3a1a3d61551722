"""One SCF on a relaxed structure, in the spin state its relaxation kept: ``gpaw python -m clusterdefects.singlepoint``.

Writes the energy, its cost (SCF iterations, seconds, peak memory) and the Hirshfeld charges (e, per atom;
the grid's small integration error spread evenly so that they sum to the net charge) to a JSON file. Used for the ion's partial charges of the collision cross
section (at the study's settings) and for the basis check (the same geometry at another basis).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from ase.io import read

from .dft import DFTSettings, box_for, boxed, initial_magmoms, make_calculator, versions
from .errors import InputError
from .results import RelaxResult



def charge_sum_tolerance(n_atoms: int) -> float:
    """How far (e) Hirshfeld charges may miss the net charge from grid integration alone (measured: 0.04-0.06 e
    for 173 atoms at h 0.22 Å); the rest is spread evenly so that they sum to it. More means a broken density."""
    return max(0.05, 5e-4 * n_atoms)


def hirshfeld_charges(calc: Any, atoms: Any) -> np.ndarray:
    """Per-atom Hirshfeld charges (e; positive: electrons lost) of a converged GPAW calculation."""
    from gpaw.analyse.hirshfeld import HirshfeldPartitioning

    return np.asarray(HirshfeldPartitioning(calc).get_charges(), dtype=float)


def single_point(structure: Path, relaxation: RelaxResult, dft: DFTSettings, out: Path, box_from: Path | None,
                 logdir: Path, charges: bool = True) -> dict[str, Any]:
    """One SCF of ``structure`` with the charge and spin state of ``relaxation``; writes ``out``."""
    from .fileio import write_json
    from .mpi import on_rank0, say, world

    atoms = read(structure)
    box = box_for(read(box_from) if box_from else atoms, dft.vacuum, dft.h)
    atoms = boxed(atoms, dft.vacuum, dft.h, box)
    moment = None
    if relaxation.spin_state == "polarized":
        moment = float(round(relaxation.magmom))
        atoms.set_initial_magnetic_moments(initial_magmoms(atoms, moment))
    logdir.mkdir(parents=True, exist_ok=True)
    atoms.calc = make_calculator(dft, relaxation.charge, str(logdir / f"gpaw-{out.stem}.txt"), fixed_moment=moment,
                                 legacy=charges)
    t0 = time.perf_counter()
    energy = float(atoms.get_potential_energy())
    wall = time.perf_counter() - t0
    result: dict[str, Any] = {
        "structure_id": relaxation.structure_id, "structure": str(structure), "energy": energy,
        "charge": relaxation.charge, "spin_state": relaxation.spin_state, "fixed_moment": moment,
        "scf_iterations": int(atoms.calc.get_number_of_iterations()), "wall_time_s": round(wall, 1),
        "fingerprint": dft.fingerprint(), "dft": dft.energy_settings(), "relaxation_fingerprint": relaxation.fingerprint,
        "box_A": [round(float(x), 4) for x in box], "mpi_ranks": world().size, "versions": versions(),
    }
    if charges:
        q = hirshfeld_charges(atoms.calc, atoms)
        residual = float(q.sum()) - relaxation.charge
        if abs(residual) > charge_sum_tolerance(len(atoms)):
            raise InputError(out, f"Hirshfeld charges sum to {q.sum():.3f} e, not the net charge {relaxation.charge}",
                             "check the SCF log and the grid (dft.h); the density does not integrate to the ion")
        result.update(charges=[round(float(x), 5) for x in q - residual / len(q)], charge_model="Hirshfeld (GPAW)",
                      charge_sum_before_correction=round(float(q.sum()), 5),
                      charge_correction_per_atom=round(-residual / len(q), 6))
    peak = np.array([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0])
    world().max(peak)
    result["peak_memory_mb"] = round(float(peak[0]) * world().size, 1)
    on_rank0(lambda: write_json(out, result))
    say(f"{relaxation.structure_id}: E = {energy:.6f} eV ({result['scf_iterations']} SCF iterations, {wall:.0f} s)")
    return result


def main(argv: list[str] | None = None) -> int:
    from .mpi import exit_status

    p = argparse.ArgumentParser(prog="clusterdefects.singlepoint", description=__doc__.splitlines()[0])
    p.add_argument("structure", type=Path, help="relaxed.xyz of a relaxation")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--relaxation", type=Path, required=True, help="its result.json (charge, kept spin state)")
    p.add_argument("--settings", required=True, help="JSON: {dft: {...}}")
    p.add_argument("--box-from", type=Path)
    p.add_argument("--no-charges", action="store_true", help="skip the Hirshfeld charges")
    args = p.parse_args(argv)
    return exit_status("clusterdefects.singlepoint", args.structure, lambda: single_point(
        args.structure, RelaxResult.read(args.relaxation), DFTSettings.from_config(json.loads(args.settings).get("dft", {})),
        args.output, args.box_from, args.output.parent / "logs", not args.no_charges), (InputError,))


if __name__ == "__main__":
    sys.exit(main())
