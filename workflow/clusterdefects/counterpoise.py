"""Boys-Bernardi counterpoise correction of a dopant-loss energy: ``gpaw python -m clusterdefects.counterpoise``.

In LCAO each fragment of a doped isomer i borrows its partner's basis functions, which lowers E(i)
artificially (basis-set superposition). For the dopant-loss energy

    E_frag(i -> j) = E(vacancy j) + E(dopant atom) - E(doped i)

the correction is taken at i's relaxed geometry, in the study's box, as four single points:

    delta_i = [E(dopant, own basis) - E(dopant, basis of i)] + [E(host, own basis) - E(host, basis of i)]

where "host" is i without its dopant (the vacancy's charge and the spin state its vacancy kept) and the
partner's basis is carried by ghost atoms (GPAW ``setups={index: 'ghost'}``). Then
E_frag,cp(i -> j) = E_frag(i -> j) - delta_i. Each single point is saved as it finishes, so a killed run
goes on from the last one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read

from .dft import DFTSettings, box_for, boxed, initial_magmoms, scf_energy, versions
from .errors import InputError


@dataclass(frozen=True)
class SinglePoint:
    """One counterpoise calculation: which atoms are real, which are ghosts, charge and spin."""

    name: str
    real: tuple[int, ...]
    ghosts: tuple[int, ...]
    charge: int
    fixed_moment: float | None


def single_points(doped: Atoms, dopant_index: int, host_charge: int, host_moment: float | None,
                  dopant_moment: float | None) -> list[SinglePoint]:
    """The four calculations of ``delta_i`` for a doped isomer with its dopant at ``dopant_index``."""
    host = tuple(i for i in range(len(doped)) if i != dopant_index)
    dopant = (dopant_index,)
    return [
        SinglePoint("dopant_own_basis", dopant, (), 0, dopant_moment),
        SinglePoint("dopant_full_basis", dopant, host, 0, dopant_moment),
        SinglePoint("host_own_basis", host, (), host_charge, host_moment),
        SinglePoint("host_full_basis", host, dopant, host_charge, host_moment),
    ]


def correction(energies: dict[str, float]) -> float:
    """delta_i (eV, >= 0 when the partner's basis lowers each fragment): subtract it from E_frag."""
    return ((energies["dopant_own_basis"] - energies["dopant_full_basis"])
            + (energies["host_own_basis"] - energies["host_full_basis"]))


def fragment_atoms(boxed_doped: Atoms, point: SinglePoint) -> tuple[Atoms, tuple[int, ...]]:
    """The atoms of one single point (real then ghosts, same positions and box) and the ghost indices."""
    order = list(point.real) + list(point.ghosts)
    atoms = boxed_doped[order]
    return atoms, tuple(range(len(point.real), len(order)))


def identity(doped: Atoms, dft: DFTSettings, box: np.ndarray, point: SinglePoint) -> str:
    """What a saved single point must match to be reused."""
    text = json.dumps({"positions": np.round(doped.positions, 5).tolist(), "symbols": str(doped.symbols),
                       "fingerprint": dft.fingerprint(), "box": np.round(box, 4).tolist(),
                       "point": point.__dict__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_counterpoise(doped_path: Path, out: Path, dft: DFTSettings, host_charge: int, host_spin: str,
                     dopant_spin: str, box_from: Path | None, logdir: Path) -> dict[str, Any]:
    """Compute (or resume) the four single points of a doped isomer and write ``out`` (JSON).

    ``host_spin``/``dopant_spin``: the spin state ('paired' or 'polarized') the vacancy and the free atom
    kept in their relaxations; a polarized one is computed with the same fixed moment.
    """
    from .fileio import write_json
    from .mpi import on_rank0, say, world
    from .relax import polarized_moment

    doped = read(doped_path)
    if "site_index" not in doped.info:
        raise InputError(doped_path, "no site_index: not a doped isomer written by this workflow",
                         "give a doped isomer's relaxed.xyz")
    index = int(doped.info["site_index"])
    host, dopant = doped[[i for i in range(len(doped)) if i != index]], doped[[index]]
    host_moment = polarized_moment(host, host_charge) if host_spin == "polarized" else None
    dopant_moment = polarized_moment(dopant, 0) if dopant_spin == "polarized" else None
    box = box_for(read(box_from) if box_from else doped, dft.vacuum, dft.h)
    boxed_doped = boxed(doped, dft.vacuum, dft.h, box)
    partial = out.with_suffix(".partial.json")
    saved = json.loads(partial.read_text()) if partial.is_file() else {}
    logdir.mkdir(parents=True, exist_ok=True)
    for point in single_points(doped, index, host_charge, host_moment, dopant_moment):
        key = identity(doped, dft, box, point)
        if saved.get(point.name, {}).get("identity") == key:
            continue
        atoms, ghosts = fragment_atoms(boxed_doped, point)
        if point.fixed_moment is not None:
            real = atoms[: len(point.real)]
            atoms.set_initial_magnetic_moments(initial_magmoms(real, point.fixed_moment) + [0.0] * len(ghosts))
        t0 = time.perf_counter()
        energy, iterations, rung = scf_energy(atoms, dft, point.charge, logdir / f"gpaw-{point.name}.txt",
                                              fixed_moment=point.fixed_moment, ghosts=ghosts)
        saved[point.name] = {"identity": key, "energy": energy, "n_real": len(point.real), "n_ghosts": len(ghosts),
                             "charge": point.charge, "fixed_moment": point.fixed_moment, "scf_iterations": iterations,
                             "scf_rung": rung, "wall_time_s": round(time.perf_counter() - t0, 1)}
        on_rank0(lambda: write_json(partial, saved))
        say(f"{point.name:18s} E = {energy:.6f} eV  ({len(point.real)} atoms, {len(ghosts)} ghosts, "
            f"{saved[point.name]['wall_time_s']} s)")
    energies = {name: entry["energy"] for name, entry in saved.items()}
    delta = correction(energies)
    result = {
        "structure_id": doped.info.get("structure_id", doped_path.parent.name),
        "dopant": doped[index].symbol, "dopant_index": index, "correction_eV": delta,
        "dopant_correction_eV": energies["dopant_own_basis"] - energies["dopant_full_basis"],
        "host_correction_eV": energies["host_own_basis"] - energies["host_full_basis"],
        "single_points": saved, "fingerprint": dft.fingerprint(), "dft": dft.energy_settings(),
        "spin_states": {"host": host_spin, "dopant": dopant_spin},
        "box_A": [round(float(x), 4) for x in box], "mpi_ranks": world().size, "versions": versions(),
        "use": "E_frag,cp(i -> j) = E_frag(i -> j) - correction_eV",
    }
    def write() -> None:
        write_json(out, result)
        partial.unlink(missing_ok=True)

    on_rank0(write)
    say(f"{result['structure_id']}: counterpoise correction {delta:.4f} eV "
        f"(dopant {result['dopant_correction_eV']:.4f}, host {result['host_correction_eV']:.4f})")
    return result


def main(argv: list[str] | None = None) -> int:
    from .mpi import exit_status
    from .results import RelaxResult

    p = argparse.ArgumentParser(prog="clusterdefects.counterpoise", description=__doc__.splitlines()[0])
    p.add_argument("doped", type=Path, help="relaxed.xyz of a doped isomer")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--settings", required=True, help="JSON: {dft: {...}}")
    p.add_argument("--vacancy-result", type=Path, required=True,
                   help="result.json of the vacancy made from this isomer (its charge and kept spin state)")
    p.add_argument("--atom-result", type=Path, required=True, help="result.json of the free dopant atom")
    p.add_argument("--box-from", type=Path, help="structure whose box the study shares")
    args = p.parse_args(argv)
    def counterpoise() -> None:
        vacancy, atom = RelaxResult.read(args.vacancy_result), RelaxResult.read(args.atom_result)
        run_counterpoise(args.doped, args.output, DFTSettings.from_config(json.loads(args.settings).get("dft", {})),
                         int(vacancy.charge), vacancy.spin_state, atom.spin_state, args.box_from,
                         args.output.parent / "logs" / args.output.stem)

    return exit_status("clusterdefects.counterpoise", None, counterpoise, (InputError,))


if __name__ == "__main__":
    sys.exit(main())
