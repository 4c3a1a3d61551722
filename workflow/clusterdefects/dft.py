"""GPAW settings of a preset, their fingerprint, and the calculator for one charged finite cluster.

Energies are only comparable between calculations whose ``fingerprint`` agrees: it hashes every
setting that changes the total energy (mode, basis, xc, grid spacing, vacuum, setups, convergence
criteria, occupations) and nothing that is the structure's own (charge, spin state, positions).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

#: Settings that change the converged energy: they make the fingerprint.
ENERGY_KEYS = ("mode", "basis", "xc", "h", "vacuum", "setups", "convergence", "occupations")
#: How the box is built (part of the fingerprint): edges are whole multiples of 4 h, so the grid
#: spacing is exactly h. GPAW otherwise stretches h to fit the box, and at h = 0.22 Å a 173-atom
#: cluster's energy moves by about 1 eV per 1 % of spacing. Where in the box a structure sits (``boxed``: a
#: structure already in the study's box keeps its place on the grid) is part of its positions, like its
#: start, and so not of the fingerprint.
BOX_RULE = "edges are multiples of 4h; one box per study"
#: What ``convergence['energy']`` means (part of the fingerprint). GPAW's own default is per valence
#: electron: 5e-4 eV x 976 electrons of Ag29(BDT)12 would allow ~0.5 eV of drift in the total energy.
SCF_ENERGY_RULE = "energy: eV, absolute, total energy over the last 3 SCF iterations"
#: SCF iterations over which the absolute energy criterion is taken.
SCF_ENERGY_WINDOW = 3

#: An LCAO basis: one GPAW name for every element, or GPAW's per-element dict ({"default": ..., "C": ...}).
Basis = str | dict[str, str]


def check_basis(basis: Any, key: str = "dft.basis", where: str = "config/config.yaml") -> None:
    """Refuse a basis GPAW would not take or would read otherwise than meant: a name, or a dict of element
    symbols (and ``default``, which it needs) to names. ``key``: the config key named in the error."""
    from ase.data import chemical_symbols

    from .errors import InputError

    if isinstance(basis, str) and basis:
        return
    fix = f'give {key} as a GPAW basis name ("dzp") or as {{default: sz(dzp), C: dz(dzp), H: dz(dzp)}}'
    if not isinstance(basis, dict) or "default" not in basis:
        raise InputError(where, f"{key} {basis!r} is neither a basis name nor a dict with a 'default'", fix)
    unknown = sorted(str(k) for k in basis if k != "default" and k not in chemical_symbols[1:])
    if unknown or not all(isinstance(v, str) and v for v in basis.values()):
        raise InputError(where, f"{key} {basis!r}: keys must be element symbols or 'default', values "
                         f"basis names{f' (not elements: {unknown})' if unknown else ''}", fix)


def plain_basis(basis: Basis) -> Basis:
    """One basis, one form (so one fingerprint): a dict without the elements that have its default, and a
    dict that gives every element the same basis is that name."""
    if isinstance(basis, str):
        return basis
    default = basis["default"]
    own = {element: name for element, name in basis.items() if name != default}
    return {"default": default, **own} if own else default


def basis_label(basis: Basis) -> str:
    """The basis in one word for tables and logs: ``sz(dzp)+C,H:dz(dzp)``."""
    basis = plain_basis(basis)
    if isinstance(basis, str):
        return basis
    groups: dict[str, list[str]] = {}
    for element, name in sorted(basis.items()):  # plain_basis left only the elements off the default
        if element != "default":
            groups.setdefault(name, []).append(element)
    return "+".join([basis["default"], *(f"{','.join(els)}:{name}" for name, els in sorted(groups.items()))])


@dataclass(frozen=True)
class DFTSettings:
    """GPAW settings of one preset (LCAO by default; mode 'fd' for real-space refinement)."""

    mode: str = "lcao"
    basis: Basis = "sz(dzp)"
    xc: str = "PBE"
    h: float = 0.22
    vacuum: float = 5.0
    setups: dict[str, str] = field(default_factory=dict)
    #: energy: absolute eV on the total energy (``SCF_ENERGY_RULE``); density: GPAW's, per valence electron.
    convergence: dict[str, float] = field(default_factory=lambda: {"energy": 0.001, "density": 0.0001})
    occupations: dict[str, Any] = field(default_factory=lambda: {"name": "fermi-dirac", "width": 0.01})
    mixer: dict[str, Any] = field(default_factory=lambda: {"beta": 0.05, "nmaxold": 5, "weight": 50.0})
    maxiter: int = 300

    def __post_init__(self) -> None:
        check_basis(self.basis)
        object.__setattr__(self, "basis", plain_basis(self.basis))

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> DFTSettings:
        unknown = set(cfg) - set(cls.__dataclass_fields__)
        if unknown:
            from .errors import InputError

            raise InputError("config/config.yaml", f"unknown DFT setting(s) {sorted(unknown)}",
                             f"use only {sorted(cls.__dataclass_fields__)}")
        return cls(**cfg)

    def energy_settings(self) -> dict[str, Any]:
        data = asdict(self)
        return {**{k: data[k] for k in ENERGY_KEYS}, "box": BOX_RULE, "scf_energy": SCF_ENERGY_RULE}

    def fingerprint(self) -> str:
        """Hash of the energy-relevant settings (16 hex digits)."""
        text = json.dumps(self.energy_settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Rung:
    """One step of the SCF rescue ladder: what is changed when the SCF does not converge."""

    name: str
    mixer: dict[str, Any] | None = None
    maxiter_factor: float = 1.0
    smearing_width: float | None = None


#: Tried in order on a KohnShamConvergenceError. Smearing changes the energy, so a result that
#: needed it gets another fingerprint and is never mixed with unsmeared ones.
SCF_LADDER = (
    Rung("as configured"),
    Rung("softer mixer, twice the iterations", mixer={"beta": 0.02, "nmaxold": 8, "weight": 100.0},
         maxiter_factor=2.0),
    Rung("softer mixer and 0.1 eV Fermi smearing", mixer={"beta": 0.02, "nmaxold": 8, "weight": 100.0},
         maxiter_factor=2.0, smearing_width=0.1),
)


def apply_rung(settings: DFTSettings, rung: Rung) -> DFTSettings:
    """The settings a ladder rung runs with."""
    changes: dict[str, Any] = {"maxiter": int(settings.maxiter * rung.maxiter_factor)}
    if rung.mixer is not None:
        changes["mixer"] = rung.mixer
    if rung.smearing_width is not None:
        changes["occupations"] = {**settings.occupations, "width": rung.smearing_width}
    return replace(settings, **changes)


def fmax_of(forces: np.ndarray) -> float:
    """The largest atomic force (eV/Å): what ASE's optimizers compare with ``fmax``."""
    return float(np.sqrt((np.asarray(forces) ** 2).sum(axis=1).max()))


#: MPI layout of a spin-polarised run: the grid split over all ranks. GPAW's default puts the two spins on
#: different ranks, and each rank then does the whole grid's work (Poisson, XC) for its spin. Measured on
#: the 173-atom open-shell anion with 2 ranks (`benchmarks/bench_scf.py --moment 2 --layouts ours gpaw`).
#: Only the distribution of the work changes, not the numbers.
SPIN_POLARIZED_LAYOUT = {"kpt": 1, "band": 1}


def make_calculator(settings: DFTSettings, charge: int, txt: str | None, fixed_moment: float | None = None,
                    ghosts: tuple[int, ...] = (), legacy: bool = False, layout: dict | None = None) -> Any:
    """A GPAW calculator for a non-periodic, charged cluster.

    ``fixed_moment``: spin-polarised with this total moment (μB) held fixed (GPAW's ``fixmagmom``; set the
    atoms' initial moments to sum to it, ``initial_magmoms``); None: spin-paired. ``ghosts``: atom
    indices that carry only their basis functions (counterpoise: no nucleus, no electrons). ``legacy``: GPAW's
    legacy code path, which the analysis tools need (Hirshfeld charges). ``layout``: GPAW's ``parallel``
    (default: ``SPIN_POLARIZED_LAYOUT`` when spin-polarised, else GPAW's own; ``{}``: GPAW's own).
    """
    from gpaw import GPAW

    occupations = dict(settings.occupations)
    if fixed_moment is not None:
        occupations["fixmagmom"] = True
    kwargs: dict[str, Any] = dict(
        mode=settings.mode, xc=settings.xc, h=settings.h, charge=charge, spinpol=fixed_moment is not None,
        convergence=gpaw_convergence(settings.convergence), occupations=occupations,
        mixer=dict(settings.mixer), maxiter=settings.maxiter, symmetry="off", txt=txt,
    )
    if settings.mode == "lcao":
        kwargs["basis"] = dict(settings.basis) if isinstance(settings.basis, dict) else settings.basis
    layout = (SPIN_POLARIZED_LAYOUT if fixed_moment is not None else {}) if layout is None else layout
    if layout:
        kwargs["parallel"] = dict(layout)
    if legacy:
        kwargs["legacy_gpaw"] = True
    if ghosts and settings.setups:  # GPAW gives a ghost the plain basis, not the custom setup's
        from .errors import InputError

        raise InputError("config/config.yaml", f"counterpoise ghosts with custom setups {settings.setups}",
                         "GPAW would give the ghost atoms another basis than the real ones: drop dft.setups")
    setups: dict[Any, str] = {**settings.setups, **{int(i): "ghost" for i in ghosts}}
    if setups:
        kwargs["setups"] = setups
    return GPAW(**kwargs)


def scf_energy(atoms: Atoms, settings: DFTSettings, charge: int, txt: Path, fixed_moment: float | None = None,
               ghosts: tuple[int, ...] = (), legacy: bool = False) -> tuple[float, int, str]:
    """One SCF of ``atoms`` (the calculator is left on them): (energy eV, SCF iterations, the ladder rung it
    converged on). A paired run has its initial moments cleared: GPAW's new code would otherwise polarise with
    a free moment. An SCF that does not converge is retried on the ladder's rungs that keep the energy
    settings (mixer, iterations), never with the smearing rung, which would change the energy; ``txt`` gets a
    GPAW log per rung tried. InputError naming the last log when none converges."""
    from gpaw import KohnShamConvergenceError

    from .errors import InputError

    if fixed_moment is None:
        atoms.set_initial_magnetic_moments(None)
    rungs = [rung for rung in SCF_LADDER if rung.smearing_width is None]
    for number, rung in enumerate(rungs):
        log = txt if number == 0 else txt.with_name(f"{txt.stem}-rung{number}{txt.suffix}")
        atoms.calc = make_calculator(apply_rung(settings, rung), charge, str(log), fixed_moment, ghosts, legacy)
        try:
            return float(atoms.get_potential_energy()), int(atoms.calc.get_number_of_iterations()), rung.name
        except KohnShamConvergenceError:
            if number + 1 == len(rungs):
                raise InputError(log, f"SCF not converged on {', '.join(r.name for r in rungs)}",
                                 "raise dft.maxiter or soften dft.mixer for this preset") from None
    raise AssertionError("unreachable")


def gpaw_convergence(convergence: dict[str, float]) -> dict[str, Any]:
    """GPAW's criteria for ours: the energy one as an absolute criterion on the total energy."""
    out: dict[str, Any] = dict(convergence)
    if isinstance(out.get("energy"), (int, float)):
        out["energy"] = {"name": "energy", "tol": float(out["energy"]), "n_old": SCF_ENERGY_WINDOW,
                         "relative": False}
    return out


def box_for(atoms: Atoms, vacuum: float, h: float) -> np.ndarray:
    """Edges of a box holding ``atoms`` with at least ``vacuum`` Å on every side, each a whole
    multiple of 4 h (so GPAW's grid spacing is exactly h)."""
    extent = atoms.positions.max(axis=0) - atoms.positions.min(axis=0)
    return np.ceil((extent + 2 * vacuum) / (4 * h) - 1e-9) * 4 * h


def nearest_face(atoms: Atoms, edges: np.ndarray) -> float:
    """The smallest distance (Å) from an atom to a face of the box [0, edges]."""
    pos = atoms.positions
    return float(min(pos.min(), (np.asarray(edges) - pos).min()))


def in_box(atoms: Atoms, edges: np.ndarray) -> bool:
    """Whether ``atoms`` already have the orthorhombic, non-periodic box ``edges`` as their cell."""
    cell = atoms.cell.array
    return (not atoms.pbc.any() and np.allclose(cell, np.diag(np.diag(cell)), atol=1e-6)
            and np.allclose(np.diag(cell), edges, atol=1e-4))


def boxed(atoms: Atoms, vacuum: float, h: float, box: np.ndarray | None = None) -> Atoms:
    """The cluster in a non-periodic box: ``box`` (edges in Å, shared by a study's structures) or its own
    ``box_for``. A structure that already has that box keeps its place on the grid (an isomer made from the
    relaxed parent starts where the parent ended), unless it came nearer a face than ``vacuum`` - h: it is then
    centred, as is any other structure. Refuses a box that leaves less than ``vacuum`` - h around it."""
    boxed_atoms = atoms.copy()
    edges = box_for(atoms, vacuum, h) if box is None else np.asarray(box, dtype=float)
    extent = atoms.positions.max(axis=0) - atoms.positions.min(axis=0)
    if np.any((edges - extent) / 2 < vacuum - h):
        from .errors import InputError

        raise InputError(None, f"the study's box {np.round(edges, 3)} Å leaves less than {vacuum} Å of vacuum "
                         f"around this structure (extent {np.round(extent, 3)} Å)",
                         "remake the parent's start, or raise dft.vacuum")
    keep = in_box(atoms, edges) and nearest_face(atoms, edges) >= vacuum - h
    boxed_atoms.pbc = False
    boxed_atoms.cell = np.diag(edges)
    if not keep:
        boxed_atoms.center()
    return boxed_atoms


def grid_translation_error(settings: DFTSettings, name: str = "CH4", shifts: int = 4) -> tuple[float, float]:
    """Egg-box check: (energy range in eV, largest net force in eV/Å) of a free molecule moved across
    one grid spacing along the box diagonal.

    Exactly, neither depends on where the molecule sits; on a real-space grid both do, and with
    GPAW's C and H setups the error grows steeply above h = 0.22 Å (eV-sized at 0.3 Å).
    """
    from ase.build import molecule

    energies, net_forces = [], []
    for shift in np.linspace(0.0, settings.h, shifts, endpoint=False):
        atoms = boxed(molecule(name), settings.vacuum, settings.h)
        atoms.positions += shift
        atoms.calc = make_calculator(settings, charge=0, txt=None)
        energies.append(atoms.get_potential_energy())
        net_forces.append(float(np.abs(atoms.get_forces().sum(axis=0)).max()))
    return float(max(energies) - min(energies)), max(net_forces)


def initial_magmoms(atoms: Atoms, total: float) -> list[float]:
    """Spread a starting moment over the metal atoms (for a spin-polarised start)."""
    from .elements import NONMETALS

    metals = [a.index for a in atoms if a.symbol not in NONMETALS] or list(range(len(atoms)))
    moments = [0.0] * len(atoms)
    for i in metals:
        moments[i] = total / len(metals)
    return moments


def versions() -> dict[str, str]:
    """Versions of the codes and data behind an energy."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("gpaw", "ase", "gpaw-data", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
