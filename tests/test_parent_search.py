"""Parent-search candidates: T-symmetric variants along the soft coordinates, and the pick of the lowest."""

import numpy as np
import pytest

from clusterdefects.analysis import atom_roles
from clusterdefects.parent_search import (basin_name, candidate_starts, crown_variant, doped_of, fingerprint, lowest,
                                          recipe, search_table, tetrahedral_variant)
from clusterdefects.sites import analyse_symmetry, classify_sites, sites_frame


@pytest.fixture(scope="module")
def roles(parent):
    return atom_roles(sites_frame(classify_sites(parent)))


def radial(atoms, indices):
    metals = [a.index for a in atoms if a.symbol not in ("C", "H", "S")]
    return np.linalg.norm(atoms.positions[indices] - atoms.positions[metals].mean(axis=0), axis=1)


def height_above_s3(atoms, metal):
    sulfur = np.array([a.index for a in atoms if a.symbol == "S"])
    plane = atoms.positions[sulfur[np.argsort(np.linalg.norm(atoms.positions[sulfur] - atoms.positions[metal], axis=1))[:3]]]
    normal = np.cross(plane[1] - plane[0], plane[2] - plane[0])
    return abs(np.dot(atoms.positions[metal] - plane.mean(axis=0), normal / np.linalg.norm(normal)))


def test_crown_variant_scales_the_crown_radius_and_keeps_t(parent, roles):
    crown = [i for i, r in roles.items() if r == "crown"]
    wider = crown_variant(parent, roles, 104)
    assert np.allclose(radial(wider, crown), 1.04 * radial(parent, crown), atol=1e-2)  # (the centroid moves a little)
    others = [i for i in range(len(parent)) if i not in crown]
    assert np.allclose(wider.positions[others], parent.positions[others])
    assert analyse_symmetry(wider).point_group == "T"


@pytest.mark.parametrize("height", [150, 0])
def test_tetrahedral_variant_sets_the_height_above_the_s3_plane(parent, roles, height):
    tetrahedral = [i for i, r in roles.items() if r == "tetrahedral"]
    moved = tetrahedral_variant(parent, roles, height)
    assert [height_above_s3(moved, i) for i in tetrahedral] == pytest.approx([height / 100] * 4, abs=1e-6)
    assert analyse_symmetry(moved).point_group == "T"


def test_candidates_named_as_configured_and_a_system_without_such_sites_gets_the_model(parent, roles):
    starts = candidate_starts(parent, roles, crown=(96,), heights=(50,))
    assert list(starts) == ["parent-search-model", "parent-search-crown-96", "parent-search-tetra-50"]
    assert all(a.info["kind"] == "parent" and a.info["structure_id"] == sid for sid, a in starts.items())
    assert list(candidate_starts(parent, {0: "centre", 1: "kernel"})) == ["parent-search-model"]


def test_the_lowest_candidate_is_picked_whatever_its_fingerprint():
    rows = [{"candidate": name, "energy_eV": e, "fmax_eV_per_A": 0.04, "converged": True, "steps": 5, "dft_calls": 7,
             "point_group": "T", **fingerprint([])} for name, e in (("model", -814.4), ("basin-doped-Hg-centre", -814.7),
                                                                     ("tetra-0", -814.5))]
    table = search_table(rows)
    assert lowest(table) == "basin-doped-Hg-centre" and list(table["candidate"])[0] == "basin-doped-Hg-centre"
    assert table["delta_eV"].tolist() == pytest.approx([0.0, 0.2, 0.3]) and table["lowest"].sum() == 1
    rows = [{"bond_kind": "Ag(icosahedral)-S", "min_A": 2.612, "max_A": 2.616}]
    assert fingerprint(rows)["shell Ag-S"] == "2.612-2.616" and fingerprint(rows)["centre-shell"] == ""


def test_the_study_parent_and_the_paper_sit_beside_the_candidates_and_say_whether_to_remake():
    from clusterdefects.parent_search import PAPER, STUDY_PARENT, paper_row, verdict

    def row(name, energy):
        return {"candidate": name, "energy_eV": energy, "fmax_eV_per_A": 0.04, "converged": True, "steps": 5,
                "dft_calls": 7, "point_group": "T", **fingerprint([])}

    published = [{"structure": "parent", "bond_kind": "Ag(centre)-Ag(icosahedral)", "value": "2.84"},
                 {"structure": "doped-Hg-icosahedral", "bond_kind": "Hg-S", "value": "2.52 -> 2.59"}]
    paper = paper_row(published)
    assert paper["centre-shell"] == "2.84" and paper["shell Ag-S"] == ""
    table = search_table([row("model", -814.4), row(STUDY_PARENT, -814.69), row("basin-hg-centre", -814.70), paper])
    assert list(table["candidate"]) == ["basin-hg-centre", STUDY_PARENT, "model", PAPER]
    assert lowest(table) == "basin-hg-centre" and table["lowest"].sum() == 1
    assert verdict(table, 0.02).endswith("within 0.02 eV: keep the parent")
    assert verdict(table, 0.005).endswith("ship it as the parent and remake the study")
    table = search_table([row("model", -814.4), row(STUDY_PARENT, -814.69), paper])
    assert verdict(table, 0.02) == "the study's parent is the lowest: keep it"
    assert lowest(table, candidates_only=True) == "model"
    tie = search_table([row("model", -814.69), row(STUDY_PARENT, -814.69), paper])  # no shipped parent: the same run
    assert tie["lowest"].tolist() == [True, False, False] and "keep" in verdict(tie, 0.02)
    assert str(tie["steps"].dtype) == "Int64"


def test_basin_candidates_are_named_after_their_doped_isomer():
    assert basin_name("doped-Hg-staple-2") == "basin-hg-staple-2" and doped_of("basin-hg-staple-2") == "doped-Hg-staple-2"
    assert "doped-Hg-centre" in recipe("basin-hg-centre") and "1.5 Å" in recipe("tetra-150")


def test_metal_shift_measures_how_far_a_candidate_is_from_the_parent():
    from ase import Atoms

    from clusterdefects.parent_search import metal_shift

    parent = Atoms("Ag3S", positions=[[0, 0, 0], [2.9, 0, 0], [0, 2.9, 0], [0, 0, 2.4]])
    moved = parent.copy()
    moved.positions += 5.0  # the whole cluster elsewhere: no shift
    moved.positions[3] += [0, 0, 1.0]  # S is no metal
    assert metal_shift(moved, parent) == pytest.approx(0.0)
    moved.positions[0] += [0.3, 0, 0]
    assert metal_shift(moved, parent) == pytest.approx(0.2, abs=1e-9)  # 0.3 less the centroid's 0.1
    assert np.isnan(metal_shift(moved, None)) and np.isnan(metal_shift(parent[:3], parent))
