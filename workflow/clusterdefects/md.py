"""Molecular dynamics of one structure, resumable: ``clusterdefects md`` (GFN1-xTB through tblite) and
``gpaw python -m clusterdefects.md`` (GPAW at the study's settings, under MPI).

One code path for both engines: a Maxwell-Boltzmann start (seeded, zero momentum and rotation), the
centre of mass fixed (``FixCom``), ASE's Bussi or Langevin thermostat (or none: the NVE check), one
calculator for the whole run. A frame (positions and momenta) goes to ``md.traj`` every ``interval`` steps
(the NVE check: every step) with a progress line, and ``steps.csv`` is rewritten beside it; killed at any point, the same command goes
on from the last frame with its momenta. H atoms get deuterium's mass where ``deuterium`` is set, so that
1 fs steps stay stable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms, units
from ase.constraints import FixCom
from ase.data import atomic_masses, atomic_numbers
from ase.io import read

from .errors import InputError
from .results import RelaxResult

ENGINES = ("xtb", "gpaw")
#: min: the engine's own minimum (every run starts there: a structure relaxed with another method would dump
#: its excess energy as heat); nve: the time-step check; nvt: the thermostatted run.
ENSEMBLES = ("min", "nve", "nvt")
THERMOSTATS = ("bussi", "langevin")
#: the key of a frame's row (step, time, energies, ...) in its ``info``: md.traj alone says where a run stands
ROW_KEY = "md_row"
#: The config keys the minimisation uses (its fingerprint and its --settings hold no others).
MIN_KEYS = ("min_fmax", "min_steps", "spin", "xtb_method", "xtb_electronic_temperature")
#: thermostat_eV: the energy the thermostat has put in so far (Bussi), so that etot - thermostat_eV is conserved
COLUMNS = ["step", "time_fs", "temperature_K", "epot_eV", "ekin_eV", "etot_eV", "thermostat_eV", "rg_A", "s_per_step",
           "scf_iterations"]
SPINS = ("paired", "polarized")


@dataclass(frozen=True)
class MDSettings:
    """Config ``md``: the run's physics (all of it in the fingerprint) and its length and output."""

    temperature: float = 290.0      # K
    thermostat: str = "bussi"       # bussi | langevin
    timestep: float = 1.0           # fs
    deuterium: bool = True          # H atoms get deuterium's mass (1 fs steps stay stable)
    taut: float = 100.0             # fs, Bussi's coupling time
    friction: float = 0.01          # 1/fs, Langevin's friction (passed to ASE as friction / units.fs)
    steps: int = 2000               # of the thermostatted run
    nve_steps: int = 100            # of the NVE check
    interval: int = 10              # steps between frames
    seed: int = 0
    #: paired, or polarized: the triplet (doublet for an odd count) held fixed (GPAW) / as multiplicity (xTB)
    spin: str = "paired"
    min_fmax: float = 0.05          # eV/Å, the minimisation every run starts from
    min_steps: int = 500
    xtb_method: str = "GFN1-xTB"
    xtb_electronic_temperature: float = 300.0  # K (tblite's Fermi smearing)
    #: the NVT run starts only if the NVE check's largest total-energy excursion is at most this fraction of
    #: its kinetic energy's standard deviation (a stable step: a few %; an unstable one: of order 1)
    max_nve_excursion: float = 0.2

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> MDSettings:
        known = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in cfg.items() if k in known})
        settings.check()
        return settings

    def check(self, atoms: Atoms | None = None) -> None:
        if self.thermostat not in THERMOSTATS:
            raise ValueError(f"md.thermostat {self.thermostat!r} is not one of {THERMOSTATS}")
        if self.spin not in SPINS:
            raise ValueError(f"md.spin {self.spin!r} is not one of {SPINS}")
        if min(self.steps, self.nve_steps, self.interval) < 1 or self.timestep <= 0 or self.temperature <= 0:
            raise ValueError("md.steps, md.nve_steps and md.interval must be >= 1, md.timestep and md.temperature > 0")
        has_h = atoms is None or "H" in atoms.get_chemical_symbols()
        if has_h and not self.deuterium and self.timestep > 0.5:
            raise ValueError(f"a {self.timestep} fs step is unstable with H atoms: use md.timestep 0.5 or "
                             "md.deuterium true (1 fs)")

    def physics(self, engine: str, ensemble: str = "nvt") -> dict[str, Any]:
        """What the run depends on (not its length): the fingerprint's MD part. The minimisation depends on its
        fmax and the spin, the NVE check on the start temperature and the step, the NVT run on all (the interval
        too: the thermostat's random numbers are drawn per block of steps)."""
        if ensemble == "min":
            keys = ["min_fmax", "spin"]
        else:
            keys = ["temperature", "timestep", "deuterium", "seed", "spin", "interval"]
        if ensemble == "nvt":
            keys += ["thermostat", "taut" if self.thermostat == "bussi" else "friction"]
        if engine == "xtb":
            keys += ["xtb_method", "xtb_electronic_temperature"]
        return {k: getattr(self, k) for k in keys}


def spin_moment(settings: MDSettings, atoms: Atoms, charge: int) -> float | None:
    """The run's fixed total moment (μB): None for paired, else the triplet (doublet for an odd count)."""
    from .relax import polarized_moment

    return polarized_moment(atoms, charge) if settings.spin == "polarized" else None


def xtb_calculator(settings: MDSettings, charge: int, moment: float | None) -> Any:
    from tblite.ase import TBLite

    # multiplicity given, never taken from the start file's initial moments
    return TBLite(method=settings.xtb_method, charge=charge, multiplicity=1 + int(round(moment or 0)),
                  electronic_temperature=settings.xtb_electronic_temperature, verbosity=0)


def md_masses(atoms: Atoms, deuterium: bool) -> np.ndarray:
    masses = atoms.get_masses().copy()
    if deuterium:
        masses[np.array(atoms.get_chemical_symbols()) == "H"] = 2.014
    return masses


def radius_of_gyration(atoms: Atoms) -> float:
    """Mass-weighted (natural isotopes, whatever masses the dynamics used), Å."""
    masses = atomic_masses[[atomic_numbers[s] for s in atoms.get_chemical_symbols()]]
    centre = masses @ atoms.positions / masses.sum()
    return float(np.sqrt(masses @ ((atoms.positions - centre) ** 2).sum(axis=1) / masses.sum()))


#: A run starts at a minimum, so equipartition takes half the kinetic energy drawn into the potential: drawn
#: at twice the target, the NVE check runs near the target and the NVT run starts near it, not at half.
START_TEMPERATURE_FACTOR = 2.0


def maxwell_boltzmann_start(atoms: Atoms, temperature: float, seed: int) -> None:
    """Momenta drawn at ``temperature`` (seeded), no net momentum or rotation, then scaled so that the
    temperature over the degrees of freedom the constraints leave (``FixCom``: 3N - 3) is exactly it."""
    from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta

    thermalize_momenta(atoms, temperature, rng=np.random.default_rng(seed))
    Stationary(atoms)
    ZeroRotation(atoms)
    atoms.set_momenta(atoms.get_momenta() * np.sqrt(temperature / atoms.get_temperature()))


def dynamics(atoms: Atoms, settings: MDSettings, ensemble: str, step: int) -> Any:
    """The ASE integrator; its random numbers are seeded by (seed, step) so a resumed run is reproducible."""
    from ase.md.bussi import Bussi
    from ase.md.langevin import Langevin
    from ase.md.verlet import VelocityVerlet

    dt = settings.timestep * units.fs
    rng = np.random.default_rng([settings.seed, step])
    if ensemble == "nve":
        return VelocityVerlet(atoms, dt)
    if settings.thermostat == "bussi":
        return Bussi(atoms, dt, temperature_K=settings.temperature, taut=settings.taut * units.fs, rng=rng)
    return Langevin(atoms, dt, temperature_K=settings.temperature, friction=settings.friction / units.fs,
                    fixcm=False, rng=rng)  # the centre of mass: the FixCom constraint


def frame_row(atoms: Atoms, step: int, settings: MDSettings, s_per_step: float, thermostat: float = 0.0
              ) -> dict[str, float]:
    # The free energy where the engine has one (GPAW's smearing): the energy the forces are the gradient of.
    consistent = "free_energy" in getattr(atoms.calc, "implemented_properties", ())
    epot = float(atoms.get_potential_energy(force_consistent=consistent))
    ekin = float(atoms.get_kinetic_energy())
    iterations = getattr(atoms.calc, "get_number_of_iterations", None)  # GPAW: of the last step's SCF
    return {"step": step, "time_fs": step * settings.timestep, "temperature_K": float(atoms.get_temperature()),
            "epot_eV": epot, "ekin_eV": ekin, "etot_eV": epot + ekin, "thermostat_eV": thermostat,
            "rg_A": radius_of_gyration(atoms),
            "s_per_step": s_per_step, "scf_iterations": int(iterations()) if iterations else None}


def read_frames(path: Path) -> list[Atoms]:
    """The frames written so far (none if the file is missing); a last frame cut off by a kill is dropped,
    an unreadable frame before it (or an unreadable file) is an error."""
    from ase.io.trajectory import Trajectory

    if not path.exists():
        return []
    frames = []
    fix = "remove the run's folder to start it afresh"
    try:
        traj = Trajectory(str(path))
    except (OSError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise InputError(path, f"cannot be opened ({err})", fix) from None
    with traj:
        for k in range(len(traj)):
            try:
                frames.append(traj[k])
            except (OSError, ValueError, KeyError, EOFError) as err:
                if k < len(traj) - 1:
                    raise InputError(path, f"frame {k} of {len(traj)} cannot be read ({err})", fix) from None
    return frames


def trajectory_length(path: Path) -> int:
    """Frames the trajectory file counts (a frame cut off by a kill included)."""
    from ase.io.trajectory import Trajectory

    with Trajectory(str(path)) as traj:
        return len(traj)


def rewrite_frames(path: Path, frames: list[Atoms]) -> None:
    """``path`` holding just ``frames`` (temp file + rename: a reader sees the old file or the new one)."""
    import os

    from ase.io.trajectory import Trajectory

    tmp = path.with_name(path.name + ".tmp")
    with Trajectory(str(tmp), "w") as traj:
        for frame in frames:
            traj.write(frame)
    os.replace(tmp, path)


def drift(rows: pd.DataFrame, n_atoms: int) -> dict[str, float]:
    """Total-energy drift of an NVE run: end minus start, largest excursion, the fitted slope over the whole
    run and over its second half (without the start's transient), and the fluctuation about that fit."""
    t_ps = rows["time_fs"].to_numpy() / 1000.0
    e = rows["etot_eV"].to_numpy()
    half = len(e) // 2
    slope = float(np.polyfit(t_ps, e, 1)[0]) if len(e) > 2 else float("nan")
    late = np.polyfit(t_ps[half:], e[half:], 1) if len(e) - half > 2 else None
    return {"etot_change_eV": float(e[-1] - e[0]), "etot_max_excursion_eV": float(np.abs(e - e[0]).max()),
            "slope_eV_per_ps": slope, "slope_meV_per_atom_per_ps": 1000.0 * slope / n_atoms,
            "slope_second_half_eV_per_ps": float(late[0]) if late is not None else float("nan"),
            "slope_second_half_meV_per_atom_per_ps": 1000.0 * float(late[0]) / n_atoms if late is not None
            else float("nan"),
            "etot_std_second_half_eV": float(np.std(e[half:] - np.polyval(late, t_ps[half:]))) if late is not None
            else float("nan"),
            "ekin_std_eV": float(rows["ekin_eV"].std())}


def check_nve(summary_path: Path, settings: MDSettings) -> float:
    """The NVE check's verdict on the time step before a long NVT run: its largest total-energy excursion over
    its kinetic energy's standard deviation (scale-free, so a 13-atom test and a 173-atom cluster share one
    limit); InputError if it is above ``max_nve_excursion`` or the check ran with another step or masses."""
    summary = json.loads(summary_path.read_text())
    ran = summary["settings"]
    if (ran["timestep"], ran["deuterium"]) != (settings.timestep, settings.deuterium):
        raise InputError(summary_path, f"the NVE check ran {ran['timestep']} fs steps (deuterium {ran['deuterium']}), "
                         f"this run {settings.timestep} fs (deuterium {settings.deuterium})", "rerun the NVE check")
    drift = summary["nve_drift"]
    ratio = float(drift["etot_max_excursion_eV"]) / max(float(drift["ekin_std_eV"]), 1e-12)
    if ratio > settings.max_nve_excursion:
        raise InputError(summary_path, f"the NVE check's total energy strays {drift['etot_max_excursion_eV']:.3f} eV, "
                         f"{ratio:.2f} of its kinetic energy's fluctuation (limit md.max_nve_excursion "
                         f"{settings.max_nve_excursion}): the {settings.timestep} fs step is not stable",
                         "lower md.timestep or set md.deuterium: true, and rerun the NVE check")
    return ratio


def minimize(atoms: Atoms, calc: Any, settings: MDSettings, outdir: Path, meta: dict[str, Any], write: Any,
             say: Any) -> dict[str, Any]:
    """The engine's own minimum near ``atoms`` (BFGS to ``min_fmax``), resumable from ``min.traj`` and its
    Hessian; writes ``minimized.xyz`` (the start's info kept) and ``summary.json``."""
    from ase.optimize import BFGS

    from .fileio import write_json, write_xyz

    outdir.mkdir(parents=True, exist_ok=True)
    traj = outdir / "min.traj"
    given = atoms.positions.copy()
    frames = read_frames(traj)
    start_energy = None
    if frames:
        atoms.positions = frames[-1].positions
        start_energy = float(frames[0].get_potential_energy())
        say(f"{meta['structure_id']}: resuming the minimisation at step {len(frames) - 1}")
    atoms.calc = calc
    t0 = time.perf_counter()
    opt = BFGS(atoms, trajectory=str(traj), append_trajectory=bool(frames), restart=str(outdir / "hessian.json"),
               logfile=None)
    opt.attach(lambda: say(f"min step {opt.nsteps:4d}  E {atoms.get_potential_energy():.4f} eV  "
                           f"fmax {np.linalg.norm(atoms.get_forces(), axis=1).max():.3f} eV/Å"), interval=5)
    converged = bool(opt.run(fmax=settings.min_fmax, steps=settings.min_steps))
    energy = float(atoms.get_potential_energy())
    fmax = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
    if not converged:
        raise InputError(outdir, f"the minimisation stopped at {settings.min_steps} steps with fmax {fmax:.3f} eV/Å",
                         "raise md.min_steps (the run resumes) or check the structure")
    out = atoms.copy()
    out.calc = None
    out.info = {**atoms.info, "md_engine": meta["fingerprint"]["engine"], "minimized_fmax": fmax}
    write(outdir / "minimized.xyz", lambda p: write_xyz(p, out))
    write(outdir / "hessian.json", lambda p: p.unlink(missing_ok=True))  # the optimizer's state: only for resuming
    start_energy = start_energy if start_energy is not None else float(read_frames(traj)[0].get_potential_energy())
    summary = {**meta, "ensemble": "min", "energy_eV": energy, "energy_change_eV": energy - start_energy,
               "fmax": fmax, "steps": len(read_frames(traj)) - 1, "wall_time_s": round(time.perf_counter() - t0, 1),
               "rmsd_from_start_A": float(np.sqrt(((out.positions - given) ** 2).sum(axis=1).mean()))}
    write(outdir / "summary.json", lambda p: write_json(p, summary))
    say(f"{meta['structure_id']}: minimised with {meta['fingerprint']['engine']}: E {energy:.4f} eV "
        f"({summary['energy_change_eV']:+.3f} eV), fmax {fmax:.3f} eV/Å, {summary['steps']} steps")
    return summary


@dataclass
class MDRun:
    """One run's folder: ``md.traj``, ``steps.csv``, ``final.xyz`` and ``summary.json``."""

    outdir: Path
    settings: MDSettings
    ensemble: str
    engine: str

    @property
    def traj(self) -> Path:
        return self.outdir / "md.traj"

    @property
    def total_steps(self) -> int:
        return self.settings.nve_steps if self.ensemble == "nve" else self.settings.steps

    def run(self, atoms: Atoms, calc: Any, meta: dict[str, Any], write: Any, say: Any) -> dict[str, Any]:
        """Run (or go on with) the dynamics of ``atoms`` with ``calc``; ``write(path, fn)`` writes on rank 0,
        ``say`` prints progress. Returns the summary (also written as summary.json)."""
        from ase.io.trajectory import Trajectory

        from .fileio import write_json, write_text, write_xyz

        s = self.settings
        s.check(atoms)
        self.outdir.mkdir(parents=True, exist_ok=True)
        atoms = atoms.copy()
        atoms.set_masses(md_masses(atoms, s.deuterium))
        frames = read_frames(self.traj)
        if frames and trajectory_length(self.traj) > len(frames):  # a frame cut off by a kill: only the whole ones
            write(self.traj, lambda p: rewrite_frames(p, frames))
        rows = [dict(frame.info[ROW_KEY]) for frame in frames]  # each frame carries its own row
        atoms.set_constraint(FixCom())
        if frames:
            atoms.positions = frames[-1].positions
            atoms.set_momenta(frames[-1].get_momenta())
            step = int(rows[-1]["step"])
            say(f"{meta['structure_id']}: resuming {self.engine} {self.ensemble} at step {step} ({len(frames)} frames)")
        else:
            maxwell_boltzmann_start(atoms, START_TEMPERATURE_FACTOR * s.temperature, s.seed)
            step = 0
        thermostat = float(rows[-1].get("thermostat_eV", 0.0)) if rows else 0.0
        atoms.calc = calc

        def write_frame(row: dict[str, float]) -> None:
            rows.append(row)
            atoms.info[ROW_KEY] = row
            traj.write(atoms)
            write(self.outdir / "steps.csv", lambda p: write_text(p, pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False)))
            self._progress(row, say)

        with Trajectory(str(self.traj), "a" if frames else "w", master=None) as traj:
            if not frames:
                write_frame(frame_row(atoms, 0, s, 0.0))
            dyn = dynamics(atoms, s, self.ensemble, step)
            interval = 1 if self.ensemble == "nve" else s.interval  # the drift check fits every step
            while step < self.total_steps:
                n = min(interval, self.total_steps - step)
                t_block = time.perf_counter()
                if hasattr(dyn, "rng"):  # the thermostat's random numbers depend on the step alone: resumable
                    dyn.rng = np.random.default_rng([s.seed, step])
                given = getattr(dyn, "transferred_energy", 0.0)
                dyn.run(n)
                thermostat += getattr(dyn, "transferred_energy", 0.0) - given
                step += n
                write_frame(frame_row(atoms, step, s, (time.perf_counter() - t_block) / n, thermostat))
        frame = pd.DataFrame(rows, columns=COLUMNS)
        write(self.outdir / "steps.csv", lambda p: write_text(p, frame.to_csv(index=False)))
        final = atoms.copy()
        final.set_constraint()
        final.calc = None
        final.info = {**{k: v for k, v in meta.items() if k != "fingerprint"}, "md_engine": self.engine, "md_ensemble": self.ensemble, "md_time_fs": float(step * s.timestep)}
        final.set_masses(None)
        write(self.outdir / "final.xyz", lambda p: write_xyz(p, final))
        timed = frame["s_per_step"].iloc[1:]
        settled = frame.iloc[len(frame) // 2:]  # the second half: past the start's equilibration
        summary = {**meta, "engine": self.engine, "ensemble": self.ensemble, "settings": asdict(s),
                   "physics": s.physics(self.engine, self.ensemble), "steps": int(step), "time_fs": float(step * s.timestep),
                   "frames": len(frame), "mean_temperature_K": float(frame["temperature_K"].iloc[1:].mean()),
                   "mean_temperature_second_half_K": float(settled["temperature_K"].mean()),
                   "conserved_change_eV": float((frame["etot_eV"] - frame["thermostat_eV"]).iloc[-1]
                                                - (frame["etot_eV"] - frame["thermostat_eV"]).iloc[0]),
                   "rg_mean_A": float(frame["rg_A"].mean()), "rg_min_A": float(frame["rg_A"].min()),
                   "rg_max_A": float(frame["rg_A"].max()), "s_per_step": float(timed.mean()) if len(timed) else None}
        if self.ensemble == "nve":
            summary["nve_drift"] = drift(frame, len(atoms))
        write(self.outdir / "summary.json", lambda p: write_json(p, summary))
        return summary

    def _progress(self, row: dict[str, float], say: Any) -> None:
        say(f"step {int(row['step']):6d}  t {row['time_fs']:8.1f} fs  T {row['temperature_K']:6.1f} K  "
            f"Epot {row['epot_eV']:.4f}  Etot {row['etot_eV']:.4f} eV  Rg {row['rg_A']:.3f} Å  "
            f"{row['s_per_step']:.2f} s/step")


def snapshot_energy(snapshot: RelaxResult, statics: list[RelaxResult], allow_unconverged: bool = False) -> dict[str, Any]:
    """The DFT energy of a structure MD found (its last frame, relaxed at the study's settings) among the
    static isomers of its composition: relative to the lowest of them. Refuses results of other settings."""
    from .results import check_combinable

    check_combinable([*statics, snapshot], allow_unconverged)
    lowest = min(statics, key=lambda r: r.energy)
    rows = sorted(({"structure_id": r.structure_id, "energy_eV": r.energy, "relative_energy_eV": r.energy - lowest.energy,
                    "spin_state": r.spin_state} for r in statics), key=lambda row: row["energy_eV"])
    relative = snapshot.energy - lowest.energy
    below = [row["structure_id"] for row in rows if row["energy_eV"] > snapshot.energy]
    return {"structure_id": snapshot.structure_id, "snapshot": str(snapshot.path), "energy_eV": snapshot.energy,
            "relative_energy_eV": relative, "spin_state": snapshot.spin_state, "converged": snapshot.converged,
            "fingerprint": snapshot.fingerprint, "lower_than": below, "static_isomers": rows,
            "verdict": (f"the MD structure lies {relative:+.3f} eV from the lowest static isomer "
                        f"({lowest.structure_id}); below {len(below)} of {len(rows)}")}


def load_start(path: Path) -> tuple[Atoms, dict[str, Any]]:
    """The structure an MD run starts from (non-periodic, its cell kept: a start in the study's box keeps its
    place on GPAW's grid, and so does the final frame a snapshot relaxation starts from) and what identifies it
    (id, charge)."""
    try:
        atoms = read(path)
    except Exception as err:  # noqa: BLE001
        raise InputError(path, f"cannot read the MD start: {err}", "give a relaxed.xyz or start.xyz of the study") from None
    if "charge" not in atoms.info:
        raise InputError(path, "has no net charge (charge=... in its comment line)", "use a structure the workflow wrote")
    atoms.pbc = False
    meta = {"structure_id": str(atoms.info.get("structure_id", path.parent.name)), "charge": int(atoms.info["charge"]),
            "start": str(path)}
    return atoms, meta


def engine_fingerprint(engine: str, ensemble: str, settings: MDSettings, dft_cfg: dict[str, Any] | None,
                       start: Atoms, charge: int, box_from: Path | None = None) -> dict[str, Any]:
    """What the energies and the trajectory depend on: the start structure and charge, the engine and its
    settings (GPAW: and the box), and the MD physics of the ensemble."""
    from .checkpoint import structure_digest

    common = {"start": structure_digest(start), "charge": charge, **settings.physics(engine, ensemble)}
    if engine == "xtb":
        from importlib.metadata import version

        return {"engine": "xtb", "tblite": version("tblite"), **common}
    from .dft import DFTSettings

    dft = DFTSettings.from_config(dft_cfg or {})
    return {"engine": "gpaw", "dft_fingerprint": dft.fingerprint(),
            "box": [round(float(x), 4) for x in gpaw_box(dft, start, box_from)], **common}


def gpaw_box(dft: Any, atoms: Atoms, box_from: Path | None) -> np.ndarray:
    """The edges of a GPAW run's box: the study's (that of ``box_from``) or the structure's own."""
    from .dft import box_for

    return box_for(read(box_from) if box_from else atoms, dft.vacuum, dft.h)


def calculator(engine: str, settings: MDSettings, charge: int, dft_cfg: dict[str, Any] | None, atoms: Atoms,
               txt: str | None, box_from: Path | None) -> tuple[Any, Atoms]:
    """The engine's calculator and the atoms in its box (GPAW: the study's box)."""
    moment = spin_moment(settings, atoms, charge)
    atoms = atoms.copy()
    atoms.set_initial_magnetic_moments(None)  # the spin is the config's, not the start file's
    if engine == "xtb":
        return xtb_calculator(settings, charge, moment), atoms
    from .dft import DFTSettings, boxed, initial_magmoms, make_calculator

    dft = DFTSettings.from_config(dft_cfg or {})
    if moment is not None:
        atoms.set_initial_magnetic_moments(initial_magmoms(atoms, moment))
    return (make_calculator(dft, charge, txt, fixed_moment=moment),
            boxed(atoms, dft.vacuum, dft.h, gpaw_box(dft, atoms, box_from)))


def set_aside(folder: Path, stale: Path) -> None:
    """``folder`` renamed to ``stale`` (an older one there removed), and ``folder`` made again, empty."""
    import shutil

    if stale.exists():
        shutil.rmtree(stale)
    folder.rename(stale)
    folder.mkdir()


def run(start: Path, outdir: Path, engine: str, ensemble: str, cfg: dict[str, Any], box_from: Path | None,
        nve_check: Path | None = None) -> dict[str, Any]:
    """Everything one ``md`` command does: read the start, build the engine, run or resume, write.
    ``nve_check``: the NVE check's summary.json, which an NVT run must pass first (``check_nve``)."""
    from .fileio import write_json

    settings = MDSettings.from_config(cfg.get("md", {}))
    nve_verdict = check_nve(nve_check, settings) if nve_check is not None and ensemble == "nvt" else None
    atoms, meta = load_start(start)
    if engine == "gpaw":
        from .mpi import on_rank0, say, world

        def write(path: Path, fn: Any) -> None:
            on_rank0(lambda: fn(path))

        barrier = world().barrier
    else:
        def say(text: str) -> None:
            print(text, flush=True)

        def write(path: Path, fn: Any) -> None:
            fn(path)

        def barrier() -> None:
            pass
    outdir.mkdir(parents=True, exist_ok=True)
    fingerprint = engine_fingerprint(engine, ensemble, settings, cfg.get("dft"), atoms, meta["charge"], box_from)
    old = outdir / "fingerprint.json"
    other = old.exists() and json.loads(old.read_text()) != fingerprint
    barrier()  # every rank has decided from the files before rank 0 changes them
    if other:  # a run with other physics is never resumed: moved aside, begun afresh
        stale = outdir.with_name(outdir.name + ".stale")
        say(f"{outdir} holds a run with other settings: moved to {stale}, starting afresh")
        write(stale, lambda p: set_aside(outdir, p))
    write(old, lambda p: write_json(p, fingerprint))
    calc, atoms = calculator(engine, settings, meta["charge"], cfg.get("dft"), atoms,
                             str(outdir / "gpaw.txt") if engine == "gpaw" else None, box_from)
    meta = {**meta, "fingerprint": fingerprint}
    if ensemble == "min":
        return minimize(atoms, calc, settings, outdir, meta, write, say)
    if nve_verdict is not None:
        say(f"NVE check passed: total-energy excursion {nve_verdict:.3f} of the kinetic energy's fluctuation")
        meta = {**meta, "nve_excursion_ratio": nve_verdict}
    return MDRun(outdir, settings, ensemble, engine).run(atoms, calc, meta, write, say)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of one MD command (``clusterdefects md`` and, under MPI, this module's ``main``)."""
    p.add_argument("start", type=Path, help="relaxed.xyz (or start.xyz) of a structure of the study")
    p.add_argument("outdir", type=Path)
    p.add_argument("--engine", choices=ENGINES, default="xtb")
    p.add_argument("--ensemble", choices=ENSEMBLES, default="nvt",
                   help="min: the engine's own minimum (start the others from it); nve: the energy-drift check")
    p.add_argument("--settings", default="{}", help="JSON: {md: {...}, dft: {...} (gpaw)}")
    p.add_argument("--box-from", type=Path)
    p.add_argument("--nve-check", type=Path, help="nvt: the NVE check's summary.json, which must pass first")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="clusterdefects md", description=__doc__.splitlines()[0])
    add_arguments(p)
    args = p.parse_args(argv)
    from .mpi import exit_status

    return exit_status("clusterdefects md", args.start, lambda: run(
        args.start, args.outdir, args.engine, args.ensemble, json.loads(args.settings), args.box_from,
        args.nve_check), (InputError, ValueError))


if __name__ == "__main__":
    sys.exit(main())
