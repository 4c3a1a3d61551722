"""Symmetry classes and geometric roles of metal sites, on exact, noisy and other clusters."""

from collections import Counter

import numpy as np
import pytest
from ase.cluster import Icosahedron
from ase.io import read

from clusterdefects.sites import analyse_symmetry, bond_table, classify_sites, group_order, role_names

from conftest import VALIDATION

AG29_ROLES = {"centre": 1, "icosahedral": 12, "tetrahedral": 4, "crown": 12}


def summary(classes):
    return {c.label: c.multiplicity for c in classes}


def test_group_orders():
    assert [group_order(s) for s in ("C1", "Cs", "C3", "C3v", "D2h", "D3d", "S4", "T", "Th", "Ih")] == \
        [1, 2, 3, 6, 8, 12, 4, 12, 24, 120]


def test_model_with_phosphines_has_four_classes(model):
    symmetry = analyse_symmetry(model)
    assert symmetry.point_group == "T" and symmetry.n_operations == 12
    classes = classify_sites(model, symmetry=symmetry)
    assert summary(classes) == AG29_ROLES


def test_classes_agree_with_construction_labels(parent):
    classes = classify_sites(parent)
    labels = parent.arrays["label"]
    for c in classes:
        assert set(labels[list(c.members)]) == {f"Ag_{c.role}"}


@pytest.mark.parametrize("noise", [0.02, 0.05])
def test_noisy_geometry_keeps_the_classes(parent, noise):
    """A relaxed or crystal geometry is never exactly symmetric (the PointGroupAnalyzer pitfall)."""
    noisy = parent.copy()
    noisy.positions += np.random.default_rng(7).normal(scale=noise, size=noisy.positions.shape)
    symmetry = analyse_symmetry(noisy)
    assert symmetry.point_group == "T"
    assert summary(classify_sites(noisy, symmetry=symmetry)) == AG29_ROLES


def test_broken_symmetry_gives_more_classes_with_unique_labels(parent):
    distorted = parent.copy()
    crown = [c for c in classify_sites(parent) if c.role == "crown"][0]
    distorted.positions[crown.representative] += [0.4, -0.3, 0.2]
    classes = classify_sites(distorted)
    labels = [c.label for c in classes]
    assert len(labels) == len(set(labels)) > 4
    roles = Counter()
    for c in classes:
        roles[c.role] += c.multiplicity
    assert roles == AG29_ROLES
    assert sum(c.multiplicity for c in classes) == 29


def test_ligands_that_break_the_frames_symmetry_keep_its_classes(parent):
    """A relaxed parent whose BDT rings turned is C1 as a whole; its metal sites are still the frame's four
    classes (else the study would make 29 doped isomers, or refuse the config's site list)."""
    from clusterdefects.sites import frame_indices, frame_symmetry

    turned = parent.copy()
    frame = set(frame_indices(turned))
    ligand = [k for k in range(len(turned)) if k not in frame]
    turned.positions[ligand] += np.random.default_rng(3).normal(scale=0.25, size=(len(ligand), 3))
    assert set(frame_indices(turned)) == frame  # no C came within bonding distance of a metal
    assert analyse_symmetry(turned).point_group == "C1"
    assert frame_symmetry(turned).point_group == "T"
    assert summary(classify_sites(turned)) == AG29_ROLES


def test_a_structure_without_a_metal_frame_has_no_classes():
    from ase.build import molecule

    assert classify_sites(molecule("CH4")) == []


def test_bare_icosahedron_is_ih_with_centre_and_shell():
    ag13 = Icosahedron("Ag", noshells=2, latticeconstant=4.09)
    symmetry = analyse_symmetry(ag13)
    assert symmetry.point_group == "Ih"
    classes = classify_sites(ag13, symmetry=symmetry)
    assert summary(classes) == {"centre": 1, "icosahedral": 12}


def test_bond_table_names_metals_by_role(parent):
    rows = {r["bond"]: r for r in bond_table(parent, role_names(classify_sites(parent), parent))}
    assert rows["Ag(icosahedral)-S"]["n"] == 12
    assert rows["Ag(crown)-S"]["n"] == 36
    assert rows["Ag(tetrahedral)-S"]["n"] == 12
    assert rows["Ag(centre)-Ag(icosahedral)"]["n"] == 12
    assert 2.8 < rows["Ag(centre)-Ag(icosahedral)"]["mean_A"] < 2.9


@pytest.mark.skipif(not VALIDATION.is_dir(), reason="validation structures (../shared/validation) not beside this checkout")
@pytest.mark.parametrize("name", ["Ag25_methylthiol.xyz", "Ag25_final.xyz"])
def test_ag25_thiolate_cluster_finds_centre_shell_and_staples(name):
    """A general classifier: [Ag25(SR)18]- has a centred icosahedron and six S-Ag-S-Ag-S staples."""
    atoms = read(VALIDATION / name)
    classes = classify_sites(atoms)
    roles = Counter()
    for c in classes:
        roles[c.role] += c.multiplicity
    assert roles == {"centre": 1, "icosahedral": 12, "staple": 12}
    assert sum(c.multiplicity for c in classes) == 25


def test_symmetrized_start_is_exact_and_close():
    """A rattled CH4 made exactly Td again (what the symmetric open-shell start needs); a molecule with no
    symmetry at the tolerance is refused, not returned unchanged."""
    import numpy as np
    from ase.build import molecule

    from clusterdefects.sites import analyse_symmetry, symmetrized, symmetry_deviation

    methane = molecule("CH4")
    methane.rattle(0.01, seed=4)
    assert analyse_symmetry(methane, (1e-4,)).point_group != "Td"
    exact = symmetrized(methane, 0.1)
    assert analyse_symmetry(exact, (1e-6,)).point_group == "Td"
    assert np.abs(exact.positions - methane.positions).max() < 0.03
    assert exact.get_chemical_symbols() == methane.get_chemical_symbols()
    group, deviation = symmetry_deviation(exact, 0.1)
    assert group == "Td" and deviation < 1e-8 and symmetry_deviation(methane, 0.1)[1] > 1e-3
    lopsided = molecule("CH4")
    lopsided.positions[1] += [0.3, -0.2, 0.1]
    lopsided.positions[2] += [-0.1, 0.25, 0.0]
    with pytest.raises(ValueError, match="no point group above C1"):
        symmetrized(lopsided, 0.01)


def test_a_defective_isomer_is_named_by_the_parent_sites_it_holds(parent, tmp_path):
    from clusterdefects.sites import sites_frame
    from clusterdefects.sitetrack import contacts_as_in_parent, parent_atoms_held, role_names_on_template

    classes = classify_sites(parent)
    sites_csv = tmp_path / "sites.csv"
    sites_frame(classes).to_csv(sites_csv, index=False)
    site = {c.role: c.representative for c in classes}
    isomer = parent.copy()
    isomer[site["icosahedral"]].symbol = "Hg"
    removed = site["crown"]
    del isomer[removed]  # a vacancy as well: later indices (crown, tetrahedral) shift, the assignment does not care
    isomer.rotate(150, (1, 2, 3), center="COM")  # far from the parent's orientation
    held = parent_atoms_held(isomer, parent, sites_csv)
    names = role_names_on_template(isomer, held, sites_csv)
    for k, name in names.items():  # each atom by the role its parent atom had (labels: independent of the code)
        assert name.split("(")[1][:-1] == parent.arrays["label"][k + (k >= removed)].split("_")[1], k
    hg = isomer.get_chemical_symbols().index("Hg")
    assert names[hg] == "Hg(icosahedral)"
    rows = {r["bond"] for r in bond_table(isomer, names)}
    assert "Ag(centre)-Hg(icosahedral)" in rows and not any("kernel" in r for r in rows)
    # Hg pushed 0.6 Å out from the centre, beyond its own covalent reach, still has its parent's shell contacts
    centre = next(k for k, name in names.items() if name == "Ag(centre)")
    outward = isomer.positions[hg] - isomer.positions[centre]
    isomer.positions[hg] += 0.6 * outward / np.linalg.norm(outward)
    kind = "Ag(icosahedral)-Hg(icosahedral)"
    by_covalent = {r["bond"]: r["n"] for r in bond_table(isomer, names)}
    as_in_parent = {r["bond"]: r["n"] for r in bond_table(isomer, names, contacts_as_in_parent(parent, held))}
    assert as_in_parent[kind] == 5 and by_covalent.get(kind, 0) == 0  # its five shell neighbours


def test_a_structure_made_from_another_parent_is_refused(parent, tmp_path):
    from clusterdefects.errors import InputError
    from clusterdefects.sites import sites_frame
    from clusterdefects.sitetrack import parent_atoms_held

    sites_csv = tmp_path / "sites.csv"
    sites_frame(classify_sites(parent)).to_csv(sites_csv, index=False)
    other = parent.copy()
    other.positions[[k for k, s in enumerate(other.get_chemical_symbols()) if s == "Ag"][:14]] *= 1.4
    with pytest.raises(InputError, match="from the parent's sites"):
        parent_atoms_held(other, parent, sites_csv, "other.xyz")
