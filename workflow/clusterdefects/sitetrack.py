"""Which metal site each atom of an MD frame occupies: an assignment onto a site template, not guesses.

The template is the metal framework of a relaxed structure with every site named by its class (sites.csv).
For a vacancy isomer it is the relaxed doped isomer, so one site stays empty: the vacancy. Each frame is
aligned to the template (Kabsch, on the sites the atoms held in the previous frame) and its metal atoms are
assigned to sites by the Hungarian method (least total squared distance), which names the empty site and
catches an atom that moves from one site to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from scipy.optimize import linear_sum_assignment

from .elements import NONMETALS
from .errors import InputError
from .sites import read_sites


def metal_indices(atoms: Atoms) -> np.ndarray:
    return np.array([i for i, s in enumerate(atoms.get_chemical_symbols()) if s not in NONMETALS], dtype=int)


@dataclass(frozen=True)
class SiteTemplate:
    """Metal sites (positions, Å) and the class each belongs to."""

    positions: np.ndarray
    labels: tuple[str, ...]

    @classmethod
    def from_structure(cls, atoms: Atoms, sites_csv: str | Path) -> SiteTemplate:
        """The metal sites of ``atoms`` (the parent's atom order, as every doped isomer keeps it), named by the
        site classes of ``sites_csv``."""
        label_of = {int(i): row["class"] for _, row in read_sites(sites_csv).iterrows() for i in str(row["members"]).split()}
        metals = metal_indices(atoms)
        missing = [int(i) for i in metals if int(i) not in label_of]
        if missing:
            raise InputError(sites_csv, f"metal atoms {missing} of the template are in no site class",
                             "give the sites table made from this structure (results/<preset>/sites.csv)")
        return cls(atoms.positions[metals].copy(), tuple(label_of[int(i)] for i in metals))

    def __len__(self) -> int:
        return len(self.positions)


def kabsch(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The proper rotation R that minimises |(source - mean) R - (target - mean)|."""
    p = source - source.mean(axis=0)
    q = target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(p.T @ q)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def assign(template: SiteTemplate, metals: np.ndarray, previous: np.ndarray, rounds: int = 3) -> tuple[np.ndarray, float]:
    """Site of each metal atom (positions ``metals``), starting from the assignment ``previous``, and the rms
    distance (Å) of the atoms from their sites after alignment."""
    sites = previous
    for _ in range(rounds):
        held = template.positions[sites]
        rotation = kabsch(held, metals)
        aligned = (template.positions - held.mean(axis=0)) @ rotation + metals.mean(axis=0)
        cost = ((metals[:, None, :] - aligned[None, :, :]) ** 2).sum(axis=2)
        _, new = linear_sum_assignment(cost)
        converged = np.array_equal(new, sites)
        sites = new
        if converged:
            break
    rms = float(np.sqrt(cost[np.arange(len(sites)), sites].mean()))
    return sites, rms


#: An assignment whose atoms sit further than this (rms, Å) from their sites was made on another parent.
MAX_SITE_RMS_A = 0.5


def sites_held(template: SiteTemplate, atoms: Atoms, path: str | Path = "structure",
               tries: int = 24) -> np.ndarray:
    """The template site each metal atom of ``atoms`` holds (a doped or vacancy isomer, an MD frame; any
    orientation): ``assign`` from first guesses on the centred positions as they are and turned by ``tries``
    seeded random rotations, keeping the closest fit; refused if even that is off by ``MAX_SITE_RMS_A``."""
    from scipy.spatial.transform import Rotation

    metals = atoms.positions[metal_indices(atoms)]
    if not 0 < len(metals) <= len(template):
        raise InputError(path, f"{len(metals)} metal atoms but the parent has {len(template)} metal sites",
                         "give the parent (and its sites.csv) this structure was made from")
    centred, sites = metals - metals.mean(axis=0), template.positions - template.positions.mean(axis=0)
    best: tuple[np.ndarray, float] | None = None
    for turn in [np.eye(3), *Rotation.random(tries, random_state=0).as_matrix()]:
        cost = ((centred[:, None, :] @ turn.T - sites[None, :, :]) ** 2).sum(axis=2)
        held, rms = assign(template, metals, linear_sum_assignment(cost)[1])
        if best is None or rms < best[1]:
            best = (held, rms)
    held, rms = best
    if rms > MAX_SITE_RMS_A:
        raise InputError(path, f"its metal atoms are {rms:.2f} Å (rms) from the parent's sites at best",
                         "give the parent (and its sites.csv) this structure was made from")
    return held


def parent_atoms_held(atoms: Atoms, parent: Atoms, sites_csv: str | Path,
                      path: str | Path = "structure") -> dict[int, int]:
    """Metal atom index of ``atoms`` -> index of the parent atom whose site it holds (``sites_held``)."""
    held = sites_held(SiteTemplate.from_structure(parent, sites_csv), atoms, path)
    parent_metals = metal_indices(parent)
    return {int(k): int(parent_metals[site]) for k, site in zip(metal_indices(atoms), held)}


def role_names_on_template(atoms: Atoms, held: dict[int, int], sites_csv: str | Path) -> dict[int, str]:
    """Metal atom index of ``atoms`` -> 'Element(role)' of the parent's site it holds (``parent_atoms_held``), so
    that a dopant or a metal next to a vacancy is named by its site, not by a classification of the defective
    cluster."""
    from .analysis import atom_roles

    role = atom_roles(read_sites(sites_csv))  # parent atom index -> role
    return {k: f"{atoms[k].symbol}({role[p]})" for k, p in held.items()}


def contacts_as_in_parent(parent: Atoms, held: dict[int, int]) -> list[tuple[int, int]]:
    """Metal pairs (k, m) of the isomer whose parent sites are bonded in ``parent``: the paper's "same pairs as
    Ag-Ag in Ag29", which a dopant's own covalent radius (Hg 1.32 Å against Ag 1.45 Å) would leave out. Give
    the undoped parent: in a doped one the dopant's pairs are again judged by its own radius."""
    from .structio import bonded_pairs

    i, j, _ = bonded_pairs(parent)
    bonded = set(zip(i.tolist(), j.tolist()))
    return sorted((k, m) for k in held for m in held if k < m and (held[k], held[m]) in bonded)


@dataclass(frozen=True)
class SiteTrack:
    """The site of every metal atom in every frame, and the empty sites."""

    times_fs: np.ndarray
    sites: np.ndarray  # (frames, metal atoms)
    rms_A: np.ndarray
    template: SiteTemplate

    def empty(self, frame: int) -> list[int]:
        return sorted(set(range(len(self.template))) - set(self.sites[frame].tolist()))

    def vacancy_roles(self) -> list[str]:
        """The class of the empty site(s) in each frame ('' where every site is held)."""
        return ["+".join(self.template.labels[s] for s in self.empty(k)) for k in range(len(self.sites))]

    def settled(self, hold: int) -> SiteTrack:
        """The track with every assignment that does not last ``hold`` frames (or to the run's end) replaced by
        the one before: an atom hovering between its site and the empty one is not a migration until it stays."""
        sites = self.sites.copy()
        for k in range(1, len(sites)):
            if not all(np.array_equal(later, self.sites[k]) for later in self.sites[k:k + hold]):
                sites[k] = sites[k - 1]
        return SiteTrack(self.times_fs, sites, self.rms_A, self.template)

    def changes(self) -> int:
        """Frames whose assignment differs from the frame before."""
        return int(sum(not np.array_equal(a, b) for a, b in zip(self.sites[1:], self.sites[:-1])))

    def migrations(self, atom_index: np.ndarray) -> list[dict[str, object]]:
        """Every change of site between consecutive frames: time, atom (index in the structure), from, to."""
        events = []
        for k in range(1, len(self.sites)):
            for j in np.flatnonzero(self.sites[k] != self.sites[k - 1]):
                a, b = int(self.sites[k - 1, j]), int(self.sites[k, j])
                events.append({"time_fs": float(self.times_fs[k]), "atom": int(atom_index[j]),
                               "from_site": a, "from_class": self.template.labels[a],
                               "to_site": b, "to_class": self.template.labels[b]})
        return events


def track(template: SiteTemplate, frames: list[Atoms], times_fs: np.ndarray, start_sites: np.ndarray) -> SiteTrack:
    """Assign the metal atoms of every frame, each frame starting from the one before."""
    metals = metal_indices(frames[0])
    sites, rms = [], []
    current = start_sites
    for frame in frames:
        current, r = assign(template, frame.positions[metals], current)
        sites.append(current)
        rms.append(r)
    return SiteTrack(np.asarray(times_fs, dtype=float), np.array(sites), np.array(rms), template)


def start_sites(template: SiteTemplate, vacancy_site: int | None) -> np.ndarray:
    """The sites the atoms of a structure made from the template hold: all, or all but the vacancy's."""
    return np.array([s for s in range(len(template)) if s != vacancy_site], dtype=int)


#: Frames a new assignment must last to count (frames are ``md.interval`` steps apart: 30 fs by default).
HOLD_FRAMES = 3


def analyse_run(traj: Path, template_structure: Atoms, sites_csv: Path,
                vacancy_index: int | None, hold: int = HOLD_FRAMES) -> tuple[SiteTrack, dict[str, object]]:
    """Track the metal sites of an MD trajectory (``md.traj``); the summary names the empty site over time
    and the migrations, counting a change of site only once it has lasted ``hold`` frames."""
    from .md import ROW_KEY, read_frames

    frames = read_frames(traj)
    if not frames:
        raise ValueError(f"{traj} has no frames")
    template = SiteTemplate.from_structure(template_structure, sites_csv)
    metals_in_template = metal_indices(template_structure)
    vacancy_site = None if vacancy_index is None else int(np.flatnonzero(metals_in_template == vacancy_index)[0])
    times = np.array([frame.info[ROW_KEY]["time_fs"] for frame in frames])
    raw = track(template, frames, times, start_sites(template, vacancy_site))
    result = raw.settled(hold)
    roles = result.vacancy_roles()
    changes = [{"time_fs": float(times[k]), "empty": roles[k]} for k in range(len(roles)) if k == 0 or roles[k] != roles[k - 1]]
    summary = {"frames": len(frames), "time_fs": float(times[-1]), "start_empty": roles[0], "final_empty": roles[-1],
               "empty_site_changes": changes, "migrations": result.migrations(metal_indices(frames[0])),
               "max_rms_from_sites_A": float(result.rms_A.max()), "hold_frames": hold,
               "assignment_changes_raw": raw.changes(), "assignment_changes_settled": result.changes()}
    return result, summary
