"""Doped and vacancy isomers: one per site class, with the configured charges."""

from pathlib import Path

import pytest

from clusterdefects.errors import InputError
from clusterdefects.fileio import write_text, write_xyz
from clusterdefects.ids import StructureId
from clusterdefects.isomers import isolated_atom, remove_dopant
from clusterdefects.pipeline import make_doped, make_vacancy
from clusterdefects.sites import sites_frame
from clusterdefects.sites import classify_sites
from clusterdefects.validate import electron_count


@pytest.fixture(scope="module")
def files(parent, tmp_path_factory):
    d = tmp_path_factory.mktemp("isomers")
    write_xyz(d / "parent.xyz", parent)
    frame = sites_frame(classify_sites(parent), {"centre": "Iso1", "icosahedral": "Iso2", "tetrahedral": "Iso3", "crown": "Iso4"})
    write_text(d / "sites.csv", frame.to_csv(index=False))
    return d, frame


@pytest.mark.parametrize("site", ["centre", "icosahedral", "tetrahedral", "crown"])
def test_doped_then_vacancy(files, parent, site):
    d, frame = files
    doped = make_doped(d / "parent.xyz", d / "sites.csv", site, "Hg", -2)
    rep = int(frame.set_index("class").loc[site, "representative"])
    assert doped[rep].symbol == "Hg" and doped.get_chemical_formula("metal") == "Ag28HgC72H48S24"
    assert (doped.positions == parent.positions).all()
    assert doped.info["structure_id"] == f"doped-Hg-{site}" and doped.info["charge"] == -2
    assert electron_count(doped, -2) == 2262
    write_xyz(d / f"doped-{site}.xyz", doped)
    vacancy = make_vacancy(d / f"doped-{site}.xyz", "Hg", -2)
    assert vacancy.get_chemical_formula("metal") == "Ag28C72H48S24"
    assert vacancy.info["structure_id"] == f"vacancy-Hg-{site}" and vacancy.info["vacancy_index"] == rep
    assert electron_count(vacancy, -2) == 2182


def test_unknown_site_is_refused(files):
    d, _ = files
    with pytest.raises(InputError, match="no site class 'staple'"):
        make_doped(d / "parent.xyz", d / "sites.csv", "staple", "Hg", -2)


def test_unknown_dopant_is_refused(files):
    d, _ = files
    with pytest.raises(InputError, match="unknown element 'Xy'"):
        make_doped(d / "parent.xyz", d / "sites.csv", "crown", "Xy", -2)


def test_odd_doped_electron_count_is_refused(files):
    d, _ = files
    with pytest.raises(InputError, match="odd electron count"):
        make_doped(d / "parent.xyz", d / "sites.csv", "crown", "Au", -2)


def test_vacancy_needs_exactly_one_dopant(parent):
    with pytest.raises(InputError, match="exactly one Hg"):
        remove_dopant(parent, "Hg", -2, "parent.xyz")


def test_ids_and_atom():
    assert str(StructureId("doped", "Hg", "crown")) == "doped-Hg-crown"
    assert str(StructureId("vacancy", "Hg", "staple-2")) == "vacancy-Hg-staple-2"
    for text in ("parent", "parent-model", "doped-Hg-crown", "vacancy-Au-staple-2", "atom-Hg"):
        assert str(StructureId.parse(text)) == text
    vacancy = StructureId.parse("vacancy-Hg-staple-2")
    assert (vacancy.kind, vacancy.dopant, vacancy.site) == ("vacancy", "Hg", "staple-2")
    assert str(vacancy.doped()) == "doped-Hg-staple-2" and vacancy.doped().vacancy() == vacancy
    assert StructureId.parse("atom-Hg").dopant == "Hg" and StructureId.parse("parent-model").tag == "model"
    for bad in ("doped-hg-crown", "vacancy-Hg", "basin-doped-Hg-centre", ""):
        with pytest.raises(InputError, match="unknown structure id"):
            StructureId.parse(bad)
    atom = isolated_atom("Hg")
    assert atom.info["structure_id"] == "atom-Hg" and len(atom) == 1


def test_dopant_charge_keeps_the_superatom_electron_count():
    from clusterdefects.elements import doped_charge

    assert {d: doped_charge(-3, "Ag", d) for d in ("Hg", "Cd", "Au", "Cu", "Pt", "Pd")} == \
        {"Hg": -2, "Cd": -2, "Au": -3, "Cu": -3, "Pt": -4, "Pd": -4}
    with pytest.raises(ValueError, match="Fe"):
        doped_charge(-3, "Ag", "Fe")


def test_study_charges_auto_per_dopant_and_overridden():
    from clusterdefects.errors import InputError
    from clusterdefects.study import load_study, read_config

    config = read_config(Path(__file__).resolve().parents[1] / "config/config.yaml")
    system = config["systems"]["Ag29_BDT12"]
    study = load_study(config, "screen")
    assert [study.charge(k, d) for k in ("doped", "vacancy") for d in ("Hg", "Pt")] == [-2, -4, -2, -4]
    system["charges"] = {"parent": -3, "doped": {"Au": -1}, "vacancy": 0}
    study = load_study(config, "screen")
    assert (study.charge("doped", "Au"), study.charge("doped", "Cu"), study.charge("vacancy", "Au")) == (-1, -3, 0)
    with pytest.raises(InputError, match="charges.doped"):
        study.charge("doped", "Fe")


def test_vacancies_can_be_switched_off_per_dopant():
    from clusterdefects.errors import InputError
    from clusterdefects.study import load_study, read_config

    config = read_config(Path(__file__).resolve().parents[1] / "config/config.yaml")
    system = config["systems"]["Ag29_BDT12"]
    system.update(dopants=["Hg", "Au", "Pt"], vacancy_dopants=["Hg"])
    study = load_study(config, "screen")
    assert len(study.doped_ids()) == 12 and {i.split("-")[1] for i in study.vacancy_ids()} == {"Hg"}
    assert study.atom_ids() == ["atom-Hg", "atom-Au", "atom-Pt"]
    assert [f.split("/")[-1] for f in study.counterpoise_files()] == [f"doped-Hg-{s}.json" for s in system["sites"]]
    finished = {"parent", *study.doped_ids()[4:8], "atom-Au"}  # the Au isomers and atom only
    assert study.finished_groups(finished) == ["parent", *study.doped_ids()[4:8], "atom-Au"]
    system["vacancy_dopants"] = ["Cu"]
    with pytest.raises(InputError, match="vacancy_dopants"):
        load_study(config, "screen").vacancy_ids()


def test_parent_search_takes_basin_candidates_from_the_chosen_dopants_only():
    from clusterdefects.errors import InputError
    from clusterdefects.study import load_study, read_config

    config = read_config(Path(__file__).resolve().parents[1] / "config/config.yaml")
    system = config["systems"]["Ag29_BDT12"]
    study = load_study(config, "screen")
    basins = [sid for sid in study.search_ids() if "basin" in sid]
    assert basins == [f"parent-search-basin-hg-{s}" for s in system["sites"]]
    assert len(study.search_ids()) == len(system["parent_search"]) + 4
    del system["parent_search_dopants"]
    assert len([sid for sid in load_study(config, "screen").search_ids() if "basin" in sid]) == 16
    system["parent_search_dopants"] = ["Zn"]
    with pytest.raises(InputError, match="parent_search_dopants"):
        load_study(config, "screen").search_ids()
