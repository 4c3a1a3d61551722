"""The optimizer logic of `relax` on EMT (no GPAW): the line-search fallback, the step limit, going on
after an interruption."""

from clusterdefects.relax import RelaxSettings


class DriftingEnergyEMT:
    """A fake calculator for the optimizer logic only: EMT whose energy rises ``drift`` eV with every call
    after the first ``after`` (forces exact), as an SCF that stops at a slightly different point each time
    would make it."""

    def __new__(cls, drift: float, after: int = 0):
        from ase.calculators.emt import EMT

        class Drifting(EMT):
            calls = 0

            def calculate(self, *args, **kwargs):
                super().calculate(*args, **kwargs)
                Drifting.calls += 1
                for key in ("energy", "free_energy"):
                    self.results[key] += drift * max(Drifting.calls - after, 0)

        return Drifting()


def relax_cu13(tmp_path, relax, drift=0.02, after=0, progress=None, energy_noise=0.0):
    """A rattled Cu13 relaxed by ``run_optimizer`` on the drifting EMT; returns (converged, progress, frames, atoms)."""
    from ase.cluster import Icosahedron
    from ase.io import Trajectory

    from clusterdefects.checkpoint import Progress
    from clusterdefects.relax import StepRecorder, run_optimizer

    atoms = Icosahedron("Cu", 2)
    atoms.rattle(0.1, seed=3)
    atoms.calc = DriftingEnergyEMT(drift, after)
    recorder = StepRecorder(atoms, "paired", tmp_path, progress or Progress(), 0)
    try:
        converged = run_optimizer(atoms, relax, tmp_path, recorder, energy_noise)
    finally:
        recorder.close()
    return converged, Progress.load(tmp_path / "progress.json"), list(Trajectory(str(tmp_path / "relax.traj"))), atoms


def test_a_failed_line_search_goes_on_with_the_force_only_optimizer(tmp_path):
    """PreconLBFGS's Armijo line search cannot go down once energy noise outweighs the decrease; the
    relaxation goes on from its last step with FIRE to the same fmax, and says from which step."""
    import numpy as np

    relax = RelaxSettings(optimizer="PreconLBFGS", fmax=0.01, steps=300)
    converged, progress, frames, atoms = relax_cu13(tmp_path, relax, after=12)
    assert converged and progress.fallback_at_step is not None and 0 < progress.fallback_at_step < progress.steps
    assert progress.fallbacks == [["FIRE", progress.fallback_at_step]]
    assert len(frames) == progress.steps + 1
    assert all(not np.array_equal(a.positions, b.positions) for a, b in zip(frames, frames[1:]))
    assert np.array_equal(atoms.positions, frames[-1].positions)
    assert np.sqrt((frames[-1].get_forces() ** 2).sum(axis=1).max()) < 0.01


def test_a_line_search_at_the_scf_noise_gives_up_within_a_few_calls(tmp_path):
    """Backtracking stops once a trial's promised decrease is below the SCF's energy tolerance: the failed
    step costs a few calls, not ASE's ~15 per search, and the relaxation still reaches fmax with FIRE."""
    calls = {}
    for noise in (0.0, 0.001):
        folder = tmp_path / str(noise)
        folder.mkdir()
        converged, progress, _, atoms = relax_cu13(folder, RelaxSettings(optimizer="PreconLBFGS", fmax=0.01, steps=300),
                                                   drift=0.001, after=12, energy_noise=noise)
        assert converged and progress.fallback_at_step is not None
        calls[noise] = type(atoms.calc).calls - progress.steps  # the calls that made no recorded step
    assert calls[0.001] <= 10 < 20 <= calls[0.0], calls


def test_the_fallback_optimizer_stops_at_the_step_limit_on_a_recorded_step(tmp_path):
    """The limit is on recorded steps, and the atoms end on one."""
    import numpy as np

    from clusterdefects.checkpoint import Progress

    relax = RelaxSettings(optimizer="PreconLBFGS", fmax=1e-4, steps=6)
    converged, progress, frames, atoms = relax_cu13(tmp_path, relax, progress=Progress(fallback_at_step=0))
    assert not converged and progress.steps == 6 and len(frames) == 7
    assert np.array_equal(atoms.positions, frames[-1].positions)


def test_preconlbfgs_goes_on_after_an_interruption_without_reading_its_own_state(tmp_path):
    """An SCF-ladder climb starts a new optimizer in the same folder: PreconLBFGS's saved state cannot be
    read back (ASE leaves it half-initialised), so it goes on from the last step with a fresh memory."""
    from clusterdefects.relax import run_optimizer

    converged, progress, frames, atoms = relax_cu13(tmp_path, RelaxSettings(optimizer="PreconLBFGS", fmax=0.01,
                                                                             steps=3), drift=0.0)
    assert not converged and progress.steps == 3
    from clusterdefects.relax import StepRecorder

    recorder = StepRecorder(atoms, "paired", tmp_path, progress, len(frames))
    try:
        assert run_optimizer(atoms, RelaxSettings(optimizer="PreconLBFGS", fmax=0.01, steps=100), tmp_path, recorder)
    finally:
        recorder.close()


def test_a_state_that_ended_is_taken_from_its_checkpoint(tmp_path):
    """A resumed relaxation takes a spin state that reached fmax (or its step limit) from the last recorded
    frame, energy and forces included, instead of a fresh SCF; one that did not is run on."""
    import numpy as np

    from clusterdefects.relax import recorded_end

    converged, progress, frames, _ = relax_cu13(tmp_path, RelaxSettings(optimizer="BFGS", fmax=0.05), drift=0.0)
    assert converged
    traj = tmp_path / "relax.traj"
    ended = recorded_end(traj, RelaxSettings(optimizer="BFGS", fmax=0.05))
    assert ended is not None and np.array_equal(ended.positions, frames[-1].positions)
    assert ended.get_potential_energy() == frames[-1].get_potential_energy()
    assert recorded_end(traj, RelaxSettings(optimizer="BFGS", fmax=1e-4, steps=500)) is None
    assert recorded_end(traj, RelaxSettings(optimizer="BFGS", fmax=1e-4, steps=progress.steps)) is not None
    assert recorded_end(tmp_path / "none.traj", RelaxSettings()) is None


def test_the_fallback_reaches_fmax_under_force_noise(tmp_path):
    """Forces with SCF-like noise (0.012 eV/Å per component) on EMT Cu55: the fallback still reaches fmax 0.04
    (ODE12r, the fallback before, stalled above it: benchmarks/bench_noisy_forces.py)."""
    import numpy as np
    from ase.calculators.emt import EMT
    from ase.cluster import Icosahedron

    from clusterdefects.checkpoint import Progress
    from clusterdefects.relax import StepRecorder, run_optimizer

    class NoisyEMT(EMT):  # a fake calculator, for the optimizer logic only
        rng = np.random.default_rng(0)

        def calculate(self, *args, **kwargs):
            super().calculate(*args, **kwargs)
            self.results["forces"] = self.results["forces"] + self.rng.normal(0, 0.012, self.results["forces"].shape)

    atoms = Icosahedron("Cu", 3)
    atoms.rattle(0.05, seed=3)
    atoms.calc = NoisyEMT()
    recorder = StepRecorder(atoms, "paired", tmp_path, Progress(fallback_at_step=0), 0)
    try:
        assert run_optimizer(atoms, RelaxSettings(optimizer="PreconLBFGS", fmax=0.04, steps=200), tmp_path, recorder)
    finally:
        recorder.close()


def test_a_checkpoint_of_the_old_fallback_goes_on_with_the_new_one(tmp_path):
    """A checkpoint saved while ODE12r was the fallback (its progress names none) goes on with FIRE from its last
    step, with no optimizer state of the old one, and the record keeps both."""
    import json

    from clusterdefects.checkpoint import Progress

    (tmp_path / "progress.json").write_text(json.dumps({"steps": 0, "fallback_at_step": 0}))
    (tmp_path / "optimizer.json").write_text("not FIRE's state")
    relax = RelaxSettings(optimizer="PreconLBFGS", fmax=1e-4, steps=3)
    converged, progress, frames, _ = relax_cu13(tmp_path, relax, progress=Progress.load(tmp_path / "progress.json"))
    assert progress.fallbacks == [["ODE12r", 0], ["FIRE", 0]] and progress.steps == 3


def test_a_resumed_preconlbfgs_keeps_its_preconditioner_mu_and_saves_two_force_calls(tmp_path):
    """ASE's Exp preconditioner (PreconLBFGS from 100 atoms on) estimates mu with two extra force calls; the
    checkpoint keeps it, so a resumed run (or the next spin state) starts with it and spends no calls on it."""
    from ase.calculators.emt import EMT
    from ase.cluster import Icosahedron

    from clusterdefects.checkpoint import Progress
    from clusterdefects.relax import keep_precon_mu, make_optimizer

    def first_step_calls(mu):
        atoms = Icosahedron("Cu", 4)  # 147 atoms, in a box as every relaxation is
        atoms.center(vacuum=5.0)
        atoms.rattle(0.05, seed=1)
        calls = []

        class Counting(EMT):
            def calculate(self, *args, **kwargs):
                calls.append(1)
                super().calculate(*args, **kwargs)

        atoms.calc = Counting()
        progress = Progress(precon_mu=mu)
        optimizer = make_optimizer("PreconLBFGS", atoms, tmp_path / f"opt-{mu}.json", precon_mu=mu)
        optimizer.attach(keep_precon_mu(optimizer, progress), interval=1)
        optimizer.run(fmax=1e-6, steps=1)
        return len(calls), progress.precon_mu

    fresh, mu = first_step_calls(None)
    resumed, kept = first_step_calls(mu)
    assert mu is not None and kept == mu
    assert resumed == fresh - 2
