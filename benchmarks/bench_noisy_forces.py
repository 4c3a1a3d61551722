"""Force-only optimizers on forces with SCF-like noise: DFT-call counts to fmax (EMT, no GPAW; seconds).

    .venv/bin/python benchmarks/bench_noisy_forces.py [--noise 0.012] [--fmax 0.05 0.04] [--energy-noise 0.001]

EMT Cu55 (an icosahedron rattled by 0.05 Å, seed 3) with Gaussian noise of ``--noise`` eV/Å added to
every force component, as two SCFs of one open-shell geometry differ (benchmarks/README.md "The noise an
optimizer sees on the open shell"). Each optimizer runs to each fmax (at most 300 calls) and prints the
calls it took and the fmax it ended at, and its calls as a ratio of FIRE's (the study's line-search
fallback, `relax.LINE_SEARCH_FALLBACK`). The EMT calculator with noise is a stand-in for the optimizer
logic only; the DFT numbers are in the study's results.

A second table runs the study's own `relax.run_optimizer` (PreconLBFGS, FIRE after a failed line search)
on the same Cu55 with Gaussian noise of ``--energy-noise`` eV on every energy (two SCFs of one geometry
differ by about the SCF's energy tolerance): calls to fmax with ASE's line-search floor (a = 1e-10) and
with the SCF-noise floor (`relax.NoiseAwarePreconLBFGS`, told the same tolerance), and the calls that
made no step (spent in line searches).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from ase.calculators.emt import EMT
from ase.cluster import Icosahedron
from ase.optimize import BFGS, FIRE, ODE12r

MAX_CALLS = 300


def noisy_emt(noise: float = 0.0, energy_noise: float = 0.0, seed: int = 0) -> EMT:
    """EMT with Gaussian noise of ``noise`` eV/Å on each force component and ``energy_noise`` eV on the energy."""
    rng = np.random.default_rng(seed)

    class NoisyEMT(EMT):
        calls = 0

        def calculate(self, *args, **kwargs):
            super().calculate(*args, **kwargs)
            NoisyEMT.calls += 1
            if noise:
                self.results["forces"] = self.results["forces"] + rng.normal(0, noise, self.results["forces"].shape)
            if energy_noise:
                shift = rng.normal(0, energy_noise)
                for key in ("energy", "free_energy"):
                    self.results[key] += shift

    return NoisyEMT()


def calls_to_fmax(optimizer: type, noise: float, fmax: float) -> tuple[int, float, bool]:
    """(calls, final fmax, reached) of one optimizer from the rattled Cu55."""
    atoms = Icosahedron("Cu", 3)
    atoms.rattle(0.05, seed=3)
    atoms.calc = noisy_emt(noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reached = bool(optimizer(atoms, logfile=None).run(fmax=fmax, steps=MAX_CALLS))
        except Exception:  # ODE12r gives up when its step falls below its minimum
            reached = False
    final = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
    return type(atoms.calc).calls, final, reached


def study_relax_calls(energy_noise: float, floor: float, fmax: float) -> tuple[int, int, int | None, bool]:
    """(calls, recorded steps, step of the fallback, reached) of the study's optimizer loop on the rattled Cu55."""
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    from clusterdefects.checkpoint import Progress
    from clusterdefects.relax import RelaxSettings, StepRecorder, run_optimizer

    atoms = Icosahedron("Cu", 3)
    atoms.rattle(0.05, seed=3)
    atoms.calc = noisy_emt(energy_noise=energy_noise)
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        recorder = StepRecorder(atoms, "paired", Path(folder), Progress(), 0)
        try:
            reached = run_optimizer(atoms, RelaxSettings(optimizer="PreconLBFGS", fmax=fmax, steps=MAX_CALLS),
                                    Path(folder), recorder, floor)
        finally:
            recorder.close()
    progress = recorder.progress
    return type(atoms.calc).calls, progress.steps, progress.fallback_at_step, reached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, default=0.012, help="eV/Å per force component")
    parser.add_argument("--fmax", type=float, nargs="+", default=[0.05, 0.04])
    parser.add_argument("--energy-noise", type=float, default=0.001, help="eV per energy (second table)")
    args = parser.parse_args()
    print(f"EMT Cu55, force noise {args.noise} eV/Å per component, at most {MAX_CALLS} steps")
    print(f"{'optimizer':<10} {'fmax':>6} {'calls':>6} {'end fmax':>9} {'reached':>8} {'calls/FIRE':>10}")
    for fmax in args.fmax:
        fire = calls_to_fmax(FIRE, args.noise, fmax)[0]
        for optimizer in (FIRE, ODE12r, BFGS):
            calls, final, reached = calls_to_fmax(optimizer, args.noise, fmax)
            print(f"{optimizer.__name__:<10} {fmax:>6.3f} {calls:>6d} {final:>9.3f} {str(reached):>8} {calls / fire:>10.2f}")
    print(f"\nThe study's PreconLBFGS (FIRE after a failed line search), energy noise {args.energy_noise} eV per call")
    print(f"{'line-search floor':<22} {'fmax':>6} {'calls':>6} {'steps':>6} {'no-step calls':>13} {'FIRE from':>9} "
          f"{'reached':>8} {'calls/ASE':>9}")
    for fmax in args.fmax:
        runs = {name: study_relax_calls(args.energy_noise, floor, fmax)
                for name, floor in (("ASE (a = 1e-10)", 0.0), ("SCF noise", args.energy_noise))}
        ase_calls = runs["ASE (a = 1e-10)"][0]
        for name, (calls, steps, fallback, reached) in runs.items():
            print(f"{name:<22} {fmax:>6.3f} {calls:>6d} {steps:>6d} {calls - steps - 1:>13d} {str(fallback):>9} "
                  f"{str(reached):>8} {calls / ase_calls:>9.2f}")


if __name__ == "__main__":
    main()
