"""What the study reports: relative energies, fragmentation energies, bond-length changes, Rg.

Everything here starts from relaxed structures and their result.json, combined only after
``results.check_combinable`` (one fingerprint, converged unless allowed).  Bonds are found by
geometry (the same covalent criterion as everywhere in the package), never by hand-picked indices:
a doped isomer's Hg bonds are compared with the same atom pairs in the relaxed parent, and a
vacancy isomer's bonds with the pairs they were in the parent.
"""

from __future__ import annotations

import math
import re

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms
from ase.formula import Formula

from .ids import StructureId
from .results import RelaxResult
from .elements import NONMETALS
from .sites import ROLE_ORDER
from .structio import bonded_pairs

BOND_COLUMNS = ["structure_id", "bond_kind", "n", "min_A", "mean_A", "max_A", "reference_kind",
                "reference_min_A", "reference_mean_A", "reference_max_A", "change_percent"]


def metal_composition(formula: str) -> str:
    """The metal part of a formula, e.g. 'Ag28HgC72H48S24' -> 'Ag28Hg'."""
    counts = Formula(formula).count()
    return str(Formula.from_dict({el: n for el, n in counts.items() if el not in NONMETALS}).format("metal"))


#: Energy of each spin state a relaxation computed (NaN where it computed only one).
SPIN_COLUMNS = ["energy_paired_eV", "energy_polarized_eV", "magmom_polarized"]


def spin_columns(r: RelaxResult) -> dict[str, float]:
    energies, moments = r.spin_energies, r.spin_moments
    return {"energy_paired_eV": energies.get("paired", np.nan), "energy_polarized_eV": energies.get("polarized", np.nan),
            "magmom_polarized": moments.get("polarized", np.nan)}


def relative_energies(results: list[RelaxResult], paper_labels: dict[str, str]) -> pd.DataFrame:
    """Per composition and charge of the doped and vacancy isomers: energy minus the lowest of that ion."""
    rows = []
    for r in results:
        sid = StructureId.parse(r.structure_id)
        if not sid.is_isomer:
            continue
        site = sid.site
        rows.append({"composition": metal_composition(r.formula), "kind": sid.kind, "structure_id": r.structure_id,
                     "dopant": sid.dopant, "charge": r.charge,
                     "role": site, "paper_label": paper_labels.get(site, ""), "energy_eV": r.energy,
                     "fmax_eV_per_A": r.fmax, "converged": r.converged, "spin_state": r.spin_state,
                     "magmom": r.magmom, **spin_columns(r), "superatom_electrons": r.superatom_electrons,
                     "point_group": r.point_group.get("0.1", "")})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # One reference per composition and charge: an Ag28 vacancy of Hg (2-) and of Au (3-) are different ions.
    frame["relative_energy_eV"] = frame["energy_eV"] - frame.groupby(["composition", "charge"])["energy_eV"].transform("min")
    columns = ["composition", "structure_id", "role", "paper_label", "energy_eV", "relative_energy_eV",
               "fmax_eV_per_A", "converged", "spin_state", "magmom", *SPIN_COLUMNS, "charge", "superatom_electrons",
               "point_group", "dopant", "kind"]
    return frame[columns].sort_values(["kind", "relative_energy_eV"]).reset_index(drop=True)


def fragmentation_energies(results: list[RelaxResult], corrections: dict[str, float] | None = None) -> pd.DataFrame:
    """E_frag(i -> j) = E(vacancy j) + E(dopant atom) - E(doped i), for every doped i and vacancy j.

    ``corrections``: doped id -> counterpoise correction delta_i (``counterpoise.correction``); the
    corrected energy E_frag - delta_i is what is compared with a published one (NaN where it is missing).
    """
    corrections = corrections or {}
    by_id = {StructureId.parse(r.structure_id): r for r in results}
    rows = []
    for doped, parent in by_id.items():
        atom = by_id.get(StructureId("atom", doped.dopant))
        if doped.kind != "doped" or atom is None:
            continue
        parent_id = str(doped)
        delta = corrections.get(parent_id, np.nan)
        for vacancy, product in by_id.items():
            if vacancy.kind == "vacancy" and vacancy.dopant == doped.dopant:
                raw = product.energy + atom.energy - parent.energy
                rows.append({"parent_id": parent_id, "product_id": str(vacancy), "atom_id": atom.structure_id,
                             "fragmentation_energy_eV": raw, "counterpoise_correction_eV": delta,
                             "fragmentation_energy_cp_eV": raw - delta})
    frame = pd.DataFrame(rows)
    if not frame.empty:  # the lowest vacancy isomer of each dopant
        vacancies = [(sid, r.energy) for sid, r in by_id.items() if sid.kind == "vacancy"]
        lowest = {str(min((v for v in vacancies if v[0].dopant == d), key=lambda v: v[1])[0])
                  for d in {sid.dopant for sid, _ in vacancies}}
        frame["product_is_most_stable"] = frame["product_id"].isin(lowest)
    return frame


def dopant_scan(energies: pd.DataFrame, fragmentation: pd.DataFrame) -> pd.DataFrame:
    """One row per dopant: its doped cluster's charge and superatom electrons, each site's relative energy, the
    lowest site and the gap to the next, and, where its vacancy isomers were computed, their charge and
    electron count, the lowest vacancy site and the dopant-loss energy (lowest doped -> lowest vacancy + free
    atom), raw and counterpoise-corrected."""
    if energies.empty:
        return pd.DataFrame(columns=["dopant"])
    rows = []
    for dopant, doped in energies[energies["kind"] == "doped"].groupby("dopant", sort=False):
        doped = doped.sort_values("relative_energy_eV")
        lowest = doped.iloc[0]
        row: dict[str, Any] = {"dopant": dopant, "composition": lowest["composition"], "charge": int(lowest["charge"]),
                               "superatom_electrons": lowest["superatom_electrons"], "lowest_site": lowest["role"],
                               "gap_to_next_eV": float(doped["relative_energy_eV"].iloc[1]) if len(doped) > 1 else np.nan}
        row.update({f"relative_energy_eV_{role}": float(e) for role, e in zip(doped["role"], doped["relative_energy_eV"])})
        vacancies = energies[(energies["kind"] == "vacancy") & (energies["dopant"] == dopant)].sort_values("relative_energy_eV")
        row.update(vacancy_charge=np.nan, vacancy_superatom_electrons=np.nan, lowest_vacancy_site="",
                   dopant_loss_eV=np.nan, dopant_loss_cp_eV=np.nan)
        if not vacancies.empty:
            row.update(vacancy_charge=int(vacancies["charge"].iloc[0]),
                       vacancy_superatom_electrons=vacancies["superatom_electrons"].iloc[0],
                       lowest_vacancy_site=vacancies["role"].iloc[0])
            loss = fragmentation[(fragmentation["parent_id"] == lowest["structure_id"])
                                 & (fragmentation["product_id"] == vacancies["structure_id"].iloc[0])]
            if not loss.empty:
                row.update(dopant_loss_eV=float(loss["fragmentation_energy_eV"].iloc[0]),
                           dopant_loss_cp_eV=float(loss["fragmentation_energy_cp_eV"].iloc[0]))
        rows.append(row)
    return pd.DataFrame(rows)


def radius_of_gyration(atoms: Atoms) -> float:
    """Mass-weighted radius of gyration (Å)."""
    masses = atoms.get_masses()
    centre = atoms.get_center_of_mass()
    return float(np.sqrt((masses * ((atoms.positions - centre) ** 2).sum(axis=1)).sum() / masses.sum()))


def bonds_of(atoms: Atoms, index: int) -> list[int]:
    """Atoms bonded to ``index`` (covalent criterion of the package)."""
    i, j, _ = bonded_pairs(atoms)
    return sorted({int(b) for a, b in zip(i, j) if a == index})


def _lengths(atoms: Atoms, pairs: Iterable[tuple[int, int]]) -> np.ndarray:
    pairs = list(pairs)
    if not pairs:
        return np.array([])
    a, b = np.array(pairs).T
    return np.linalg.norm(atoms.positions[a] - atoms.positions[b], axis=1)


def _stats(x: np.ndarray) -> tuple[float, float, float]:
    return (float(x.min()), float(x.mean()), float(x.max())) if x.size else (np.nan, np.nan, np.nan)


def _row(sid: str, kind: str, lengths: np.ndarray, ref_kind: str, reference: np.ndarray) -> dict[str, Any]:
    lo, mean, hi = _stats(lengths)
    ref_lo, ref, ref_hi = _stats(reference)
    return {"structure_id": sid, "bond_kind": kind, "n": int(lengths.size), "min_A": lo, "mean_A": mean,
            "max_A": hi, "reference_kind": ref_kind, "reference_min_A": ref_lo, "reference_mean_A": ref,
            "reference_max_A": ref_hi, "change_percent": 100.0 * (mean - ref) / ref}


def doped_bonds(sid: str, doped: Atoms, parent: Atoms, site: int, centre: int | None) -> list[dict[str, Any]]:
    """Dopant-metal (shell), dopant-centre and dopant-S bonds vs the same pairs in the parent."""
    dopant, host = doped[site].symbol, parent[site].symbol
    neighbours = sorted(set(bonds_of(doped, site)) | set(bonds_of(parent, site)))
    groups = (
        ("", [(site, k) for k in neighbours if doped[k].symbol not in NONMETALS and k != centre]),
        ("(centre)", [(site, k) for k in neighbours if k == centre]),
        ("", [(site, k) for k in neighbours if doped[k].symbol == "S"]),
    )
    rows = []
    for label, pairs in groups:
        if pairs:
            other = doped[pairs[0][1]].symbol + label
            rows.append(_row(sid, f"{dopant}-{other}", _lengths(doped, pairs), f"{host}-{other}",
                             _lengths(parent, pairs)))
    return rows


def vacancy_bonds(sid: str, vacancy: Atoms, doped: Atoms, parent: Atoms, removed: int,
                  kernel: set[int]) -> list[dict[str, Any]]:
    """Metal-S bonds of the atoms that were bonded to the removed site, and kernel metal-S bonds,
    each vs the same atom pairs in the parent."""
    def old_index(k: int) -> int:  # parent/doped index of vacancy atom k
        return k + (k >= removed)

    def new_index(k: int) -> int:
        return k - (k > removed)

    next_to = set(bonds_of(doped, removed))
    host = parent[removed].symbol
    near, core = set(), set()
    i, j, _ = bonded_pairs(vacancy)
    for a, b in zip(i.tolist(), j.tolist()):
        if vacancy[a].symbol in NONMETALS or vacancy[b].symbol != "S":
            continue
        pair = (old_index(a), old_index(b))
        if next_to & set(pair):
            near.add(pair)
        if pair[0] in kernel:
            core.add(pair)
    rows = []
    for kind, pairs in ((f"{host}-S next to vacancy", sorted(near)), (f"{host}(core)-S", sorted(core))):
        now = _lengths(vacancy, [(new_index(a), new_index(b)) for a, b in pairs])
        rows.append(_row(sid, kind, now, kind, _lengths(parent, pairs)))
    return rows


def atom_roles(sites: pd.DataFrame) -> dict[int, str]:
    """Parent atom index -> site role (centre, icosahedral, crown, ...) from the sites table."""
    return {int(m): str(role) for role, members in zip(sites["role"], sites["members"]) for m in str(members).split()}


def metal_s_pairs(atoms: Atoms) -> set[tuple[int, int]]:
    """Bonded (metal, S) pairs by the package's covalent criterion."""
    i, j, _ = bonded_pairs(atoms)
    symbols = atoms.get_chemical_symbols()
    return {(int(a), int(b)) for a, b in zip(i, j) if symbols[a] not in NONMETALS and symbols[b] == "S"}


def parent_bonds(parent: Atoms, start: Atoms, roles: dict[int, str]) -> list[dict[str, Any]]:
    """The parent's bond fingerprint by site role, each against the same pairs in its start.

    Kinds: 'Ag(centre)-Ag(icosahedral)', 'Ag(icosahedral)-Ag(icosahedral)', 'Ag(icosahedral)-Ag(tetrahedral)',
    'Ag(icosahedral)-S', 'Ag(crown)-S', 'Ag(tetrahedral)-S', and 'Ag(crown)-S[tetrahedral]' for the crown
    Ag-S bonds to an S shared with a tetrahedral Ag (the paper's 2.69 Å).
    """
    symbols = parent.get_chemical_symbols()
    i, j, _ = bonded_pairs(parent)
    rank = {role: n for n, role in enumerate(ROLE_ORDER)}
    s_of_tetrahedral = {b for a, b in metal_s_pairs(parent) if roles.get(a) == "tetrahedral"}
    groups: dict[str, set[tuple[int, int]]] = {}
    for a, b in zip(i.tolist(), j.tolist()):
        if symbols[a] in NONMETALS or a not in roles:
            continue
        if symbols[b] not in NONMETALS and b in roles and a < b:
            first, second = sorted((a, b), key=lambda k: rank.get(roles[k], len(rank)))
            kind = f"{symbols[first]}({roles[first]})-{symbols[second]}({roles[second]})"
        elif symbols[b] == "S":
            first, second = a, b
            kind = f"{symbols[a]}({roles[a]})-S"
        else:
            continue
        groups.setdefault(kind, set()).add((first, second))
        if symbols[b] == "S" and roles[a] == "crown" and b in s_of_tetrahedral:
            groups.setdefault(f"{symbols[a]}(crown)-S[tetrahedral]", set()).add((a, b))
    return [_row("parent", kind, _lengths(parent, sorted(pairs)), f"{kind} in start", _lengths(start, sorted(pairs)))
            for kind, pairs in sorted(groups.items())]


def vacancy_site_bonds(sid: str, vacancy: Atoms, doped: Atoms, parent: Atoms, removed: int,
                       roles: dict[int, str]) -> list[dict[str, Any]]:
    """Bonds from the S atoms that bound the removed atom to each metal, grouped by the metal's role
    ('Ag(crown)-S at vacancy', 'Ag(icosahedral)-S at vacancy'), vs the same pairs in the parent."""
    def new_index(k: int) -> int:
        return k - (k > removed)

    vacancy_s = {b for a, b in metal_s_pairs(doped) if a == removed}
    groups: dict[str, list[tuple[int, int]]] = {}
    for a, b in sorted(metal_s_pairs(parent) | metal_s_pairs(doped)):
        if b in vacancy_s and a != removed:
            groups.setdefault(f"{parent[a].symbol}({roles.get(a, '?')})-S at vacancy", []).append((a, b))
    return [_row(sid, kind, _lengths(vacancy, [(new_index(a), new_index(b)) for a, b in pairs]), kind,
                 _lengths(parent, pairs)) for kind, pairs in sorted(groups.items())]


CONNECTIVITY_COLUMNS = ["structure_id", "metal_s_bonds_start", "metal_s_bonds_relaxed", "made", "broken"]


def connectivity_changes(sid: str, start: Atoms, relaxed: Atoms) -> dict[str, Any]:
    """Metal-S bonds made and broken between a structure's start and its relaxed geometry."""
    before, after = metal_s_pairs(start), metal_s_pairs(relaxed)

    def describe(pairs: set[tuple[int, int]]) -> str:
        return "; ".join(f"{relaxed[a].symbol}{a}-S{b} ({start.get_distance(a, b):.2f} -> "
                         f"{relaxed.get_distance(a, b):.2f} Å)" for a, b in sorted(pairs))

    return {"structure_id": sid, "metal_s_bonds_start": len(before), "metal_s_bonds_relaxed": len(after),
            "made": describe(after - before), "broken": describe(before - after)}


BASIN_COLUMNS = ["candidate", "from", "energy", "parent_energy", "delta_eV", "lower_than_parent", "relaxed",
                 "steps", "fmax", "converged"]
CCS_COLUMNS = ["structure_id", "composition", "ccs_A2", "standard_error_A2", "trajectories", "temperature_K",
               "charge_model", "metal_sigma_x0.90_delta_A2", "metal_sigma_x1.10_delta_A2", "lost", "energy_violations"]


def ccs_table(rows: list[dict[str, Any]], formulas: dict[str, str]) -> pd.DataFrame:
    """One row per cross section (``ccs.CCSResult`` dicts); ``formulas``: structure id -> formula."""
    out = [{**{k: r.get(k) for k in CCS_COLUMNS}, **r.get("sensitivity", {}), "structure_id": r["structure"],
            "composition": metal_composition(formulas[r["structure"]])} for r in rows]
    return pd.DataFrame(out, columns=CCS_COLUMNS)


COMPARISON_COLUMNS = ["quantity", "published", "computed", "difference", "preset", "unit", "source", "method_note"]
_NUMBER = r"[+-]?\d+(?:\.\d+)?"


def headline(text: str) -> tuple[float, ...] | str | None:
    """What a published or computed cell says, to compare: the value after '->' of a change, the value
    before '+-' of an error bar, the ends of a range 'a-b', a number, or a word (None: nothing to compare)."""
    text = re.sub(r"\(.*?\)", "", str(text)).split("->")[-1].split("+-")[0].strip()
    if text in ("", "n/a") or "nan" in text.lower():
        return None
    ends = re.fullmatch(rf"({_NUMBER})\s*-\s*({_NUMBER})", text)
    if ends:
        return tuple(sorted(float(x) for x in ends.groups()))
    if re.fullmatch(_NUMBER, text):
        return (float(text),)
    return text.lower()


def difference(published: str, computed: str) -> str:
    """computed - published, in the published value's decimals: per end for two ranges, 'within' (or the
    distance to the nearer end) where one is a value and the other a range; 'same' or 'differs' for words; '' if either is missing."""
    p, c = headline(published), headline(computed)
    if p is None or c is None:
        return ""
    if isinstance(p, str) or isinstance(c, str):
        return "same" if p == c else "differs"
    decimals = max([len(d) for d in re.findall(r"\.(\d+)", str(published).split("(")[0])] or [2])
    fmt = f"{{:+.{decimals}f}}"
    if len(p) == len(c):
        return " / ".join(fmt.format(b - a) for a, b in zip(p, c))
    (lo, hi), x = (p, c[0]) if len(p) == 2 else (c, p[0])
    if lo <= x <= hi:
        return "within"
    gap = x - (hi if x > hi else lo)
    return fmt.format(gap if len(p) == 2 else -gap)


def comparison_row(quantity: str, published: str, computed: str, preset: str, unit: str = "",
                   source: str = "this run", method_note: str = "") -> dict[str, str]:
    """One row of the comparison table; ``method_note``: how the paper's method differs from this run's,
    as the config states it (known before any result)."""
    return {"quantity": quantity, "published": published, "computed": computed,
            "difference": difference(published, computed), "preset": preset, "unit": unit, "source": source,
            "method_note": method_note}


def basin_verdict(basins: pd.DataFrame, preset: str) -> pd.DataFrame:
    """The comparison table's first row: is the parent the lowest minimum found? (none if nothing was checked)"""
    if basins.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    lowest = basins.loc[basins["delta_eV"].astype(float).idxmin()]
    if bool(lowest["lower_than_parent"]):
        text = (f"NO: {lowest['from']} with its dopant put back is {-float(lowest['delta_eV']):.2f} eV lower; "
                f"the parent is not the lowest minimum found: remake it from {lowest['from']}")
    else:
        text = f"yes (lowest candidate {lowest['from']}, {float(lowest['delta_eV']):+.2f} eV)"
    return pd.DataFrame([comparison_row("basin check: the parent is the lowest minimum found", "", text, preset)],
                        columns=COMPARISON_COLUMNS)


def geometry_rows(structures: dict[str, Atoms]) -> pd.DataFrame:
    """Radius of gyration and superatom electron count (from the charge in each file) of every structure."""
    from .pipeline import cluster_electrons

    return pd.DataFrame([{"structure_id": sid, "formula": a.get_chemical_formula("metal"), "n_atoms": len(a),
                          "charge": int(a.info.get("charge", 0)),
                          "superatom_electrons": cluster_electrons(a, int(a.info.get("charge", 0))),
                          "radius_of_gyration_A": radius_of_gyration(a)} for sid, a in structures.items()])


def comparison(published: list[dict[str, Any]], energies: pd.DataFrame, fragmentation: pd.DataFrame,
               bonds: pd.DataFrame, preset: str, ccs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each published value next to this run's (the references come from the config, not from code)."""
    rows = []
    for ref in published:
        rows.append(comparison_row(ref["quantity"], ref["value"], computed_value(ref, energies, fragmentation,
                                   bonds, ccs), preset, ref.get("unit", ""), ref.get("source", ""),
                                   ref.get("method_note", "")))
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _some(sel: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """The selection, or ValueError when it is empty (the quantity does not apply here)."""
    if len(sel) == 0:
        raise ValueError("nothing selected")
    return sel


def of_ion(energies: pd.DataFrame, composition: str, charge: int | None = None) -> pd.DataFrame:
    """The isomers of one ion: a composition, at ``charge`` where given. A composition present at more than
    one charge (an Ag28 vacancy of Hg, 2-, and of Au, 3-) needs the charge: ValueError without it."""
    sel = _some(energies[energies["composition"] == composition])
    if charge is not None:
        return _some(sel[sel["charge"] == int(charge)])
    if sel["charge"].nunique() > 1:
        raise ValueError(f"{composition} at more than one charge: name the charge")
    return sel


def lowest_isomer_ccs(ccs: pd.DataFrame, energies: pd.DataFrame, composition: str,
                      charge: int | None = None) -> pd.Series:
    """The cross-section row of the lowest-energy isomer of a composition (at ``charge`` where given)."""
    sel = of_ion(energies, composition, charge)
    sid = sel.loc[sel["relative_energy_eV"].idxmin(), "structure_id"]
    return _some(ccs[ccs["structure_id"] == sid]).iloc[0]


def ccs_value(ref: dict[str, Any], energies: pd.DataFrame, ccs: pd.DataFrame) -> str:
    """ccs_lowest: the lowest isomer's CCS +- its error; ccs_range: over the isomers; ccs_ratio: in %."""
    what = ref["compute"]
    if what == "ccs_lowest":
        row = lowest_isomer_ccs(ccs, energies, ref["composition"], ref.get("charge"))
        return f"{row['ccs_A2']:.1f} +- {row['standard_error_A2']:.1f} ({row['structure_id']})"
    if what == "ccs_range":
        sel = _some(ccs[ccs["composition"] == ref["composition"]])
        return f"{sel['ccs_A2'].min():.1f}-{sel['ccs_A2'].max():.1f}"
    a = lowest_isomer_ccs(ccs, energies, ref["composition"], ref.get("charge"))
    b = lowest_isomer_ccs(ccs, energies, ref["product"], ref.get("product_charge"))
    ratio = 100 * (b["ccs_A2"] / a["ccs_A2"] - 1)
    error = 100 * math.hypot(b["standard_error_A2"] / a["ccs_A2"], a["standard_error_A2"] / a["ccs_A2"])
    return f"{ratio:+.1f} +- {error:.1f}"


def computed_value(ref: dict[str, Any], energies: pd.DataFrame, fragmentation: pd.DataFrame,
                   bonds: pd.DataFrame, ccs: pd.DataFrame | None = None) -> str:
    """This run's counterpart of one published quantity, as text ('n/a' where it does not apply)."""
    what = ref["compute"]
    try:
        if what.startswith("ccs"):
            return ccs_value(ref, energies, pd.DataFrame(columns=CCS_COLUMNS) if ccs is None else ccs)
        if what == "max_relative_energy":
            sel = of_ion(energies, ref["composition"], ref.get("charge"))
            return _fmt(sel["relative_energy_eV"].max())
        if what == "lowest_role":
            sel = of_ion(energies, ref["composition"], ref.get("charge"))
            return str(sel.loc[sel["relative_energy_eV"].idxmin(), "role"])
        if what == "relative_energy":
            sel = of_ion(energies, ref["composition"], ref.get("charge"))
            sel = _some(sel[sel["role"] == ref["role"]])
            return _fmt(sel["relative_energy_eV"].iloc[0])
        if what == "fragmentation_range":
            sel = _some(fragmentation[fragmentation["product_is_most_stable"]]["fragmentation_energy_cp_eV"].dropna())
            return f"{sel.min():.2f}-{sel.max():.2f}"
        bonds = bonds[bonds["structure_id"] == ref["structure"]] if "structure" in ref else bonds
        if what == "bond_range":
            sel = _some(bonds[bonds["bond_kind"] == ref["bond_kind"]])
            return f"{sel['min_A'].min():.2f}-{sel['max_A'].max():.2f}"
        if what == "reference_range":
            sel = _some(bonds[bonds["reference_kind"] == ref["bond_kind"]])
            return f"{sel['reference_min_A'].min():.2f}-{sel['reference_max_A'].max():.2f}"
        if what == "bond_change":
            sel = _some(bonds[bonds["bond_kind"] == ref["bond_kind"]])
            return f"{sel['reference_mean_A'].mean():.2f} -> {sel['mean_A'].mean():.2f} ({sel['change_percent'].mean():+.1f} %)"
    except (KeyError, IndexError, ValueError):
        return "n/a"
    return "n/a"
