"""The structure steps of the workflow, one function per Snakemake rule (the CLI calls these)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read

from .errors import InputError
from .isomers import remove_dopant, substitute
from .elements import CHALCOGENS, NONMETALS
from .sites import analyse_symmetry, read_sites
from .structio import ReadReport, extract_cluster, read_structure, strip_ligands
from .validate import check_charge, check_clashes, check_electron_count, check_formula, superatom_electrons

def main_metal(atoms: Atoms) -> str:
    """The most abundant metal element (the host)."""
    metals = Counter(s for s in atoms.get_chemical_symbols() if s not in NONMETALS)
    if not metals:
        raise InputError(None, "no metal atom in the structure", "give a metal cluster")
    return metals.most_common(1)[0][0]


def load_cluster(path: str | Path, host: str | None = None, report: ReadReport | None = None) -> Atoms:
    """Read a file and return the one cluster in it (cut out of a crystal if periodic)."""
    atoms = read_structure(path, report)
    return extract_cluster(atoms, host or main_metal(atoms), path, report) if len(atoms) > 1 else atoms


def thiolate_count(atoms: Atoms) -> int:
    """Electrons the ligands withdraw from the superatom: one per chalcogen, each a thiolate (RS-). From
    the composition, never from bond detection: a relaxed structure whose S moved off a metal, or whose
    S-H bond stretched past a cutoff, keeps the count of its start."""
    return sum(symbol in CHALCOGENS for symbol in atoms.get_chemical_symbols())


def cluster_electrons(atoms: Atoms, charge: int) -> int:
    """The superatom electron count of the ion (8 for [Ag29(BDT)12]3-)."""
    return superatom_electrons(atoms, charge, thiolate_count(atoms))


def prepare_parent(path: str | Path, host: str, formula: str, charge: int, strip_donors: list[str],
                   allow_odd_electrons: bool = False) -> tuple[Atoms, dict]:
    """Gas-phase parent cluster from any structure file, validated; returns it with a report."""
    report = ReadReport(source=str(path))
    shipped = Path(path).with_suffix(".json")
    if shipped.is_file() and Path(path).suffix == ".xyz":
        relaxation = json.loads(shipped.read_text()).get("relaxation", {})
        earlier = relaxation.get("continued_from") or {}
        before = (f" after {earlier.get('steps')} steps at fingerprint {earlier.get('fingerprint')}"
                  if earlier else "")
        report.notes.append(f"start: a parent relaxed once at preset {relaxation.get('preset')} (settings "
                            f"fingerprint {relaxation.get('fingerprint')}, {relaxation.get('steps')} steps{before}; "
                            f"provenance {shipped}); it is relaxed again with this preset's settings")
    cluster = load_cluster(path, host, report)
    metals = {s for s in cluster.get_chemical_symbols() if s not in NONMETALS}
    cluster = strip_ligands(cluster, strip_donors, metals, report)
    check_formula(cluster, formula, path)
    check_charge(cluster, charge, path)
    n_electrons = check_electron_count(cluster, charge, path, allow_odd_electrons)
    contact = check_clashes(cluster, path)
    symmetry = analyse_symmetry(cluster)
    cluster.info = {"structure_id": "parent", "kind": "parent", "charge": charge, "source": str(path),
                    "point_group": symmetry.point_group}
    summary = {
        "source": str(path),
        "formula": cluster.get_chemical_formula('metal'),
        "n_atoms": len(cluster),
        "charge": charge,
        "electrons": n_electrons,
        "superatom_electrons": cluster_electrons(cluster, charge),
        "point_group": symmetry.point_group,
        "hydrogens_follow_point_group": symmetry.hydrogens_symmetric,
        "symmetry_tolerance_A": symmetry.tolerance,
        "symmetry_max_deviation_A": round(symmetry.max_deviation, 4),
        "closest_contact_over_covalent_sum": round(contact, 3),
        "notes": report.notes,
    }
    return cluster, summary


def shipped_parent(relaxed_path: str | Path, result_path: str | Path, source_path: str | Path,
                   via: str | Path | None = None, route: str | None = None,
                   replaces: str | Path | None = None) -> tuple[Atoms, dict[str, Any]]:
    """A converged relaxed parent as the start a preset ships, with its provenance.

    The provenance names the source file (and its SHA-256), the settings fingerprint and the costs of
    the relaxation; the study relaxes the shipped start again with its own settings, so a start from
    other settings or another GPAW only costs steps, never a wrong energy. ``via``: the provenance of
    an earlier shipped parent this relaxation started from (kept as ``started_from``). ``route``: how
    the start was made when it did not come straight from ``source_path`` (e.g. a basin search from an
    isomer of ``via``, or a parent-search variant of the source); with ``via``, the source model it descends
    from, and its refits, are those of ``via``. ``replaces``: the provenance of the shipped parent this one
    replaces without descending from it (kept as ``replaces``).
    """
    from .results import RelaxResult, require_converged

    result = RelaxResult.read(result_path)
    require_converged(result, allow_unconverged=False)
    atoms = read(relaxed_path)
    atoms.calc = None  # a start geometry: the energy and fmax it had are in the provenance
    provenance = {
        "what": f"parent {result.formula} {result.charge:+d} relaxed at preset {result.preset}",
        "source": str(source_path),
        "source_sha256": hashlib.sha256(Path(source_path).read_bytes()).hexdigest(),
        "relaxation": {k: getattr(result, k) for k in (
            "preset", "energy", "fmax", "fmax_target", "converged", "steps", "force_calls", "wall_time_s",
            "peak_memory_mb", "mpi_ranks", "fingerprint", "dft", "optimizer", "versions", "continued_from")},
        "remake": f"snakemake --config preset={result.preset} remake_shipped_parent=true --cores 2 "
                  "-- <this file>",
    }
    if via:
        provenance["started_from"] = json.loads(Path(via).read_text())
    if route:
        provenance["route"] = route
        provenance["remake"] = ("follow `route` (remake_shipped_parent=true would relax the model as built, "
                                "which can end in another minimum)")
    if route and via:
        provenance["source_sha256"] = provenance["started_from"]["source_sha256"]
        if provenance["started_from"].get("source_refits"):
            provenance["source_refits"] = provenance["started_from"]["source_refits"]
    if replaces:
        provenance["replaces"] = json.loads(Path(replaces).read_text())
    atoms.info = {"structure_id": "parent", "kind": "parent", "charge": result.charge,
                  "source": str(source_path), "fingerprint": result.fingerprint}
    return atoms, provenance


def record_model_refit(provenance_path: str | Path, old_model: str | Path, new_model: str | Path, why: str) -> dict:
    """Note in a shipped parent's provenance that its source model was refit after it was relaxed.

    The shipped parent is not remade by this: the note keeps the SHA-256 of the model it was relaxed
    from, the new model's, and how far each kind of atom moved, so a reader sees how stale it is.
    """
    from .fileio import write_json

    old, new = read(old_model), read(new_model)
    if old.get_chemical_symbols() != new.get_chemical_symbols():
        raise InputError(str(new_model), "the refit model has other atoms than the old one",
                         "remake the shipped parent instead (README 'The shipped relaxed parent')")
    shifts = np.linalg.norm(new.positions - old.positions, axis=1)
    labels = old.arrays.get("label", np.array(old.get_chemical_symbols()))
    provenance = json.loads(Path(provenance_path).read_text())
    provenance.setdefault("source_refits", []).append({
        "from_sha256": hashlib.sha256(Path(old_model).read_bytes()).hexdigest(),
        "to_sha256": hashlib.sha256(Path(new_model).read_bytes()).hexdigest(),
        "max_shift_A": {str(k): round(float(shifts[labels == k].max()), 4) for k in sorted(set(labels))},
        "why": why, "remade": False,
    })
    write_json(provenance_path, provenance)
    return provenance


def source_sha256_now(provenance: dict) -> str:
    """SHA-256 of the source model a shipped parent's provenance stands for (after any refits)."""
    refits = provenance.get("source_refits", [])
    return refits[-1]["to_sha256"] if refits else provenance["source_sha256"]


def make_doped(parent_path: str | Path, sites_path: str | Path, site: str, dopant: str, charge: int,
               allow_odd_electrons: bool = False) -> Atoms:
    """Doped isomer: the representative atom of class ``site`` replaced by ``dopant``."""
    parent = read(parent_path)
    table = read_sites(sites_path)
    row = table[table["class"] == site]
    if row.empty:
        raise InputError(sites_path, f"no site class {site!r} (classes: {', '.join(table['class'])})",
                         "use one of the listed classes (config: sites)")
    row = row.iloc[0]
    doped = substitute(parent, int(row["representative"]), dopant, charge, site, str(row["role"]))
    if row["paper_label"]:
        doped.info["paper_label"] = str(row["paper_label"])
    check_electron_count(doped, charge, parent_path, allow_odd_electrons)
    return doped


def make_vacancy(doped_path: str | Path, dopant: str, charge: int, allow_odd_electrons: bool = False) -> Atoms:
    """Vacancy isomer: the dopant removed from the doped isomer."""
    vacancy = remove_dopant(read(doped_path), dopant, charge, doped_path)
    check_electron_count(vacancy, charge, doped_path, allow_odd_electrons)
    return vacancy
