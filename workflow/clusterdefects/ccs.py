"""Collision cross sections in N2 by the trajectory method (clean-room, from the published method).

The momentum-transfer cross section of an ion in a buffer gas at temperature T,

    Omega(1,1)(T) = 1 / (2 (kT)^3) * int E^2 exp(-E/kT) <Q1(E)>_orientations dE,
    Q1(E) = 2 pi int (1 - cos chi(b, E)) b db,

is estimated by Monte Carlo (Mesleh et al., J. Phys. Chem. 1996, 100, 16082): classical trajectories of
the gas molecule around the fixed ion, each with a random ion orientation, a collision energy drawn from
the Gamma(3, kT) density above (stratified in 20 equal-probability energy bins) and an impact parameter
with b^2 uniform on [0, b_max(E)^2]; each trajectory gives pi b_max^2 (1 - cos chi). The N2 model and its
Lennard-Jones parameters are those of Kim et al. (2008) and Campuzano et al. (2012): two N sites, three
point charges for the quadrupole, an isotropic polarisability at the centre (the ion-induced dipole), the
potential Boltzmann-averaged over three orientations of the N2 axis. Parameters and their sources:
``data/ccs_n2.yaml``. Units inside: Å, eV, amu, and ASE's time unit Å sqrt(amu/eV).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from ase import Atoms
from numba import njit, prange
from scipy.special import gammaincinv

from .errors import InputError

PARAMETER_FILE = "data/ccs_n2.yaml"
KB = 8.617333262e-5  # eV/K
COULOMB = 14.3996454784  # e^2/(4 pi eps0) in eV Å
SW1 = 5e-5  # |V|/E below which the gas is free (start and end of a trajectory)
CMIN = 5e-4  # 1 - cos chi below which a trajectory counts as undeflected (b_max)
MAX_STEPS = 60000
DS_NEAR, DS_SLOPE = 0.02, 0.1  # RK4 step length (Å at the start speed): in the wall, growth with distance


@cache
def parameters() -> dict[str, Any]:
    """The N2 model, the ion atoms' parameters and the validation values (data/ccs_n2.yaml)."""
    return yaml.safe_load(resources.files("clusterdefects").joinpath(PARAMETER_FILE).read_text())


def parameter_path() -> str:
    return str(resources.files("clusterdefects").joinpath(PARAMETER_FILE))


@dataclass(frozen=True)
class GasModel:
    """A rigid gas molecule: per orientation, site offsets (Å) from its centre, which sites carry a
    Lennard-Jones term, the site charges (e), and the centre's polarisability (Å^3)."""

    name: str
    mass: float
    offsets: np.ndarray  # (n_orientations, n_sites, 3)
    lj_site: np.ndarray  # (n_sites,) 1.0 where the site has an LJ term
    charges: np.ndarray  # (n_sites,)
    polarizability: float
    orientation_kT: float  # eV; the orientations' Boltzmann weights

    @classmethod
    def n2(cls) -> GasModel:
        gas = parameters()["gas"]
        half = gas["bond_A"] / 2
        offsets = np.zeros((3, 3, 3))
        for axis in range(3):
            offsets[axis, 0, axis], offsets[axis, 1, axis] = half, -half
        q = gas["site_charge_e"]
        return cls("N2", gas["mass_amu"], offsets, np.array([1.0, 1.0, 0.0]), np.array([q, q, -2 * q]),
                   gas["polarizability_A3"], KB * gas["orientation_temperature_K"])

    @classmethod
    def point(cls, mass: float = 28.0134) -> GasModel:
        """A structureless particle with one LJ site and no charge (for tests against known answers)."""
        return cls("point", mass, np.zeros((1, 1, 3)), np.array([1.0]), np.array([0.0]), 0.0, 1.0)


@dataclass(frozen=True)
class IonModel:
    """The fixed ion: positions about its centre of mass, per-atom LJ parameters with the gas site, charges."""

    positions: np.ndarray
    epsilon: np.ndarray  # eV
    sigma: np.ndarray  # Å
    charges: np.ndarray  # e
    mass: float
    metal: np.ndarray  # bool: atoms whose parameters are plain UFF (no N2 fit)


def lj_with_n_site(symbols: list[str], source: str = "the ion") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-atom (epsilon eV, sigma Å, is-metal) of each ion atom with one N site of N2."""
    data = parameters()
    table, gas = data["elements"], data["gas"]
    missing = sorted({s for s in symbols if s not in table})
    if missing:
        raise InputError(source, f"no trajectory-method parameters for {', '.join(missing)}",
                         f"add UFF x and D for them to {parameter_path()}")
    eps, sig, metal = [], [], []
    for s in symbols:
        row = table[s]
        scaled_x, scaled_d = row["uff_x_A"] * row["n2_factor"], row["uff_D_kcal"] * row["n2_factor"]
        eps.append(math.sqrt(scaled_d * gas["uff_D_kcal"]) * data["kcal_to_eV"])
        sig.append(math.sqrt(scaled_x * gas["uff_x_A"]) / 2 ** (1 / 6))
        metal.append(bool(row.get("metal", False)))
    return np.array(eps), np.array(sig), np.array(metal)


def ion_model(atoms: Atoms, charges: np.ndarray | None = None, source: str = "the ion") -> IonModel:
    """The ion of ``atoms`` for the trajectories; ``charges`` per atom (e), default none."""
    eps, sig, metal = lj_with_n_site(list(atoms.get_chemical_symbols()), source)
    positions = atoms.positions - atoms.get_center_of_mass()
    q = np.zeros(len(atoms)) if charges is None else np.asarray(charges, dtype=float)
    return IonModel(positions, eps, sig, q, float(atoms.get_masses().sum()), metal)


def uniform_charges(atoms: Atoms, net_charge: int) -> np.ndarray:
    return np.full(len(atoms), net_charge / len(atoms))


# --------------------------------------------------------------------------------------------------
# The numba kernels: potential and force on the gas centre, one trajectory, a batch in parallel.


@njit(cache=True, fastmath=True)
def _energy_force(pos, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, force):
    """V (eV) at gas centre ``pos`` (Boltzmann-averaged over orientations); ``force`` gets -grad V.
    Returns (V, distance from the centre to the nearest ion atom)."""
    n_or, n_sites = offsets.shape[0], offsets.shape[1]
    v_or = np.zeros(n_or)
    g_or = np.zeros((n_or, 3))
    field = np.zeros(3)
    grad_field = np.zeros((3, 3))
    dmin = 1e30
    for i in range(xyz.shape[0]):
        cx, cy, cz = pos[0] - xyz[i, 0], pos[1] - xyz[i, 1], pos[2] - xyz[i, 2]
        rc2 = cx * cx + cy * cy + cz * cz
        rc = math.sqrt(rc2)
        if rc < dmin:
            dmin = rc
        if q[i] != 0.0 and alpha_k != 0.0:
            inv3 = q[i] / (rc2 * rc)
            field[0] += cx * inv3
            field[1] += cy * inv3
            field[2] += cz * inv3
            inv5 = 3.0 * q[i] / (rc2 * rc2 * rc)
            d = (cx, cy, cz)
            for a in range(3):
                grad_field[a, a] += inv3
                for b in range(3):
                    grad_field[a, b] -= inv5 * d[a] * d[b]
        s2 = sig[i] * sig[i]
        for k in range(n_or):
            for s in range(n_sites):
                dx, dy, dz = cx + offsets[k, s, 0], cy + offsets[k, s, 1], cz + offsets[k, s, 2]
                r2 = dx * dx + dy * dy + dz * dz
                de_dr_over_r = 0.0
                if lj_site[s] != 0.0:
                    sr6 = (s2 / r2) ** 3
                    v_or[k] += 4.0 * eps[i] * (sr6 * sr6 - sr6)
                    de_dr_over_r += -24.0 * eps[i] * (2.0 * sr6 * sr6 - sr6) / r2
                if site_q[s] != 0.0 and q[i] != 0.0:
                    r = math.sqrt(r2)
                    e = 14.3996454784 * q[i] * site_q[s] / r
                    v_or[k] += e
                    de_dr_over_r += -e / r2
                g_or[k, 0] += de_dr_over_r * dx
                g_or[k, 1] += de_dr_over_r * dy
                g_or[k, 2] += de_dr_over_r * dz
    # ion-induced dipole at the centre: V = -(alpha k / 2) |F|^2, grad V = -alpha k (grad F)^T F
    v_pol = -0.5 * alpha_k * (field[0] ** 2 + field[1] ** 2 + field[2] ** 2)
    g_pol = np.zeros(3)
    for a in range(3):
        for b in range(3):
            g_pol[a] -= alpha_k * grad_field[b, a] * field[b]
    vmin = v_or.min()
    wsum = 0.0
    v = 0.0
    force[0] = force[1] = force[2] = 0.0
    for k in range(n_or):
        w = math.exp(-(v_or[k] - vmin) / orient_kT)
        wsum += w
        v += w * v_or[k]
        for a in range(3):
            force[a] -= w * g_or[k, a]
    v /= wsum
    for a in range(3):
        force[a] = force[a] / wsum - g_pol[a]
    return v + v_pol, dmin


@njit(cache=True, fastmath=True)
def _trajectory(xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, mu, b, speed, d_lj):
    """One trajectory at impact parameter b (along x), speed ``speed`` along -y from far away.
    Returns (1 - cos chi, E_end / E_start, steps); steps < 0: lost (counted as 1 - cos chi = 1)."""
    e0 = 0.5 * mu * speed * speed
    force = np.zeros(3)
    ymax, ymin = xyz[:, 1].max() + 1.0, xyz[:, 1].min() - 1.0
    pos = np.array([b, ymax, 0.0])
    v, _ = _energy_force(pos, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, force)
    if abs(v) / e0 > SW1:
        while abs(v) / e0 > SW1:
            pos[1] += 10.0
            v, _ = _energy_force(pos, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, force)
    else:  # the gas may pass without feeling the ion at all
        while abs(v) / e0 <= SW1:
            pos[1] -= 1.0
            if pos[1] < ymin:
                return 0.0, 1.0, 0
            v, _ = _energy_force(pos, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, force)
        pos[1] += 1.0
    vel = np.array([0.0, -speed, 0.0])
    v, dmin = _energy_force(pos, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, force)
    e_start = e0 + v
    steps = 0
    k1, k2, k3, k4 = np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)
    p2, p3, p4 = np.zeros(3), np.zeros(3), np.zeros(3)
    while True:
        # classical RK4; the step (Å at the start speed) is DS_NEAR in the repulsive wall and grows with the
        # distance from the nearest atom (the long-range terms vary on the scale of that distance)
        ds = max(DS_NEAR, DS_NEAR + DS_SLOPE * (dmin - d_lj))
        dt = ds / speed
        for a in range(3):
            k1[a] = force[a] / mu
            p2[a] = pos[a] + 0.5 * dt * vel[a]
        _energy_force(p2, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, k2)
        for a in range(3):
            k2[a] /= mu
            p3[a] = pos[a] + 0.5 * dt * (vel[a] + 0.5 * dt * k1[a])
        _energy_force(p3, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, k3)
        for a in range(3):
            k3[a] /= mu
            p4[a] = pos[a] + dt * (vel[a] + 0.5 * dt * k2[a])
        _energy_force(p4, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, k4)
        for a in range(3):
            k4[a] /= mu
            pos[a] += dt * vel[a] + dt * dt / 6.0 * (k1[a] + k2[a] + k3[a])
            vel[a] += dt / 6.0 * (k1[a] + 2.0 * k2[a] + 2.0 * k3[a] + k4[a])
        v, dmin = _energy_force(pos, xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, force)
        steps += 1
        if steps > 50 and dmin > d_lj and abs(v) / e0 < SW1:
            break
        if steps >= MAX_STEPS:
            return 1.0, 1.0, -steps
    sp = math.sqrt(vel[0] ** 2 + vel[1] ** 2 + vel[2] ** 2)
    cos_chi = -vel[1] / sp
    return 1.0 - cos_chi, (0.5 * mu * sp * sp + v) / e_start, steps


@njit(cache=True)
def _rotation(qt):
    a, b, c, d = qt[0], qt[1], qt[2], qt[3]
    return np.array([[a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
                     [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
                     [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d]])


@njit(cache=True, parallel=True)
def _batch(xyz, eps, sig, q, offsets, lj_site, site_q, alpha_k, orient_kT, mu, quats, bs, speeds, d_lj):
    n = bs.shape[0]
    deflection, erat, steps = np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64)
    for t in prange(n):
        rotated = xyz @ _rotation(quats[t]).T
        deflection[t], erat[t], steps[t] = _trajectory(rotated, eps, sig, q, offsets, lj_site, site_q, alpha_k,
                                                       orient_kT, mu, bs[t], speeds[t], d_lj)
    return deflection, erat, steps


# --------------------------------------------------------------------------------------------------
# The driver: b_max per energy bin, stratified sampling, cycles to a target error.


@dataclass(frozen=True)
class CCSSettings:
    temperature: float = 298.0  # K
    target_error: float = 0.01  # relative standard error at which the run stops
    energy_bins: int = 20
    cycle: int = 1000  # trajectories per cycle (a multiple of energy_bins)
    min_cycles: int = 3
    max_trajectories: int = 400_000
    seed: int = 0
    sensitivity: float = 0.10  # metal sigma scaled by 1 -+ this (0: no sensitivity runs)
    sensitivity_trajectories: int = 4000


@dataclass
class CCSResult:
    """One ion's cross section with its statistics and provenance (the ccs json)."""

    ccs_A2: float
    standard_error_A2: float
    relative_error: float
    trajectories: int
    temperature_K: float
    gas: str
    charge_model: str
    net_charge: float
    lost: int
    energy_violations: int  # |E_end/E_start - 1| > 1 %
    wall_time_s: float
    trajectories_per_s: float
    b_max_A: list[float]
    sensitivity: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parameters: str = PARAMETER_FILE
    structure: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TrajectoryCCS:
    """The trajectory-method cross section of one ion in one gas (N2 by default)."""

    def __init__(self, ion: IonModel, gas: GasModel | None = None, settings: CCSSettings | None = None) -> None:
        self.ion, self.gas = ion, gas or GasModel.n2()
        self.settings = settings or CCSSettings()
        self.kT = KB * self.settings.temperature
        self.mu = self.ion.mass * self.gas.mass / (self.ion.mass + self.gas.mass)
        self.rng = np.random.default_rng(self.settings.seed)

    def _arrays(self, sigma_scale: float) -> tuple:
        sig = np.where(self.ion.metal, self.ion.sigma * sigma_scale, self.ion.sigma)
        d_lj = float(sig.max()) + float(np.abs(self.gas.offsets).max())
        return (self.ion.positions, self.ion.epsilon, sig, self.ion.charges, self.gas.offsets, self.gas.lj_site,
                self.gas.charges, self.gas.polarizability * COULOMB, self.gas.orientation_kT, self.mu), d_lj

    def _run(self, quats: np.ndarray, bs: np.ndarray, energies: np.ndarray, sigma_scale: float = 1.0):
        args, d_lj = self._arrays(sigma_scale)
        speeds = np.sqrt(2 * energies / self.mu)
        return _batch(*args, quats, bs, speeds, d_lj)

    def bin_energies(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper energy (eV) of each equal-probability bin of the Gamma(3, kT) density."""
        edges = gammaincinv(3, np.linspace(0, 1, self.settings.energy_bins + 1)) * self.kT
        return edges[:-1], edges[1:]

    def b_max(self) -> np.ndarray:
        """Per energy bin, the impact parameter beyond which 1 - cos chi < CMIN (Å), at the bin's lowest
        energy (the first bin: its lowest quarter), in the ion's widest orientation, with metal sigma at its
        largest sensitivity value; scanned inwards from beyond the ion-induced dipole's reach."""
        low, high = self.bin_energies()
        low = low.copy()
        low[0] = gammaincinv(3, 0.25 / self.settings.energy_bins) * self.kT
        scale = 1.0 + self.settings.sensitivity
        far = self.ion.positions[np.argmax(np.linalg.norm(self.ion.positions, axis=1))]
        # quaternion turning the farthest atom onto +x, the direction of b
        quat = _quaternion_onto_x(far)
        r_ion = float(np.linalg.norm(far)) + float(self.ion.sigma.max()) * scale + 1.0
        c4 = 0.5 * self.gas.polarizability * COULOMB * float(self.ion.charges.sum()) ** 2
        result = np.zeros(len(low))
        for i, energy in enumerate(low):
            # small-angle deflection of -C/r^4: chi = 3 pi C / (4 E b^4); 1 - cos chi = CMIN there
            b_dipole = (3 * math.pi * c4 / (4 * energy * math.sqrt(2 * CMIN))) ** 0.25 if c4 else 0.0
            b = 1.2 * max(r_ion, b_dipole) + 2.0
            while self._deflection(quat, b, energy, scale) >= CMIN:  # not yet beyond the reach: go out
                b += 2.0
            while b > 0:
                if self._deflection(quat, b, energy, scale) >= CMIN:
                    break
                b -= 0.5
            result[i] = b + 1.0
        return result

    def _deflection(self, quat: np.ndarray, b: float, energy: float, scale: float) -> float:
        return float(self._run(quat[None], np.array([b]), np.array([energy]), scale)[0][0])

    def contact_radius(self) -> float:
        """Radius (Å) of the sphere about the centre of mass inside which the gas meets the LJ walls."""
        r = np.linalg.norm(self.ion.positions, axis=1) + self.ion.sigma * (1.0 + self.settings.sensitivity)
        return float(r.max()) + float(np.abs(self.gas.offsets).max())

    def strata(self, bmax: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per stratum (energy bin x inner/outer impact parameter): energy bin, b range (inner and outer b^2
        bounds). The inner one reaches the contact radius, where nearly all large deflections are."""
        inner = np.minimum(self.contact_radius(), bmax)
        bins = np.repeat(np.arange(len(bmax)), 2)
        lo = np.ravel(np.column_stack([np.zeros(len(bmax)), inner**2]))
        hi = np.ravel(np.column_stack([inner**2, bmax**2]))
        return bins, lo, hi

    def compute(self, progress: bool = True, structure: str | None = None, charge_model: str = "none") -> CCSResult:
        """Cycles of trajectories over all strata until the relative standard error is below the target."""
        s = self.settings
        t0 = time.perf_counter()
        bmax = self.b_max()
        strata = self.strata(bmax)
        n_strata = len(strata[0])
        sums, sq, counts = np.zeros(n_strata), np.zeros(n_strata), np.zeros(n_strata)
        lost = violations = 0
        per_cycle = max(n_strata, s.cycle // n_strata * n_strata)
        draws = []
        while True:
            draw = self._draw(per_cycle, strata)
            deflection, erat, steps = self._run(*draw[:3])
            draws.append(draw)
            x = draw[4] * deflection
            np.add.at(sums, draw[3], x)
            np.add.at(sq, draw[3], x * x)
            np.add.at(counts, draw[3], 1)
            lost += int((steps < 0).sum())
            violations += int((np.abs(erat - 1) > 0.01).sum())
            omega, se = self._estimate(sums, sq, counts)
            n = int(counts.sum())
            if progress:
                print(f"ccs: {n:7d} trajectories  CCS {omega:8.2f} Å^2 +- {se:.2f} ({100 * se / omega:.2f} %)  "
                      f"{n / (time.perf_counter() - t0):.0f} traj/s", flush=True)
            if (len(draws) >= s.min_cycles and se / omega < s.target_error) or n >= s.max_trajectories:
                break
        wall = time.perf_counter() - t0
        result = CCSResult(omega, se, se / omega, n, s.temperature, self.gas.name, charge_model,
                           round(float(self.ion.charges.sum()), 6), lost, violations, round(wall, 1),
                           round(n / wall, 1), [round(float(b), 2) for b in bmax], structure=structure)
        if s.sensitivity and self.ion.metal.any():
            result.sensitivity = self._sensitivity(draws)
            result.notes.append(f"metal Lennard-Jones parameters are plain UFF (no N2 fit exists): CCS with metal "
                                f"sigma -+{100 * s.sensitivity:.0f} % in 'sensitivity'")
        if lost:
            result.notes.append(f"{lost} trajectories did not finish in {MAX_STEPS} steps (counted as 1 - cos chi = 1)")
        return result

    def _estimate(self, sums: np.ndarray, sq: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
        """Omega = mean over energy bins of the sum over b strata of the stratum means; its standard error."""
        mean = sums / counts
        var = np.maximum(sq / counts - mean**2, 0) * counts / np.maximum(counts - 1, 1)
        bins = self.settings.energy_bins
        return float(mean.sum() / bins), float(math.sqrt((var / counts).sum()) / bins)

    def _draw(self, n: int, strata: tuple[np.ndarray, np.ndarray, np.ndarray]):
        """n trajectories, the same number in each stratum: (quaternions, b, energies, stratum, area)."""
        bins, lo, hi = strata
        which = np.arange(n) % len(bins)
        u = (bins[which] + self.rng.random(n)) / self.settings.energy_bins
        energies = gammaincinv(3, u) * self.kT
        quats = self.rng.normal(size=(n, 4))
        quats /= np.linalg.norm(quats, axis=1)[:, None]
        bs = np.sqrt(lo[which] + (hi[which] - lo[which]) * self.rng.random(n))
        return quats, bs, energies, which, math.pi * (hi[which] - lo[which])

    def _sensitivity(self, draws) -> dict[str, float]:
        """CCS change with metal sigma scaled, from the base run's first trajectories with the same random
        numbers (common random numbers: the difference is far more precise than either value)."""
        quats, bs, energies, which, area = (np.concatenate([d[k] for d in draws]) for k in range(5))
        n = min(len(bs), self.settings.sensitivity_trajectories)
        args = (quats[:n], bs[:n], energies[:n])
        base, _, _ = self._run(*args)
        out = {}
        for scale in (1 - self.settings.sensitivity, 1 + self.settings.sensitivity):
            scaled, _, _ = self._run(*args, scale)
            diff = area[:n] * (scaled - base)
            groups = [diff[which[:n] == i] for i in np.unique(which[:n])]
            bins = self.settings.energy_bins
            delta = sum(g.mean() for g in groups) / bins
            se = math.sqrt(sum(g.var(ddof=1) / len(g) for g in groups if len(g) > 1)) / bins
            out[f"metal_sigma_x{scale:.2f}_delta_A2"] = round(float(delta), 2)
            out[f"metal_sigma_x{scale:.2f}_delta_se_A2"] = round(float(se), 2)
        return out


def _quaternion_onto_x(vector: np.ndarray) -> np.ndarray:
    """A unit quaternion (w, x, y, z) whose rotation turns ``vector`` onto +x."""
    if np.linalg.norm(vector) < 1e-9:
        return np.array([1.0, 0.0, 0.0, 0.0])
    v = vector / np.linalg.norm(vector)
    target = np.array([1.0, 0.0, 0.0])
    axis = np.cross(v, target)
    s, c = np.linalg.norm(axis), float(v @ target)
    if s < 1e-12:
        return np.array([1.0, 0, 0, 0]) if c > 0 else np.array([0.0, 0, 0, 1.0])
    angle = math.atan2(s, c)
    return np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * axis / s])


def neufeld_omega11(t_star: float) -> float:
    """Omega(1,1)* of the 12-6 potential (Neufeld, Janzen and Aziz 1972; data/ccs_n2.yaml)."""
    c = parameters()["validation"]["neufeld_lj_omega11"]
    return (c["A"] / t_star ** c["B"] + c["C"] / math.exp(c["D"] * t_star) + c["E"] / math.exp(c["F"] * t_star)
            + c["G"] / math.exp(c["H"] * t_star))


def charges_for(atoms: Atoms, source: Path, charges_file: Path | None, net_charge: int | None) -> tuple[np.ndarray, str]:
    """The ion's partial charges and how they were made: Hirshfeld from a singlepoint JSON, else uniform."""
    from .fileio import read_json

    if charges_file is not None:
        data = read_json(charges_file, "charges")
        q = np.asarray(data.get("charges", []), dtype=float)
        if len(q) != len(atoms):
            raise InputError(charges_file, f"{len(q)} charges for {len(atoms)} atoms of {source}",
                             "make the charges from this structure (rule charges)")
        return q, data.get("charge_model", "Hirshfeld")
    charge = int(atoms.info.get("charge", 0)) if net_charge is None else net_charge
    if net_charge is None and "charge" not in atoms.info:
        raise InputError(source, "no net charge in the file", "give --charge N")
    return uniform_charges(atoms, charge), f"uniform (net charge {charge} e spread over {len(atoms)} atoms)"


def ccs_of_file(path: Path, settings: CCSSettings, charges_file: Path | None = None, net_charge: int | None = None,
                structure_id: str | None = None, progress: bool = True) -> CCSResult:
    """The cross section in N2 of the structure in ``path`` (any ASE-readable file)."""
    from ase.io import read

    try:
        atoms = read(path)
    except Exception as err:  # ASE raises many kinds for a broken file
        raise InputError(path, f"cannot read the structure ({err})", "give an XYZ, extended XYZ or CIF file") from None
    charges, model = charges_for(atoms, path, charges_file, net_charge)
    ion = ion_model(atoms, charges, str(path))
    result = TrajectoryCCS(ion, settings=settings).compute(progress, structure_id or atoms.info.get("structure_id"), model)
    if model.startswith("uniform"):
        result.notes.append("partial charges: uniform fallback (no GPAW charges given)")
    return result
