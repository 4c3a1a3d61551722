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
from ase import Atoms
from ase.io import read

from .dft import DFTSettings, box_for, boxed, initial_magmoms, scf_energy, versions
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
                 logdir: Path, charges: bool = True, other_spin: bool = False) -> dict[str, Any]:
    """One SCF of ``structure`` with the charge and spin state of ``relaxation``; writes ``out``.
    ``other_spin``: where the relaxation computed both spin states, also the one it did not keep, at the
    same geometry (``other_spin`` in ``out``; ``spin_gap_eV``: its energy minus the kept one's)."""
    from .fileio import write_json
    from .mpi import on_rank0, say, world

    atoms = read(structure)
    box = box_for(read(box_from) if box_from else atoms, dft.vacuum, dft.h)
    atoms = boxed(atoms, dft.vacuum, dft.h, box)
    logdir.mkdir(parents=True, exist_ok=True)
    kept = spin_point(atoms, relaxation, relaxation.spin_state, dft, logdir / f"gpaw-{out.stem}.txt", charges)
    result: dict[str, Any] = {
        "structure_id": relaxation.structure_id, "structure": str(structure), **kept,
        "charge": relaxation.charge, "fingerprint": dft.fingerprint(), "dft": dft.energy_settings(),
        "relaxation_fingerprint": relaxation.fingerprint, "box_A": [round(float(x), 4) for x in box],
        "mpi_ranks": world().size, "versions": versions(),
    }
    if charges:
        result.update(hirshfeld_record(atoms, relaxation.charge, out))
    others = [s for s in relaxation.spin_energies if s != relaxation.spin_state]
    if other_spin and others:
        other = spin_point(atoms.copy(), relaxation, others[0], dft, logdir / f"gpaw-{out.stem}-{others[0]}.txt")
        result.update(other_spin=other, spin_gap_eV=other["energy"] - kept["energy"])
    peak = np.array([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0])
    world().max(peak)
    result["peak_memory_mb"] = round(float(peak[0]) * world().size, 1)
    on_rank0(lambda: write_json(out, result))
    say(f"{relaxation.structure_id}: E = {kept['energy']:.6f} eV ({kept['scf_iterations']} SCF iterations, "
        f"{kept['wall_time_s']:.0f} s)" + (f"; {others[0]} {result['spin_gap_eV']:+.4f} eV" if "other_spin" in result
                                          else ""))
    return result


def spin_point(atoms: Atoms, relaxation: RelaxResult, spin: str, dft: DFTSettings, txt: Path,
               legacy: bool = False) -> dict[str, Any]:
    """One SCF of ``atoms`` in ``spin`` ('paired', or 'polarized' with the relaxation's fixed moment)."""
    from .relax import polarized_moment

    moment = polarized_moment(atoms, relaxation.charge) if spin == "polarized" else None
    if moment is not None:
        atoms.set_initial_magnetic_moments(initial_magmoms(atoms, moment))
    t0 = time.perf_counter()
    energy, iterations, rung = scf_energy(atoms, dft, relaxation.charge, txt, fixed_moment=moment, legacy=legacy)
    return {"energy": energy, "spin_state": spin, "fixed_moment": moment, "scf_iterations": iterations,
            "scf_rung": rung, "wall_time_s": round(time.perf_counter() - t0, 1)}


def hirshfeld_record(atoms: Atoms, charge: int, out: Path) -> dict[str, Any]:
    """The Hirshfeld charges of a converged calculation, the grid's small integration error spread evenly."""
    q = hirshfeld_charges(atoms.calc, atoms)
    residual = float(q.sum()) - charge
    if abs(residual) > charge_sum_tolerance(len(atoms)):
        raise InputError(out, f"Hirshfeld charges sum to {q.sum():.3f} e, not the net charge {charge}",
                         "check the SCF log and the grid (dft.h); the density does not integrate to the ion")
    return {"charges": [round(float(x), 5) for x in q - residual / len(q)], "charge_model": "Hirshfeld (GPAW)",
            "charge_sum_before_correction": round(float(q.sum()), 5),
            "charge_correction_per_atom": round(-residual / len(q), 6)}


def main(argv: list[str] | None = None) -> int:
    from .mpi import exit_status

    p = argparse.ArgumentParser(prog="clusterdefects.singlepoint", description=__doc__.splitlines()[0])
    p.add_argument("structure", type=Path, help="relaxed.xyz of a relaxation")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--relaxation", type=Path, required=True, help="its result.json (charge, kept spin state)")
    p.add_argument("--settings", required=True, help="JSON: {dft: {...}}")
    p.add_argument("--box-from", type=Path)
    p.add_argument("--no-charges", action="store_true", help="skip the Hirshfeld charges")
    p.add_argument("--other-spin", action="store_true",
                   help="also the spin state the relaxation computed but did not keep, at the same geometry")
    args = p.parse_args(argv)
    return exit_status("clusterdefects.singlepoint", args.structure, lambda: single_point(
        args.structure, RelaxResult.read(args.relaxation), DFTSettings.from_config(json.loads(args.settings).get("dft", {})),
        args.output, args.box_from, args.output.parent / "logs", not args.no_charges, args.other_spin), (InputError,))


if __name__ == "__main__":
    sys.exit(main())
