"""Analysis on hand-made structures and results with answers known in advance."""

import json

import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from clusterdefects import analysis
from clusterdefects.tables import show, to_markdown
from clusterdefects.errors import InputError
from clusterdefects.results import RelaxResult


def result(sid, energy, formula, **over):
    data = {"structure_id": sid, "energy": energy, "formula": formula, "charge": 0, "fmax": 0.01, "converged": True,
            "spin_state": "paired", "magmom": 0.0, "fingerprint": "f"}
    data.update(over)
    return RelaxResult.from_dict(data, f"{sid}/result.json")


RESULTS = [
    result("parent", -100.0, "Ag29C72H48S24"),
    result("doped-Hg-centre", -99.0, "Ag28HgC72H48S24"),
    result("doped-Hg-crown", -99.5, "Ag28HgC72H48S24"),
    result("vacancy-Hg-centre", -96.0, "Ag28C72H48S24"),
    result("vacancy-Hg-crown", -97.25, "Ag28C72H48S24", spin_state="polarized", magmom=2.0),
    result("atom-Hg", 0.5, "Hg"),
]


def test_metal_composition():
    assert analysis.metal_composition("Ag28HgC72H48S24") == "Ag28Hg"
    assert analysis.metal_composition("Ag28C72H48S24") == "Ag28"


def test_relative_energies_per_composition():
    frame = analysis.relative_energies(RESULTS, {"centre": "Iso1", "crown": "Iso4"}).set_index("structure_id")
    assert frame.loc["doped-Hg-crown", "relative_energy_eV"] == 0.0
    assert frame.loc["doped-Hg-centre", "relative_energy_eV"] == pytest.approx(0.5)
    assert frame.loc["vacancy-Hg-centre", "relative_energy_eV"] == pytest.approx(1.25)
    assert frame.loc["vacancy-Hg-crown", "paper_label"] == "Iso4"
    assert frame.loc["vacancy-Hg-crown", "composition"] == "Ag28"


def test_one_composition_at_two_charges_is_two_ions():
    """An Ag28 vacancy of Hg (2-) and of Au (3-) are not compared: each charge has its own lowest isomer,
    and a published Ag28 value must name the charge it is for."""
    results = [result("vacancy-Hg-crown", -97.0, "Ag28C72H48S24", charge=-2),
               result("vacancy-Hg-centre", -96.0, "Ag28C72H48S24", charge=-2),
               result("vacancy-Au-crown", -90.0, "Ag28C72H48S24", charge=-3)]
    frame = analysis.relative_energies(results, {})
    by_id = frame.set_index("structure_id")["relative_energy_eV"]
    assert by_id["vacancy-Au-crown"] == 0.0 and by_id["vacancy-Hg-centre"] == pytest.approx(1.0)
    ref = {"quantity": "Ag28 lowest", "value": "crown", "compute": "lowest_role", "composition": "Ag28"}
    assert analysis.computed_value(ref, frame, pd.DataFrame(), pd.DataFrame()) == "n/a"
    assert analysis.computed_value({**ref, "charge": -2}, frame, pd.DataFrame(), pd.DataFrame()) == "crown"


def test_fragmentation_energies_from_raw_energies():
    frame = analysis.fragmentation_energies(RESULTS).set_index(["parent_id", "product_id"])
    # E(vacancy) + E(Hg) - E(doped), recomputed by hand
    assert frame.loc[("doped-Hg-crown", "vacancy-Hg-crown"), "fragmentation_energy_eV"] == pytest.approx(-97.25 + 0.5 + 99.5)
    assert frame.loc[("doped-Hg-centre", "vacancy-Hg-centre"), "fragmentation_energy_eV"] == pytest.approx(-96.0 + 0.5 + 99.0)
    assert len(frame) == 4
    assert frame["product_is_most_stable"].sum() == 2
    assert frame["fragmentation_energy_cp_eV"].isna().all()  # no counterpoise given: nothing corrected


def test_counterpoise_correction_is_subtracted_per_doped_isomer():
    from clusterdefects.counterpoise import correction

    delta = correction({"dopant_own_basis": 1.3, "dopant_full_basis": 0.7, "host_own_basis": -19.9,
                        "host_full_basis": -20.4})
    assert delta == pytest.approx(0.6 + 0.5)
    frame = analysis.fragmentation_energies(RESULTS, {"doped-Hg-crown": delta}).set_index(["parent_id", "product_id"])
    row = frame.loc[("doped-Hg-crown", "vacancy-Hg-crown")]
    assert row["counterpoise_correction_eV"] == pytest.approx(1.1)
    assert row["fragmentation_energy_cp_eV"] == pytest.approx(-97.25 + 0.5 + 99.5 - 1.1)
    assert np.isnan(frame.loc[("doped-Hg-centre", "vacancy-Hg-crown"), "fragmentation_energy_cp_eV"])


def square_cluster():
    """A centre atom, four Ag at 3.0 Å in a square, an S at 2.5 Å above each; index 1 is the site."""
    ag = [[0, 0, 0], [3, 0, 0], [0, 3, 0], [-3, 0, 0], [0, -3, 0]]
    s = [[5.5, 0, 0], [0, 5.5, 0], [-5.5, 0, 0], [0, -5.5, 0]]
    return Atoms("Ag5S4", positions=ag + s)


def test_doped_bonds_against_the_same_pairs_in_the_parent():
    parent = square_cluster()
    doped = parent.copy()
    doped[1].symbol = "Hg"
    doped.positions[1] = [3.1, 0, 0]  # Hg-centre 3.1 (was 3.0); Hg-S 2.4 (was 2.5)
    rows = {r["bond_kind"]: r for r in analysis.doped_bonds("doped-Hg-x", doped, parent, 1, centre=0)}
    assert rows["Hg-Ag(centre)"]["mean_A"] == pytest.approx(3.1)
    assert rows["Hg-Ag(centre)"]["reference_mean_A"] == pytest.approx(3.0)
    assert rows["Hg-Ag(centre)"]["change_percent"] == pytest.approx(100 * 0.1 / 3.0)
    assert rows["Hg-S"]["mean_A"] == pytest.approx(2.4) and rows["Hg-S"]["reference_kind"] == "Ag-S"
    assert rows["Hg-S"]["n"] == 1


def doped_and_vacancy(parent: Atoms, site: int) -> tuple[Atoms, Atoms]:
    """Hg on ``site`` of the parent, and that isomer with the Hg removed."""
    doped = parent.copy()
    doped[site].symbol = "Hg"
    vacancy = doped.copy()
    del vacancy[site]
    return doped, vacancy


def test_vacancy_bonds_next_to_the_removed_site():
    parent = square_cluster()
    doped, vacancy = doped_and_vacancy(parent, 1)
    # the S that was bonded to the removed atom (index 5 before, 4 after) moves towards the centre Ag
    vacancy.positions[4] = [2.6, 0, 0]
    rows = {r["bond_kind"]: r for r in analysis.vacancy_bonds("vacancy-Hg-x", vacancy, doped, parent, 1, kernel={0})}
    near = rows["Ag-S next to vacancy"]
    assert near["n"] == 1 and near["mean_A"] == pytest.approx(2.6)
    assert np.isnan(near["reference_mean_A"]) or near["reference_mean_A"] == pytest.approx(5.5)
    core = rows["Ag(core)-S"]
    assert core["n"] == 1 and core["mean_A"] == pytest.approx(2.6)


def test_radius_of_gyration():
    atoms = Atoms("Ag2", positions=[[0, 0, -1.5], [0, 0, 1.5]])
    assert analysis.radius_of_gyration(atoms) == pytest.approx(1.5)


def test_comparison_uses_configured_references():
    energies = analysis.relative_energies(RESULTS, {})
    frag = analysis.fragmentation_energies(RESULTS, {"doped-Hg-centre": 0.25, "doped-Hg-crown": 0.5})
    bonds = pd.DataFrame(columns=analysis.BOND_COLUMNS)
    published = [
        {"quantity": "spread", "value": "0.32", "compute": "max_relative_energy", "composition": "Ag28Hg"},
        {"quantity": "lowest vacancy", "value": "tetrahedral", "compute": "lowest_role", "composition": "Ag28"},
        {"quantity": "frag", "value": "0.86-1.19", "compute": "fragmentation_range"},
        {"quantity": "HgAg", "value": "2.86-3.29", "compute": "bond_range", "bond_kind": "Hg-Ag"},
    ]
    table = analysis.comparison(published, energies, frag, bonds, "smoke").set_index("quantity")
    assert table.loc["spread", "computed"] == "0.50"
    assert table.loc["lowest vacancy", "computed"] == "crown"
    # the counterpoise-corrected energies, to the most stable vacancy
    assert table.loc["frag", "computed"] == f"{-97.25 + 0.5 + 99.0 - 0.25:.2f}-{-97.25 + 0.5 + 99.5 - 0.5:.2f}"
    assert table.loc["HgAg", "computed"] == "n/a"
    assert set(table["preset"]) == {"smoke"}


def test_show_names_the_target_when_a_table_is_missing(tmp_path):
    with pytest.raises(InputError, match="snakemake .*relative_energies.csv --config preset=smoke"):
        show("energies", "smoke", "table", tmp_path)
    (tmp_path / "smoke" / "tables").mkdir(parents=True)
    pd.DataFrame({"a": [1.0], "b": ["x"]}).to_csv(tmp_path / "smoke/tables/relative_energies.csv", index=False)
    assert "| a | b |" in show("energies", "smoke", "md", tmp_path)
    assert json.loads(show("energies", "smoke", "json", tmp_path)) == [{"a": 1.0, "b": "x"}]
    assert to_markdown(pd.DataFrame({"x": [1.5]})).splitlines()[2] == "| 1.5000 |"
    pd.DataFrame(columns=["quantity", "published"]).to_csv(tmp_path / "smoke/tables/comparison.csv", index=False)
    assert "no rows (the system has no published values" in show("compare", "smoke", "table", tmp_path)


def test_partial_analysis_uses_only_whole_sets_of_isomers():

    from clusterdefects.study import CONFIG_FILE, load_study, read_config
    from conftest import ROOT

    study = load_study(read_config(ROOT / CONFIG_FILE), "screen")
    doped, vacancies = study.doped_ids(), study.vacancy_ids()
    hg = [d for d in doped if d.startswith("doped-Hg-")]
    assert study.finished_groups(set(doped)) == []  # nothing without the parent
    some = {"parent", "atom-Hg", *hg, *vacancies[:2]}
    assert study.finished_groups(some) == ["parent", *hg, "atom-Hg"]  # Hg's doped set is whole, its vacancies not
    assert study.finished_groups(some - {hg[0]}) == ["parent", "atom-Hg"]
    assert study.finished_groups(set(study.structure_ids())) == study.structure_ids()


def staple_cluster():
    """Hand-made: centre Ag0, shell Ag1 and Ag2, a tetrahedral Ag3 and a crown Ag4, S5 binding Ag3 and Ag4,
    S6 binding Ag1; distances chosen so each bond kind has one known length."""
    positions = [[0, 0, 0], [2.84, 0, 0], [0, 2.95, 0], [0, 0, 5.0], [2.0, 0, 6.5], [0, 0, 7.55],
                 [2.84 + 2.53, 0, 0]]
    return Atoms("Ag5S2", positions=positions)


ROLES = {0: "centre", 1: "icosahedral", 2: "icosahedral", 3: "tetrahedral", 4: "crown"}


def test_parent_bond_fingerprint_by_role():
    parent = staple_cluster()
    start = parent.copy()
    start.positions[6, 0] += 0.1  # the start's shell Ag-S was 2.63 Å
    rows = {r["bond_kind"]: r for r in analysis.parent_bonds(parent, start, ROLES)}
    assert rows["Ag(centre)-Ag(icosahedral)"]["max_A"] == pytest.approx(2.95)
    assert rows["Ag(centre)-Ag(icosahedral)"]["min_A"] == pytest.approx(2.84)
    assert rows["Ag(icosahedral)-S"]["mean_A"] == pytest.approx(2.53)
    assert rows["Ag(icosahedral)-S"]["reference_mean_A"] == pytest.approx(2.63)
    assert rows["Ag(tetrahedral)-S"]["mean_A"] == pytest.approx(2.55)
    crown_s = np.linalg.norm(np.subtract([2.0, 0, 6.5], [0, 0, 7.55]))
    assert rows["Ag(crown)-S[tetrahedral]"]["mean_A"] == pytest.approx(crown_s)
    assert rows["Ag(crown)-S"]["n"] == 1


def test_vacancy_site_bonds_by_the_metal_role():
    """Remove the tetrahedral Ag3: its S5 then binds the crown Ag4 (moved closer) only."""
    parent = staple_cluster()
    doped, vacancy = doped_and_vacancy(parent, 3)
    vacancy.positions[3] = [1.2, 0, 6.8]  # crown Ag4 (index 3 after removal) moves towards S5
    rows = {r["bond_kind"]: r for r in analysis.vacancy_site_bonds("vacancy-Hg-tetrahedral", vacancy, doped,
                                                                    parent, 3, ROLES)}
    assert set(rows) == {"Ag(crown)-S at vacancy"}
    row = rows["Ag(crown)-S at vacancy"]
    assert row["reference_mean_A"] == pytest.approx(np.linalg.norm([2.0, 0, -1.05]))
    assert row["mean_A"] == pytest.approx(np.linalg.norm([1.2, 0, -0.75]))


def test_connectivity_lists_metal_s_bonds_made_and_broken():
    start = staple_cluster()
    relaxed = start.copy()
    relaxed.positions[6] = [0, 5.45, 0]  # S6 leaves Ag1 (6.15 Å) for Ag2 (2.50 Å)
    row = analysis.connectivity_changes("x", start, relaxed)
    assert row["metal_s_bonds_start"] == 3  # Ag1-S6, Ag3-S5, Ag4-S5
    assert row["broken"] == "Ag1-S6 (2.53 -> 6.15 Å)" and row["made"] == "Ag2-S6 (6.13 -> 2.50 Å)"


def test_comparison_rows_measure_one_structure():
    bonds = pd.DataFrame([
        analysis._row("doped-Hg-icosahedral", "Hg-Ag", np.array([2.9, 3.2]), "Ag-Ag", np.array([2.85, 3.1])),
        analysis._row("doped-Hg-crown", "Hg-Ag", np.array([2.7, 3.5]), "Ag-Ag", np.array([2.8, 3.3])),
        analysis._row("vacancy-Hg-tetrahedral", "Ag(crown)-S at vacancy", np.array([2.56]),
                      "Ag(crown)-S at vacancy", np.array([2.69])),
    ], columns=analysis.BOND_COLUMNS)
    published = [
        {"quantity": "HgAg", "value": "", "compute": "bond_range", "structure": "doped-Hg-icosahedral", "bond_kind": "Hg-Ag"},
        {"quantity": "AgAg", "value": "", "compute": "reference_range", "structure": "doped-Hg-icosahedral",
         "bond_kind": "Ag-Ag"},
        {"quantity": "all HgAg", "value": "", "compute": "bond_range", "bond_kind": "Hg-Ag"},
        {"quantity": "vac", "value": "", "compute": "bond_change", "structure": "vacancy-Hg-tetrahedral",
         "bond_kind": "Ag(crown)-S at vacancy"},
    ]
    table = analysis.comparison(published, pd.DataFrame(), pd.DataFrame(), bonds, "x").set_index("quantity")
    assert table.loc["HgAg", "computed"] == "2.90-3.20" and table.loc["AgAg", "computed"] == "2.85-3.10"
    assert table.loc["all HgAg", "computed"] == "2.70-3.50"
    assert table.loc["vac", "computed"] == "2.69 -> 2.56 (-4.8 %)"


def test_basin_check_says_loudly_when_the_parent_is_not_the_lowest():
    from clusterdefects.basin import host_back, verdict

    doped = Atoms("HgAg", positions=[[0, 0, 0], [2.9, 0, 0]])
    doped.info = {"structure_id": "doped-Hg-centre", "site_index": 0, "host": "Ag", "charge": -2}
    candidate = host_back(doped, -3)
    assert candidate.get_chemical_symbols() == ["Ag", "Ag"] and candidate.info["charge"] == -3
    rows = [{"candidate": "basin-doped-Hg-centre", "from": "doped-Hg-centre", **verdict(-814.48, -814.18),
             "relaxed": True, "steps": 3, "fmax": 0.04, "converged": True},
            {"candidate": "basin-doped-Hg-crown", "from": "doped-Hg-crown", **verdict(-814.17, -814.18),
             "relaxed": True, "steps": 2, "fmax": 0.04, "converged": True}]
    basins = pd.DataFrame(rows, columns=analysis.BASIN_COLUMNS)
    assert list(basins["lower_than_parent"]) == [True, False]
    text = analysis.basin_verdict(basins, "screen").loc[0, "computed"]
    assert text.startswith("NO: doped-Hg-centre with its dopant put back is 0.30 eV lower")
    assert "remake it from doped-Hg-centre" in text
    fine = analysis.basin_verdict(basins.iloc[1:], "screen").loc[0, "computed"]
    assert fine == "yes (lowest candidate doped-Hg-crown, +0.01 eV)"
    assert analysis.basin_verdict(basins.iloc[:0], "screen").empty


def test_basis_check_sets_the_two_bases_side_by_side_and_names_an_order_change():
    from clusterdefects.basischeck import basis_tables, ordering_rows

    shift = {"doped-Hg-centre": -0.7, "vacancy-Hg-centre": -2.0}  # at the check basis the centre isomers drop
    checks = {r.structure_id: {"structure_id": r.structure_id, "energy": r.energy - 1.0 + shift.get(r.structure_id, 0.0),
                               "fingerprint": "g", "relaxation_fingerprint": "f", "spin_state": r.spin_state,
                               "scf_iterations": 10, "wall_time_s": 5.0} for r in RESULTS}
    tables = basis_tables(RESULTS, checks, {"doped-Hg-centre": 0.5}, {"doped-Hg-centre": 0.2}, ("sz(dzp)", "dzp"))
    rel = tables["basis_energies"].set_index("structure_id")
    assert rel.loc["doped-Hg-crown", "relative_energy_eV_sz(dzp)"] == pytest.approx(0.0)
    assert rel.loc["doped-Hg-centre", "relative_energy_eV_dzp"] == pytest.approx(0.0)
    assert rel.loc["doped-Hg-crown", "change_relative_energy_eV"] == pytest.approx(0.2)
    frag = tables["basis_fragmentation"].set_index(["parent_id", "product_id"])
    row = frag.loc[("doped-Hg-centre", "vacancy-Hg-centre")]
    assert row["change_fragmentation_energy_eV"] == pytest.approx(-2.0 + 0.7 - 1.0)  # vacancy, atom and doped shifts
    assert row["counterpoise_correction_eV_dzp"] == pytest.approx(0.2)
    rows = ordering_rows(tables["basis_energies"], ("sz(dzp)", "dzp"), "screen")["computed"].tolist()
    assert all(r.startswith("CHANGES") for r in rows)


def test_basis_check_refuses_checks_of_other_settings():
    from clusterdefects.basischeck import check_results

    checks = {r.structure_id: {"structure_id": r.structure_id, "energy": r.energy, "fingerprint": "g",
                               "relaxation_fingerprint": "f", "spin_state": r.spin_state} for r in RESULTS}
    checks["parent"]["fingerprint"] = "other"
    with pytest.raises(InputError, match="different settings"):
        check_results(RESULTS, checks)


def test_basis_check_reports_the_spin_gap_at_both_bases_and_refuses_another_box():
    from dataclasses import replace

    from clusterdefects.basischeck import basis_tables, check_results

    results = [replace(r, spin_energies={"paired": -97.2, "polarized": -97.25}, box_A=[20.0, 20.0, 20.0])
               if r.structure_id == "vacancy-Hg-crown" else r for r in RESULTS]
    checks = {r.structure_id: {"structure_id": r.structure_id, "energy": r.energy - 1.0, "fingerprint": "g",
                               "relaxation_fingerprint": "f", "spin_state": r.spin_state, "box_A": [20.0] * 3,
                               "scf_iterations": 10, "wall_time_s": 5.0} for r in results}
    checks["vacancy-Hg-crown"].update(other_spin={"spin_state": "paired", "energy": -98.23, "scf_iterations": 12,
                                                  "wall_time_s": 6.0}, spin_gap_eV=0.02)
    tables = basis_tables(results, checks, {}, {}, ("sz(dzp)", "dzp"))
    gap = tables["basis_spin"].set_index("structure_id").loc["vacancy-Hg-crown"]
    assert gap["spin_gap_eV_sz(dzp)"] == pytest.approx(0.05) and gap["spin_gap_eV_dzp"] == pytest.approx(0.02)
    assert gap["kept_at_both"] and gap["other_spin_state"] == "paired"
    assert len(tables["basis_cost"]) == len(results) + 1  # the other spin state's SCF has its own cost row
    checks["vacancy-Hg-crown"]["box_A"] = [20.5] * 3
    with pytest.raises(InputError, match="spin state or box"):
        check_results(results, checks)


def test_dopant_scan_sets_the_dopants_side_by_side(tmp_path):
    from clusterdefects.figures import dopant_scan_figure

    results = [*RESULTS, result("doped-Au-centre", -101.0, "Ag28AuC72H48S24", charge=-3),
               result("doped-Au-crown", -100.7, "Ag28AuC72H48S24", charge=-3), result("atom-Au", 0.2, "Au")]
    energies = analysis.relative_energies(results, {})
    scan = analysis.dopant_scan(energies, analysis.fragmentation_energies(results, {"doped-Hg-crown": 0.25}))
    scan = scan.set_index("dopant")
    assert scan.loc["Au", "lowest_site"] == "centre" and scan.loc["Hg", "lowest_site"] == "crown"
    assert scan.loc["Au", "relative_energy_eV_crown"] == pytest.approx(0.3)
    assert scan.loc["Hg", "gap_to_next_eV"] == pytest.approx(0.5) and scan.loc["Au", "charge"] == -3
    # lowest doped (crown, -99.5) -> lowest vacancy (crown, -97.25) + Hg atom (0.5), and less the counterpoise 0.25
    assert scan.loc["Hg", "dopant_loss_eV"] == pytest.approx(2.75) and scan.loc["Hg", "dopant_loss_cp_eV"] == pytest.approx(2.5)
    assert np.isnan(scan.loc["Au", "dopant_loss_eV"]) and scan.loc["Au", "lowest_vacancy_site"] == ""
    png = dopant_scan_figure(energies, tmp_path / "scan.png", "test")
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("published, computed, expected", [
    ("0.32", "0.37", "+0.05"),                                   # a value
    ("tetrahedral", "tetrahedral", "same"), ("icosahedral", "crown", "differs"),
    ("0.86-1.19", "0.90-1.30", "+0.04 / +0.11"),                 # two ranges: per end
    ("2.69 -> 2.56 (-4.8 %)", "2.70 -> 2.58 (-4.3 %)", "+0.02"),  # a change: its end value
    ("446.4", "445.2 +- 1.3 (doped-Hg-crown)", "-1.2"),          # an error bar: its value, published decimals
    ("441.9-442.9", "440.1", "-1.8"), ("441.9-442.9", "442.0", "within"),
    ("2.84", "2.86-2.90", "+0.02"), ("2.84", "2.80-2.90", "within"),
    ("-1.2", "+0.4 +- 0.6", "+1.6"),                             # signed values are not ranges
    ("2.85-3.15", "n/a", ""), ("", "yes (lowest candidate doped-Hg-crown, +0.26 eV)", ""),
])
def test_comparison_difference_is_computed_minus_published(published, computed, expected):
    assert analysis.difference(published, computed) == expected


@pytest.mark.parametrize("computed", ["nan +- nan (doped-Hg-crown)", "2.69 -> nan (nan %)", "nan-nan"])
def test_a_missing_computed_value_has_no_difference(computed):
    assert analysis.difference("2.69 -> 2.56", computed) == ""


def test_a_basin_check_made_against_another_parent_is_refused(tmp_path):
    from clusterdefects.tables import load_basin_checks

    parent = result("parent", -100.0, "Ag29C72H48S24")
    row = {"candidate": "doped-Hg-crown+Ag", "from": "doped-Hg-crown", "energy": -99.9, "parent_energy": -100.0,
           "delta_eV": 0.1, "lower_than_parent": False, "relaxed": False, "steps": 0, "fmax": 0.3,
           "converged": True, "fingerprint": "f"}
    (tmp_path / "basin.json").write_text(json.dumps(row))
    assert len(load_basin_checks([tmp_path / "basin.json", tmp_path / "missing.json"], parent)) == 1
    (tmp_path / "basin.json").write_text(json.dumps({**row, "parent_energy": -100.3}))
    with pytest.raises(InputError, match="another parent"):
        load_basin_checks([tmp_path / "basin.json"], parent)


def test_the_study_page_keeps_published_text_and_says_what_is_missing(tmp_path):
    from types import SimpleNamespace

    from clusterdefects.summary import readme_block, summary_markdown

    tables = tmp_path / "tables"
    tables.mkdir()
    pd.DataFrame([{"quantity": "largest relative energy", "published": "0.32", "computed": "0.25",
                   "difference": "-0.07", "unit": "eV", "method_note": "dzp vs sz(dzp)"}]).to_csv(
        tables / "comparison.csv", index=False)
    pd.DataFrame([{"dopant": "Hg", "dopant_loss_eV": 1.23456}, {"dopant": "Au", "dopant_loss_eV": None}]).to_csv(
        tables / "dopant_scan.csv", index=False)
    (tables / "basis_spin.csv").write_text("\n")  # what analyse writes for a table with no rows
    settings = {"dft": {"mode": "lcao", "basis": "sz(dzp)", "xc": "PBE", "h": 0.22, "vacuum": 5.0,
                        "occupations": {"name": "fermi-dirac", "width": 0.01}},
                "relax": {"optimizer": "PreconLBFGS", "fmax": 0.05}}
    study = SimpleNamespace(preset="screen", system_name="Ag29", system={}, settings=settings, md_runs=lambda: [])
    page = summary_markdown(study, tmp_path)
    assert "| largest relative energy | 0.32 | 0.25 | -0.07 | eV | dzp vs sz(dzp) |" in page
    assert "| Hg | 1.2346 |" in page and "| Au |  |" in page
    spin = page.split("## Basis check: spin-state gaps at both bases", 1)[1]
    assert spin.split("##", 1)[0].strip() == "(none in this study)"
    assert "PreconLBFGS to fmax 0.05 eV/Å" in page
    block = readme_block(study, tmp_path)
    assert "\n#### Compared with the published values\n" in block and "| largest relative energy | 0.32 |" in block
    assert "#####" not in block and f"({tmp_path}/tables/comparison.md)" in block


def test_a_readme_block_is_replaced_between_its_markers_only(tmp_path):
    from clusterdefects.summary import update_readme

    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- results:screen:begin -->\nold table\n<!-- results:screen:end -->\nrest\n")
    assert update_readme(readme, "screen", "new table") == (
        "intro\n<!-- results:screen:begin -->\nnew table\n<!-- results:screen:end -->\nrest\n")
    readme.write_text("no markers\n")
    with pytest.raises(InputError, match="results:screen:begin"):
        update_readme(readme, "screen", "new table")
