"""What pressing two BDT rings together costs, per LCAO basis (counterpoise-corrected, no dispersion in PBE).

    .venv/bin/python benchmarks/bench_ring_pair.py [--distances 3.0 3.4 4.6] [--bases sz(dzp) mixed dzp]

Two benzene-1,3-dithiol molecules (the BDT ligand with H on its S) stacked face to face, slipped by 1.4 Å,
ring planes ``d`` Å apart, at the screen preset's settings (grid, box rule, functional, smearing) with the
basis varied. Per basis and distance it prints the counterpoise interaction E(AB) - E(A + ghost B) -
E(ghost A + B) (the ghosts carry the partner's basis functions, no nucleus, no electrons) and, per basis,
its rise from the farthest distance to the nearest. Aromatic rings touch at about 3.4 Å: closer, their
Pauli repulsion rises steeply. PBE has no dispersion to bind them, so a basis that makes pressing cheap lets
a relaxation pack the rings of a ligand shell together (README "The ligands' basis"). ``mixed`` is the
screen preset's own basis. Serial GPAW; three SCFs per basis and distance, seconds to a minute each.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import molecule

from clusterdefects.dft import DFTSettings, basis_label, boxed, scf_energy
from clusterdefects.study import CONFIG_FILE, load_study, read_config

ROOT = Path(__file__).resolve().parents[1]
C_S, S_H = 1.77, 1.34  # Å: aryl C-S and S-H bond lengths
SLIP = 1.4  # Å: the parallel-displaced stack's in-plane offset


def benzene_dithiol() -> Atoms:
    """Benzene-1,3-dithiol in the xy plane, centred on its ring: the H on C1 and C3 replaced by S-H."""
    ring = molecule("C6H6")
    ring.positions -= ring.positions[:6].mean(axis=0)
    symbols, positions = [], []
    h_on = {int(np.argmin(np.linalg.norm(ring.positions[:6] - h.position, axis=1))): h.index for h in ring if h.symbol == "H"}
    for c in range(6):
        symbols.append("C")
        positions.append(ring.positions[c])
    for c in range(6):
        out = ring.positions[c] / np.linalg.norm(ring.positions[c])
        if c in (0, 2):  # meta positions
            s = ring.positions[c] + C_S * out
            tangent = np.cross([0.0, 0.0, 1.0], out)
            symbols += ["S", "H"]
            positions += [s, s + S_H * (np.cos(np.radians(84.0)) * out + np.sin(np.radians(84.0)) * tangent)]
        else:
            symbols.append("H")
            positions.append(ring.positions[h_on[c]])
    return Atoms(symbols, positions=positions)


def stacked_pair(distance: float) -> Atoms:
    """Two molecules, the second turned by 180° about z, ``distance`` Å above and slipped along x."""
    a = benzene_dithiol()
    b = a.copy()
    b.rotate(180, "z")
    b.positions += [SLIP, 0.0, distance]
    return a + b


def interaction(pair: Atoms, settings: DFTSettings, logdir: Path) -> tuple[float, float]:
    """(counterpoise interaction energy in eV, wall seconds) of the pair's two halves."""
    n = len(pair) // 2
    placed = boxed(pair, settings.vacuum, settings.h)
    t0 = time.perf_counter()
    energies = [scf_energy(placed.copy(), settings, 0, logdir / f"{name}.txt", ghosts=ghosts)[0]
                for name, ghosts in (("AB", ()), ("A", tuple(range(n, 2 * n))), ("B", tuple(range(n))))]
    return energies[0] - energies[1] - energies[2], time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distances", type=float, nargs="+", default=[3.0, 3.4, 4.6], help="ring plane distances (Å)")
    parser.add_argument("--bases", nargs="+", default=["sz(dzp)", "mixed", "dzp"],
                        help="GPAW basis names; 'mixed' is the screen preset's per-element basis")
    parser.add_argument("--preset", default="screen")
    parser.add_argument("--logdir", type=Path, default=Path("/tmp/bench_ring_pair"))
    args = parser.parse_args()
    study = load_study(read_config(ROOT / CONFIG_FILE), args.preset)
    preset = DFTSettings.from_config(study.settings["dft"])
    distances = sorted(args.distances)
    print(f"counterpoise interaction of two stacked benzene-1,3-dithiols (eV), {args.preset} settings "
          f"(h {preset.h} Å, {preset.xc}); rise = nearest minus farthest")
    print(f"{'basis':<22}" + "".join(f"{f'd {d:.2f} Å':>12}" for d in distances) + f"{'rise':>10}{'wall s':>8}")
    for name in args.bases:
        settings = replace(preset, basis=preset.basis if name == "mixed" else name)
        row, wall = [], 0.0
        for d in distances:
            logdir = args.logdir / basis_label(settings.basis) / f"d{d:.2f}"
            logdir.mkdir(parents=True, exist_ok=True)
            energy, seconds = interaction(stacked_pair(d), settings, logdir)
            row.append(energy)
            wall += seconds
        print(f"{basis_label(settings.basis):<22}" + "".join(f"{e:>+12.4f}" for e in row)
              + f"{row[0] - row[-1]:>+10.4f}{wall:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
