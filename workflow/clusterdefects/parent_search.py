"""The search for a study's parent: candidate starts, relaxed alike, and the lowest kept.

A relaxed parent is one local minimum; [Ag29(BDT)12]3- has at least two T-symmetric ones 0.3 eV apart
(results/screen/basins). The candidates, each relaxed at the preset's settings in the study's box
(structure ids ``parent-search-<name>``):

* ``model``: the model parent as built;
* ``crown-<p>``: every crown Ag moved radially to ``p`` % of its distance from the metal centroid;
* ``tetra-<h>``: every tetrahedral Ag put ``h``/100 Å above the plane of its three S, on the outside
  (pyramidal as PPh3 holds it in the crystal, down to planar);
* ``basin-<dopant>-<site>``: each doped isomer with its dopant put back to the host, from where the
  study's basin check left it (the route that found the lower basin), relaxed to the end like the others.

Each moves a whole site class the same way about the centroid, so a T-symmetric model stays T. The
lowest energy (not the structure closest to the paper) becomes the parent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms

from .elements import NONMETALS
from .errors import InputError
from .ids import StructureId

#: Default variants: crown radii (% of the model's) and tetrahedral Ag heights above their S3 plane (0.01 Å).
CROWN_PERCENT = (96, 104)
TETRA_HEIGHT = (150, 100, 50, 0)
#: The parent's bond fingerprint the paper reports, by the kinds of ``analysis.parent_bonds``.
FINGERPRINT = {"centre-shell": "Ag(centre)-Ag(icosahedral)", "shell-shell": "Ag(icosahedral)-Ag(icosahedral)",
               "shell Ag-S": "Ag(icosahedral)-S", "crown Ag-S[tet]": "Ag(crown)-S[tetrahedral]",
               "tetrahedral Ag-S": "Ag(tetrahedral)-S", "shell-tetrahedral Ag-Ag": "Ag(icosahedral)-Ag(tetrahedral)"}
#: dft_calls_before: the calls of the run at other settings a candidate went on from (result.json ``continued_from``).
SEARCH_COLUMNS = ["candidate", "energy_eV", "delta_eV", "fmax_eV_per_A", "converged", "steps", "dft_calls",
                  "dft_calls_before", "point_group", "metal_shift_A", *FINGERPRINT, "lowest"]
#: The rows set beside the candidates: the parent the study uses now, and the paper's fingerprint (no energy).
STUDY_PARENT, PAPER = "study parent", "paper"


#: Candidate names (the ``name`` wildcard): the configurable ones, and the basin candidates the study adds.
NAME_PATTERN = "(model|crown-[1-9][0-9]*|tetra-(0|[1-9][0-9]*)|basin-[a-z][a-z]?-[a-z][a-z0-9-]*)"


def candidate_id(name: str) -> str:
    return str(StructureId("parent", tag=f"search-{name}"))


def basin_name(doped: str) -> str:
    """The candidate made from a doped isomer: doped-Hg-centre -> basin-hg-centre."""
    sid = StructureId.parse(doped)
    return f"basin-{sid.dopant.lower()}-{sid.site}"


def doped_of(name: str) -> str:
    """The doped isomer a basin candidate comes from: basin-hg-centre -> doped-Hg-centre."""
    _, dopant, site = name.split("-", 2)
    return str(StructureId("doped", dopant.capitalize(), site))


def _metals(atoms: Atoms) -> list[int]:
    return [a.index for a in atoms if a.symbol not in NONMETALS]


def _metal_centroid(atoms: Atoms) -> np.ndarray:
    return atoms.positions[_metals(atoms)].mean(axis=0)


def crown_variant(parent: Atoms, roles: dict[int, str], percent: int) -> Atoms:
    """Every crown metal atom at ``percent`` % of its distance from the metal centroid."""
    moved = parent.copy()
    centre = _metal_centroid(parent)
    crown = [i for i, role in roles.items() if role == "crown"]
    moved.positions[crown] = centre + (parent.positions[crown] - centre) * percent / 100.0
    return moved


def tetrahedral_variant(parent: Atoms, roles: dict[int, str], height: int) -> Atoms:
    """Every tetrahedral metal atom ``height``/100 Å above the plane of its three nearest S, outwards."""
    moved = parent.copy()
    centre = _metal_centroid(parent)
    sulfur = np.array([a.index for a in parent if a.symbol == "S"])
    for i in (i for i, role in roles.items() if role == "tetrahedral"):
        nearest = sulfur[np.argsort(np.linalg.norm(parent.positions[sulfur] - parent.positions[i], axis=1))[:3]]
        plane = parent.positions[nearest]
        middle = plane.mean(axis=0)
        normal = np.cross(plane[1] - plane[0], plane[2] - plane[0])
        normal /= np.linalg.norm(normal)
        if np.dot(normal, middle - centre) < 0:
            normal = -normal
        moved.positions[i] = middle + normal * height / 100.0
    return moved


def candidate_starts(parent: Atoms, roles: dict[int, str], crown: tuple[int, ...] = CROWN_PERCENT,
                     heights: tuple[int, ...] = TETRA_HEIGHT) -> dict[str, Atoms]:
    """Structure id -> start of every generated candidate (the basin candidates come from the basin checks).
    A system without crown or tetrahedral sites gets the model alone."""
    starts = {candidate_id("model"): parent.copy()}
    if "crown" in roles.values():
        starts |= {candidate_id(f"crown-{p}"): crown_variant(parent, roles, p) for p in crown}
    if "tetrahedral" in roles.values():
        starts |= {candidate_id(f"tetra-{h}"): tetrahedral_variant(parent, roles, h) for h in heights}
    for sid, atoms in starts.items():
        atoms.info = {**parent.info, "structure_id": sid, "kind": "parent"}
    return starts


def fingerprint(bond_rows: list[dict[str, Any]]) -> dict[str, str]:
    """The paper's bond fingerprint from ``analysis.parent_bonds`` rows: 'min-max' Å per kind ('' if absent)."""
    by_kind = {row["bond_kind"]: row for row in bond_rows}
    return {name: (f"{by_kind[kind]['min_A']:.3f}-{by_kind[kind]['max_A']:.3f}" if kind in by_kind else "")
            for name, kind in FINGERPRINT.items()}


def search_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per relaxed candidate (candidate, energy_eV, ... and the fingerprint), lowest first, with its
    energy above the lowest and the lowest marked; a row without an energy (the paper's) comes last."""
    frame = pd.DataFrame(rows).reindex(columns=SEARCH_COLUMNS)
    frame["energy_eV"] = frame["energy_eV"].astype(float)
    counts = ["steps", "dft_calls", "dft_calls_before"]
    frame[counts] = frame[counts].astype("Int64")
    frame["delta_eV"] = frame["energy_eV"] - frame["energy_eV"].min()
    frame = frame.sort_values("energy_eV", na_position="last", kind="stable").reset_index(drop=True)
    frame["lowest"] = frame.index == 0  # one row, also when two tie (the study's parent is the model's run)
    return frame[SEARCH_COLUMNS]


def lowest(frame: pd.DataFrame, candidates_only: bool = False) -> str:
    """The lowest row's name (of the candidates alone: the one to ship if any is)."""
    rows = frame[~frame["candidate"].isin([STUDY_PARENT, PAPER])] if candidates_only else frame
    return str(rows.loc[rows["energy_eV"].idxmin(), "candidate"])


def verdict(frame: pd.DataFrame, tolerance: float) -> str:
    """Whether the study's parent stands: it is the lowest, or within ``tolerance`` (the basin check's) of it."""
    best = lowest(frame)
    if STUDY_PARENT not in set(frame["candidate"]):
        return f"lowest: {best} (the study has no relaxed parent to compare with)"
    gap = float(frame.loc[frame["candidate"] == STUDY_PARENT, "energy_eV"].iloc[0]) - float(frame["energy_eV"].min())
    if best == STUDY_PARENT:
        return "the study's parent is the lowest: keep it"
    if gap <= tolerance:
        return f"{best} is {gap:.3f} eV below the study's parent, within {tolerance} eV: keep the parent"
    return f"{best} is {gap:.3f} eV below the study's parent: ship it as the parent and remake the study"


def paper_row(published: list[dict[str, Any]]) -> dict[str, Any]:
    """The paper's values of the fingerprint (``systems.<name>.published`` entries of the parent's bonds)."""
    by_kind = {ref["bond_kind"]: ref["value"] for ref in published if ref.get("structure") == "parent"}
    return {"candidate": PAPER, **{name: by_kind.get(kind, "") for name, kind in FINGERPRINT.items()}}


def metal_shift(atoms: Atoms, reference: Atoms | None) -> float:
    """The largest distance (Å) of a metal atom from its place in ``reference``, metal centroids put together: a
    few hundredths of an Å is the same minimum, tenths another (NaN without a reference of the same atoms)."""
    if reference is None or atoms.get_chemical_symbols() != reference.get_chemical_symbols():
        return float("nan")
    metals = _metals(atoms)
    shift = (atoms.positions[metals] - _metal_centroid(atoms)) - (reference.positions[metals] - _metal_centroid(reference))
    return float(np.linalg.norm(shift, axis=1).max())


def candidate_row(name: str, result: Any, relaxed: Atoms, start: Atoms, roles: dict[int, str],
                  parent: Atoms | None = None) -> dict[str, Any]:
    """A relaxed candidate's row; ``parent``: the study's relaxed parent, for ``metal_shift_A``."""
    from .analysis import parent_bonds

    return {"candidate": name, "energy_eV": result.energy, "fmax_eV_per_A": result.fmax,
            "converged": result.converged, "steps": result.steps, "dft_calls": result.force_calls,
            "dft_calls_before": (result.continued_from or {}).get("force_calls", 0),
            "point_group": result.point_group.get("0.1", ""), "metal_shift_A": metal_shift(relaxed, parent),
            **fingerprint(parent_bonds(relaxed, start, roles))}


def run_search(study: Any, results_root: Path, partial: bool = False) -> tuple[pd.DataFrame, dict[str, Path]]:
    """The search table of a study from its relaxed candidates; returns it with each candidate's folder.
    ``partial``: only the candidates that have finished (while the search runs)."""
    from ase.io import read

    from .analysis import atom_roles
    from .results import RelaxResult, check_combinable
    from .sites import read_sites

    root = results_root / study.preset
    roles = atom_roles(read_sites(root / "sites.csv"))
    folders = {sid.removeprefix("parent-search-"): root / "relax" / sid for sid in study.search_ids()}
    if partial:
        folders = {name: folder for name, folder in folders.items() if (folder / "result.json").is_file()}
        if not folders:
            raise InputError(root / "relax", "no parent-search candidate has finished yet",
                             "snakemake results/<preset>/parent_search.csv relaxes them; `status` shows how far")
    results = {name: RelaxResult.read(folder / "result.json") for name, folder in folders.items()}
    beside = {STUDY_PARENT: root / "relax" / "parent"} if (root / "relax" / "parent" / "result.json").is_file() else {}
    results |= {name: RelaxResult.read(folder / "result.json") for name, folder in beside.items()}
    check_combinable(list(results.values()), allow_unconverged=True)
    parent = read(beside[STUDY_PARENT] / "relaxed.xyz") if beside else None
    rows = [candidate_row(name, results[name], read(folder / "relaxed.xyz"), read(folder / "start.xyz"), roles, parent)
            for name, folder in (folders | beside).items()]
    return search_table([*rows, paper_row(study.system.get("published", []))]), folders


def recipe(name: str) -> str:
    """How a candidate's start was made, for the provenance of the parent it becomes."""
    if name == "model":
        return "the model parent as built"
    kind, value = name.split("-", 1)
    if kind == "crown":
        return f"the model parent with every crown Ag at {value} % of its radius"
    if kind == "tetra":
        return f"the model parent with every tetrahedral Ag {int(value) / 100:g} Å above its S3 plane"
    return f"{doped_of(name)} relaxed from the study's parent, with its dopant put back to the host"
