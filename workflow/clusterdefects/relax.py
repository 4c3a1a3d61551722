"""Restartable GPAW relaxation of one structure: ``gpaw python -m clusterdefects.relax ...``.

Every MPI rank runs this module (GPAW needs all ranks for energies and forces); only rank 0
writes files.  The optimizer appends each step to a trajectory and saves its state (for BFGS,
the Hessian), so a run killed at any point continues from its last step when started again.  An
SCF that does not converge climbs ``dft.SCF_LADDER``; a relaxation that runs out of steps is
written with ``converged: false``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read
from ase.io.trajectory import Trajectory
from ase.optimize import BFGS, FIRE, LBFGS, BFGSLineSearch
from ase.optimize.optimize import Optimizer
from ase.optimize.precon import Exp, PreconLBFGS

from .checkpoint import (Progress, checkpoint_identity, continue_from, final_hessian, forget_optimizer_state,
                         has_frames, mark_finished, mark_running, prepare_checkpoint, resume_positions, seed_hessian)
from .dft import (SCF_LADDER, DFTSettings, apply_rung, box_for, boxed, fmax_of, initial_magmoms, make_calculator,
                  versions)
from .errors import InputError
from .mpi import exit_status, on_rank0, save_json, say, world
from .results import RelaxResult


class NoiseAwarePreconLBFGS(PreconLBFGS):
    """ASE's PreconLBFGS whose Armijo line search stops backtracking once a trial step's promised energy
    decrease, c1 a |g.p|, is below ``energy_noise`` (eV, the SCF's energy tolerance): from there on the test
    compares SCF noise, not energies. ASE's own floor (a = 1e-10) spent about 15 DFT calls on each of the
    two searches of a failed step (results/screen: 34 calls, 12 minutes, for one step of a 173-atom parent).
    Steps that pass the test are unchanged."""

    def __init__(self, atoms: Atoms, energy_noise: float = 0.0, **kwargs: Any) -> None:
        super().__init__(atoms, **kwargs)
        self.energy_noise = energy_noise
        self._ase_a_min = self.a_min

    def line_search(self, r: np.ndarray, g: np.ndarray, e: float, previously_reset_hessian: bool) -> None:
        slope = abs(float(np.vdot(g, self.p)))
        floor = self.energy_noise / (self.c1 * slope) if slope > 0 else 0.0
        self.a_min = max(self._ase_a_min, floor)
        super().line_search(r, g, e, previously_reset_hessian)


#: PreconLBFGS: ASE's default (Exp preconditioner from 100 atoms on, Armijo line search, whose trial
#: energies are DFT calls too: ``count_dft_calls`` counts every one), its line search bounded by the SCF's
#: noise (``NoiseAwarePreconLBFGS``).
OPTIMIZERS = {"BFGS": BFGS, "LBFGS": LBFGS, "FIRE": FIRE, "BFGSLineSearch": BFGSLineSearch,
              "PreconLBFGS": NoiseAwarePreconLBFGS}
#: Optimizers that take their saved state back after a kill at any point: BFGS skips an update with no
#: displacement and FIRE keeps only velocities. The L-BFGS family would divide by zero when a kill fell
#: between a saved step and its forces, so they resume from the last frame with a fresh memory.
RESUMES_OWN_STATE = ("BFGS", "FIRE")
#: What a line-search optimizer goes on with, from its last step, when its line search fails: the energy
#: changes along its steps have reached the SCF's noise (an open shell's soft Jahn-Teller slide measured
#: 4.7 meV between two SCFs of one geometry). FIRE steps on forces alone, with no line search, curvature
#: estimate or error control for the noise to upset, to the same fmax, and resumes its own state. (ODE12r,
#: the fallback before, stalled on the crown vacancy: its error control, fed by force noise, cut its steps to
#: 0.0003 Å with fmax 0.066; on EMT Cu55 with 0.012 eV/Å of force noise it missed fmax 0.04 in 300 calls,
#: where FIRE took 61.)
LINE_SEARCH_FALLBACK = "FIRE"
SPIN_POLICIES = ("paired", "polarized", "lowest")
#: Tolerances (Å) at which a relaxed structure's point group is reported.
POINT_GROUP_TOLERANCES = (0.02, 0.1, 0.3)


class SCFFailure(RuntimeError):
    """The SCF did not converge on any rung of the ladder."""


@dataclass(frozen=True)
class RelaxSettings:
    optimizer: str = "BFGS"
    fmax: float = 0.05
    steps: int = 200
    #: rms displacement (Å) of the metal and S atoms of an open-shell or symmetric start, and its random seed.
    displace: float = 0.03
    seed: int = 0
    #: A run whose settings changed goes on from where its checkpoint at the old settings stopped
    #: (``checkpoint.continue_from``) instead of from its start.
    continue_other_settings: bool = False

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> RelaxSettings:
        settings = cls(**cfg)
        if settings.optimizer not in OPTIMIZERS:
            raise InputError("config/config.yaml", f"unknown optimizer {settings.optimizer!r}",
                             f"use one of {', '.join(OPTIMIZERS)}")
        return settings


@dataclass
class StateResult:
    """Outcome of relaxing one spin state."""

    spin: str
    atoms: Atoms
    energy: float
    fmax: float
    converged: bool
    magmom: float
    settings: DFTSettings
    progress: Progress


def polarized_moment(atoms: Atoms, charge: int) -> float:
    """The fixed total moment (μB) of a 'polarized' run: a triplet (2) for an even electron count, else a doublet."""
    from .validate import electron_count

    return 1.0 if electron_count(atoms, charge) % 2 else 2.0


def spin_label(spin: str, atoms: Atoms, charge: int) -> str:
    return f"polarized (fixed M = {polarized_moment(atoms, charge):g})" if spin == "polarized" else spin


def displace_start(start: Atoms, charge: int, relax: RelaxSettings) -> tuple[Atoms, dict[str, Any]]:
    """A start moved off its symmetry by a seeded random displacement of its metal and S atoms (rms
    ``relax.displace`` Å, no net translation) when it has an open shell (Jahn-Teller active) or any symmetry at
    0.02 Å (an optimizer keeps a symmetric start symmetric, and the symmetric point can be a saddle: the
    T-symmetric Ag29 parent, displaced, relaxed 0.017 eV lower); a C1 closed shell or a free atom as it is.
    Returns the start and what was done (for result.json)."""
    from .pipeline import cluster_electrons
    from .elements import NONMETALS
    from .validate import is_closed_shell

    count = cluster_electrons(start, charge)
    record: dict[str, Any] = {"superatom_electrons": count, "closed_shell": is_closed_shell(count)}
    moved = [a.index for a in start if a.symbol not in NONMETALS or a.symbol == "S"]
    if relax.displace <= 0 or len(moved) < 2:  # a free atom has no symmetry to break
        return start, {**record, "displacement": None}
    group = point_groups(start)["0.02"]
    if record["closed_shell"] and group == "C1":
        return start, {**record, "displacement": None}
    step = np.random.default_rng(relax.seed).normal(size=(len(moved), 3))
    step -= step.mean(axis=0)
    step *= relax.displace / np.sqrt((step**2).sum(axis=1).mean())
    displaced = start.copy()
    displaced.positions[moved] += step
    lengths = np.linalg.norm(step, axis=1)
    why = "open shell" if not record["closed_shell"] else f"symmetric start ({group} at 0.02 Å)"
    return displaced, {**record, "displacement": {
        "rms_A": relax.displace, "max_A": round(float(lengths.max()), 4), "seed": relax.seed,
        "atoms": "metal and S", "n_atoms": len(moved), "why": why}}


def point_groups(atoms: Atoms) -> dict[str, str]:
    """Point group of the structure at each of ``POINT_GROUP_TOLERANCES`` (key: tolerance in Å); 'K' for an atom."""
    from .sites import analyse_symmetry

    if len(atoms) == 1:
        return {f"{tol:g}": "K" for tol in POINT_GROUP_TOLERANCES}
    return {f"{tol:g}": analyse_symmetry(atoms, (tol,)).point_group for tol in POINT_GROUP_TOLERANCES}


def count_dft_calls(calc: Any, progress: Progress) -> None:
    """Count each converged SCF of ``calc`` (one DFT energy and force call) and its iterations.

    Line searches and preconditioners ask for energies and forces between optimizer steps, so
    the calculator, not the optimizer's step count, says what a relaxation cost.
    """
    def on_converged() -> None:
        progress.force_calls += 1
        progress.scf_iterations += int(calc.get_number_of_iterations() or 0)

    calc.hooks["converged"] = on_converged


class StepRecorder:
    """The optimizer's per-step observer: appends the frame to the trajectory, adds the step to the
    counters, saves them and prints a progress line (rank 0)."""

    def __init__(self, atoms: Atoms, spin: str, workdir: Path, progress: Progress, frames: int) -> None:
        self.atoms, self.spin, self.progress, self.frames = atoms, spin, progress, frames
        self.progress_path = workdir / "progress.json"
        self.traj = Trajectory(str(workdir / "relax.traj"), "a", atoms)
        self.last_saved = atoms.positions.copy() if frames else None
        self.t0 = time.perf_counter()

    def __call__(self) -> None:
        atoms = self.atoms
        if self.last_saved is not None and np.allclose(self.last_saved, atoms.positions, rtol=0, atol=1e-8):
            return  # the frame a restart begins with is already saved
        self.traj.write()
        self.last_saved = atoms.positions.copy()
        now = time.perf_counter()
        self.frames += 1
        self.progress.steps = self.frames - 1  # frame 0 is the start
        self.progress.wall_time_s += now - self.t0
        fmax = fmax_of(atoms.get_forces())
        say(f"{self.spin:9s} step {self.progress.steps:4d}  E = {atoms.get_potential_energy():.6f} eV  "
            f"fmax = {fmax:.4f} eV/Å  {now - self.t0:6.1f} s")
        self.t0 = now
        self.save()

    def save(self) -> None:
        save_json(self.progress_path, asdict(self.progress))

    def close(self) -> None:
        self.traj.close()


def resume_or_start(atoms: Atoms, workdir: Path, relax: RelaxSettings, spin: str, hessian_from: Path | None,
                    vacancy_index: int | None) -> tuple[Progress, int]:
    """Move ``atoms`` to the checkpoint's last step (or seed a fresh BFGS run with ``hessian_from``);
    returns the saved counters and the number of saved frames."""
    opt_path = workdir / "optimizer.json"
    progress = Progress.load(workdir / "progress.json")
    has_state = opt_path.exists()
    world().barrier()  # every rank has looked before rank 0 may write or remove files below
    frames = resume_positions(atoms, workdir / "relax.traj")
    if frames:
        say(f"resuming {spin} from step {progress.steps} ({frames} saved frames, rung {progress.rung})")
    elif hessian_from is not None and relax.optimizer == "BFGS" and not has_state \
            and seed_hessian(opt_path, hessian_from, atoms, vacancy_index):
        say(f"{spin}: BFGS starts with the Hessian of {hessian_from.parent.parent.parent.name}/{hessian_from.parent.name}")
    return progress, frames


def make_optimizer(name: str, atoms: Atoms, restart: Path, energy_noise: float = 0.0,
                   precon_mu: float | None = None) -> Optimizer:
    """``energy_noise``: the SCF's energy tolerance (eV), for an optimizer whose line search compares energies.
    ``precon_mu``: PreconLBFGS's Exp preconditioner takes this mu instead of estimating it (two DFT calls)."""
    extra: dict[str, Any] = {}
    if OPTIMIZERS[name] is NoiseAwarePreconLBFGS:
        extra["energy_noise"] = energy_noise
        if precon_mu is not None and len(atoms) >= 100:  # ASE's 'auto' makes Exp() from 100 atoms on: the same, with mu
            extra["precon"] = Exp(mu=precon_mu)
    return OPTIMIZERS[name](atoms, restart=str(restart), logfile=None, **extra)


def keep_precon_mu(optimizer: Optimizer, progress: Progress) -> Callable[[], None]:
    """An observer that copies the preconditioner's mu into ``progress`` once it is known (attach it
    before the ``StepRecorder``, which saves the progress)."""
    def observe() -> None:
        mu = getattr(getattr(optimizer, "precon", None), "mu", None)
        if mu is not None:
            progress.precon_mu = float(mu)
    return observe


def is_line_search_failure(err: Exception) -> bool:
    """ASE's line-search optimizers give up with a RuntimeError naming the line search."""
    return isinstance(err, RuntimeError) and "linesearch" in str(err).lower().replace(" ", "")


def back_to_last_frame(atoms: Atoms, recorder: StepRecorder) -> None:
    """Put the atoms back where the last recorded step left them: an optimizer that stops inside a line
    search or on a rejected trial leaves them at a geometry that is not in the trajectory."""
    if recorder.last_saved is not None and not np.array_equal(atoms.positions, recorder.last_saved):
        atoms.positions = recorder.last_saved


def run_to_step_limit(optimizer: Optimizer, relax: RelaxSettings, progress: Progress) -> bool:
    """``optimizer.run`` to fmax, stopping once ``relax.steps`` steps are recorded in all (a resumed run
    gets what is left)."""
    return bool(optimizer.run(fmax=relax.fmax, steps=max(relax.steps - progress.steps, 0)))


def run_optimizer(atoms: Atoms, relax: RelaxSettings, workdir: Path, recorder: StepRecorder,
                  energy_noise: float = 0.0) -> bool:
    """Run ``relax.optimizer`` on ``atoms`` (calculator attached) until fmax or the step limit; a failed
    line search hands over to ``LINE_SEARCH_FALLBACK`` from the last recorded step (kept in the
    progress, so a resumed run goes on with it). Returns whether fmax was reached. Whatever stops it,
    the atoms are left at the last recorded step. ``energy_noise``: the SCF's energy tolerance (eV)."""
    progress = recorder.progress
    while True:
        name = relax.optimizer if progress.fallback_at_step is None else LINE_SEARCH_FALLBACK
        switched = progress.fallback_at_step is not None and (not progress.fallbacks or progress.fallbacks[-1][0] != name)
        if switched:  # the fallback begins here (or replaces an older one): it gets the last step, no old state
            progress.fallbacks.append([name, progress.steps])
            recorder.save()
        if switched or name not in RESUMES_OWN_STATE:  # e.g. after an SCF-ladder climb: PreconLBFGS cannot read its own file
            forget_optimizer_state(workdir / "optimizer.json")
        optimizer = make_optimizer(name, atoms, workdir / "optimizer.json", energy_noise, progress.precon_mu)
        optimizer.attach(keep_precon_mu(optimizer, progress), interval=1)
        optimizer.attach(recorder, interval=1)
        try:
            return run_to_step_limit(optimizer, relax, progress)
        except RuntimeError as err:
            if not is_line_search_failure(err) or progress.fallback_at_step is not None:
                raise
            say(f"{recorder.spin}: {name}'s line search failed at step {progress.steps} (the energy changes "
                f"along the step are at the SCF's noise); going on with {LINE_SEARCH_FALLBACK} on forces alone")
            progress.fallback_at_step = progress.steps
            recorder.save()
        finally:  # a line search or an SCF failure may have left them elsewhere
            back_to_last_frame(atoms, recorder)


def optimize_on_ladder(atoms: Atoms, dft: DFTSettings, relax: RelaxSettings, charge: int, moment: float | None,
                       workdir: Path, logdir: Path, recorder: StepRecorder) -> tuple[bool, DFTSettings]:
    """Run the optimizer from the checkpoint's rung of ``SCF_LADDER``; an SCF that does not converge
    climbs one rung and the optimizer goes on from where it was. Returns (converged, settings used)."""
    progress, spin = recorder.progress, recorder.spin
    while True:
        rung = SCF_LADDER[progress.rung]
        settings = apply_rung(dft, rung)
        if rung.name not in progress.rungs_tried:
            progress.rungs_tried.append(rung.name)
        txt = logdir / f"gpaw-{spin}-{len(list(logdir.glob(f'gpaw-{spin}-*.txt'))) + 1}.txt"
        world().barrier()
        atoms.calc = make_calculator(settings, charge, str(txt), fixed_moment=moment)
        count_dft_calls(atoms.calc, progress)
        try:
            return run_optimizer(atoms, relax, workdir, recorder, settings.convergence.get("energy", 0.0)), settings
        except Exception as err:  # gpaw.KohnShamConvergenceError, from inside the optimizer
            from gpaw import KohnShamConvergenceError

            if not isinstance(err, KohnShamConvergenceError):
                raise
            say(f"{spin}: SCF not converged with '{rung.name}' (maxiter {settings.maxiter})")
            if progress.rung + 1 >= len(SCF_LADDER):
                raise SCFFailure(
                    f"SCF did not converge on any rung of the ladder ({'; '.join(progress.rungs_tried)}). "
                    "Fix: raise dft.maxiter, loosen dft.convergence or check the structure and charge"
                ) from None
            progress.rung += 1
            recorder.save()


def recorded_end(traj_path: Path, relax: RelaxSettings) -> Atoms | None:
    """The last recorded frame, with its energy and forces, if the state ended there: fmax below
    ``relax.fmax`` or the step limit reached. A resumed run takes it as it is: a fresh SCF would cost
    a DFT call and could land on another SCF solution of the same geometry (meV apart on an open shell)."""
    if not traj_path.is_file() or traj_path.stat().st_size == 0:
        return None
    with Trajectory(str(traj_path)) as frames:
        steps, last = len(frames) - 1, frames[-1] if len(frames) else None
    if last is None or last.calc is None or not {"energy", "forces"} <= set(last.calc.results):
        return None
    return last if fmax_of(last.get_forces()) < relax.fmax or steps >= relax.steps else None


def relax_state(start: Atoms, dft: DFTSettings, relax: RelaxSettings, spin: str, charge: int,
                workdir: Path, logdir: Path, hessian_from: Path | None = None,
                box: np.ndarray | None = None, precon_mu: float | None = None) -> StateResult:
    """Relax one spin state ('paired' or 'polarized') with checkpoints in ``workdir``.

    ``hessian_from``: a BFGS restart file whose Hessian a fresh run starts with (not on a resume);
    for a vacancy (``start.info['vacancy_index']``) it may be its doped isomer's, one atom larger.
    ``box``: the study's box edges (Å); default the structure's own ``box_for``. ``precon_mu``: the
    preconditioner's mu from the previous spin state (a run that saved its own keeps that).
    """
    identity = checkpoint_identity(start, dft, relax.optimizer, spin_label(spin, start, charge), charge, box)
    prepare_checkpoint(workdir, identity)
    logdir.mkdir(parents=True, exist_ok=True)
    atoms = boxed(start, dft.vacuum, dft.h, box)
    moment = polarized_moment(atoms, charge) if spin == "polarized" else None
    if moment is not None:
        atoms.set_initial_magnetic_moments(initial_magmoms(atoms, moment))
    continued = None
    if relax.continue_other_settings and not has_frames(workdir / "relax.traj"):
        continued = continue_from(atoms, workdir, identity)
    if continued:
        # A frame that came nearer a face than the vacuum allows is centred again (it is refused if it outgrew the box).
        atoms.positions = boxed(atoms, dft.vacuum, dft.h, atoms.cell.lengths()).positions
        say(f"{spin}: goes on from step {continued['steps']} of its run at other settings "
            f"(fingerprint {continued['fingerprint']}, {continued['optimizer']}); every energy is at these settings")
    progress, frames = resume_or_start(atoms, workdir, relax, spin, hessian_from, start.info.get("vacancy_index"))
    progress.continued_from = continued or progress.continued_from
    if progress.precon_mu is None:  # a run that saved its own mu keeps it
        progress.precon_mu = precon_mu
    ended = recorded_end(workdir / "relax.traj", relax) if frames else None
    if ended is not None:
        say(f"{spin}: ended at step {progress.steps} (recorded): taken from the checkpoint, no DFT call")
        atoms, settings = ended, apply_rung(dft, SCF_LADDER[progress.rung])
        converged = fmax_of(atoms.get_forces()) < relax.fmax
    else:
        recorder = StepRecorder(atoms, spin, workdir, progress, frames)
        try:
            converged, settings = optimize_on_ladder(atoms, dft, relax, charge, moment, workdir, logdir, recorder)
        finally:
            recorder.close()
    forces, energy = atoms.get_forces(), float(atoms.get_potential_energy())
    magmom = float(atoms.calc.get_magnetic_moment()) if moment is not None else 0.0
    final = atoms.copy()
    final.calc = SinglePointCalculator(final, energy=energy, forces=forces)
    fmax = fmax_of(forces)
    return StateResult(spin, final, energy, fmax, converged, magmom, settings, progress)


def spin_states(policy: str, odd_electrons: bool = False) -> list[str]:
    """The spin states a policy relaxes, in order. An odd electron count has no closed shell: its one state
    is the doublet ('polarized'), and 'paired' (a half-filled level shared by both spins) is refused."""
    if policy not in SPIN_POLICIES:
        raise InputError("config/config.yaml", f"unknown spin policy {policy!r}", f"use one of {SPIN_POLICIES}")
    if odd_electrons:
        if policy == "paired":
            raise InputError("config/config.yaml", "spin policy 'paired' for an odd electron count",
                             "use 'polarized' or 'lowest' (both relax the doublet) for this kind in `spin:`")
        return ["polarized"]
    return ["paired", "polarized"] if policy == "lowest" else [policy]


def kept_state(states: list[StateResult], configured: DFTSettings) -> StateResult:
    """The lowest-energy spin state among those computed at one set of energy settings: the configured ones
    where any state has them (a state whose SCF needed the smearing rung is then only recorded, not
    compared), else the one set all states share."""
    wanted = configured.fingerprint()
    comparable = [s for s in states if s.settings.fingerprint() == wanted] or states
    if len({s.settings.fingerprint() for s in comparable}) > 1:
        raise RuntimeError("the spin states ended on different SCF-ladder settings and none on the configured "
                           "ones: their energies cannot be compared; rerun with a spin policy naming one state")
    return min(comparable, key=lambda s: s.energy)


def peak_memory_mb() -> float:
    """Largest resident set size over all ranks (MiB)."""
    own = np.array([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0])
    world().max(own)
    return float(own[0])


def relax_atoms(given: Atoms, outdir: Path, dft: DFTSettings, relax: RelaxSettings, spin_policy: str,
                meta: dict[str, Any] | None = None, hessian_from: Path | None = None,
                box: np.ndarray | None = None) -> tuple[Atoms, RelaxResult]:
    """Relax ``given`` (its ``info['charge']``) in each spin state of the policy, with checkpoints under
    ``outdir/checkpoint``; returns the kept state's relaxed Atoms and its result.

    ``hessian_from``: the folder of a finished relaxation (a vacancy's doped isomer) whose final BFGS
    Hessian the first spin state starts with. ``box``: the study's box edges (default: ``given``'s own).
    """
    box = box_for(given, dft.vacuum, dft.h) if box is None else np.asarray(box)
    charge = int(given.info.get("charge", 0))
    start, shell = displace_start(given, charge, relax)
    if shell["displacement"]:
        say(f"{shell['displacement']['why']} ({shell['superatom_electrons']} superatom electrons): start displaced "
            f"by {relax.displace} Å rms (seed {relax.seed}) to break its symmetry")
    t_start = time.perf_counter()
    states: list[StateResult] = []
    from .validate import electron_count

    for spin in spin_states(spin_policy, odd_electrons=electron_count(given, charge) % 2 == 1):
        # A second spin state starts where the first ended, with its Hessian: only the spin differs.
        previous = states[-1] if states else None
        state_start, hessian = start, final_hessian(hessian_from) if hessian_from else None
        if previous is not None:
            state_start = start.copy()
            state_start.positions, state_start.cell, state_start.pbc = (previous.atoms.positions,
                                                                        previous.atoms.cell, previous.atoms.pbc)
            hessian = outdir / "checkpoint" / previous.spin / "optimizer.json"
        states.append(relax_state(state_start, dft, relax, spin, charge, outdir / "checkpoint" / spin,
                                  outdir / "logs", hessian, box,
                                  previous.progress.precon_mu if previous is not None else None))
    best = kept_state(states, dft)
    result = RelaxResult.from_dict({
        "structure_id": start.info.get("structure_id", outdir.name), **(meta or {}),
        "formula": start.get_chemical_formula("metal"), "charge": charge, "energy": best.energy,
        "converged": best.converged, "fmax": best.fmax, "fingerprint": best.settings.fingerprint(),
        "fmax_target": relax.fmax, "optimizer": relax.optimizer, "steps": best.progress.steps,
        "optimizer_fallback_at_step": best.progress.fallback_at_step, "optimizer_fallbacks": best.progress.fallbacks,
        "force_calls": best.progress.force_calls, "scf_iterations": best.progress.scf_iterations,
        "scf_ladder": best.progress.rungs_tried,
        "continued_from": next((s.progress.continued_from for s in states if s.progress.continued_from), None),
        "wall_time_s": round(sum(s.progress.wall_time_s for s in states), 1),
        "wall_time_this_run_s": round(time.perf_counter() - t_start, 1), "peak_memory_mb": round(peak_memory_mb(), 1),
        "mpi_ranks": world().size, "box_A": [round(float(x), 4) for x in box], "magmom": best.magmom,
        "spin_policy": spin_policy, "spin_state": best.spin, "spin_energies": {s.spin: s.energy for s in states},
        "spin_moments": {s.spin: s.magmom for s in states}, **shell, "point_group_start": point_groups(given),
        "point_group": point_groups(best.atoms), "dft": best.settings.energy_settings(), "versions": versions()})
    relaxed = best.atoms
    relaxed.info = {**start.info, "converged": best.converged, "fingerprint": result.fingerprint,
                    "spin_state": best.spin}
    return relaxed, result


def relax_structure(start_path: Path, outdir: Path, dft: DFTSettings, relax: RelaxSettings, spin_policy: str,
                    meta: dict[str, Any] | None = None, hessian_from: Path | None = None,
                    box_from: Path | None = None) -> RelaxResult:
    """``relax_atoms`` from and to files: the start in ``start_path``; relaxed.xyz and result.json in
    ``outdir``. ``box_from``: the structure whose box this one shares (the study's parent start), so that
    every isomer is computed on the same grid."""
    from .fileio import write_xyz

    given = read(start_path)
    box = box_for(read(box_from) if box_from else given, dft.vacuum, dft.h)
    mark_running(outdir)
    try:
        relaxed, result = relax_atoms(given, outdir, dft, relax, spin_policy, meta, hessian_from, box)
    except (InputError, SCFFailure):  # every rank stops alike: say so at once (a kill leaves the marker)
        mark_finished(outdir)
        raise

    def write() -> None:
        write_xyz(outdir / "relaxed.xyz", relaxed)
        result.write(outdir / "result.json")

    on_rank0(write)
    mark_finished(outdir)
    say(f"{result.structure_id}: E = {result.energy:.6f} eV, converged {result.converged}, "
        f"{result.steps} steps, {result.force_calls} force calls, spin {result.spin_state}")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="clusterdefects.relax", description=__doc__)
    p.add_argument("start", type=Path)
    p.add_argument("outdir", type=Path)
    p.add_argument("--settings", required=True,
                   help="JSON: {dft: {...}, relax: {...}, spin: policy, meta: {...}}")
    p.add_argument("--hessian-from", type=Path,
                   help="folder of a finished relaxation whose final BFGS Hessian this one starts with")
    p.add_argument("--box-from", type=Path, help="structure whose box this one shares (the study's parent start)")
    args = p.parse_args(argv)
    cfg = json.loads(args.settings)
    return exit_status("clusterdefects.relax", args.start, lambda: relax_structure(
        args.start, args.outdir, DFTSettings.from_config(cfg.get("dft", {})), RelaxSettings.from_config(cfg.get("relax", {})),
        cfg.get("spin", "paired"), cfg.get("meta"), args.hessian_from, args.box_from), (InputError, SCFFailure))


if __name__ == "__main__":
    sys.exit(main())
