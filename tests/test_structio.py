"""Reading crystals: CIFs made from the model, with counter-ions, solvent and disorder."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule

from clusterdefects.errors import InputError
from clusterdefects.pipeline import prepare_parent
from clusterdefects.structio import ReadReport, read_structure
from clusterdefects.symmetry import T_OPS, orbit_images

from conftest import write_test_cif

FORMULA, CHARGE = "Ag29C72H48S24", -3


def cation() -> Atoms:
    """A PPh4+-like counter-ion stand-in (tetraphenylmethane's shape is enough: P plus four C6H5)."""
    ion = Atoms("P", positions=[[0, 0, 0]])
    for direction in np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3):
        benzene = molecule("C6H6")
        benzene.rotate([0, 0, 1], direction)
        ipso = benzene.positions[[i for i, s in enumerate(benzene.symbols) if s == "C"]]
        k = int(np.argmax(ipso @ direction * -1))
        shift = 1.80 * direction - ipso[k]
        drop = [i for i, s in enumerate(benzene.symbols) if s == "H"]
        h = drop[int(np.argmin(np.linalg.norm(benzene.positions[drop] - ipso[k], axis=1)))]
        del benzene[h]
        benzene.positions += shift
        ion += benzene
    return ion


def p1_crystal(model: Atoms) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The model in a triclinic cell, off-centre so it crosses the cell faces, with ions and solvent."""
    cell = np.array([[34.0, 0, 0], [3.0, 33.0, 0], [2.0, 1.5, 35.0]])
    parts = [model.copy()]
    parts[0].positions += [30.0, 2.0, 18.0]  # wraps across two faces
    for k, spot in enumerate(([10.0, 20.0, 5.0], [20.0, 25.0, 30.0], [5.0, 30.0, 25.0])):
        ion = cation()
        ion.positions += spot
        parts.append(ion)
    solvent = molecule("CH3CN")
    solvent.positions += [15.0, 8.0, 32.0]
    parts.append(solvent)
    crystal = parts[0]
    for p in parts[1:]:
        crystal += p
    frac = np.linalg.solve(cell.T, crystal.positions.T).T % 1.0
    return cell, crystal.get_chemical_symbols(), frac


def test_p1_cif_with_counter_ions_and_solvent(model, tmp_path):
    cell, symbols, frac = p1_crystal(model)
    cif = write_test_cif(tmp_path / "p1.cif", cell, symbols, frac)
    cluster, summary = prepare_parent(cif, "Ag", FORMULA, CHARGE, ["P"])
    assert cluster.get_chemical_formula("metal") == FORMULA
    assert summary["point_group"] == "T"
    notes = " ".join(summary["notes"])
    assert "dropped other fragments" in notes and "C2H3N" in notes and "C24H20P" in notes
    assert "stripped 4 ligand(s)" in notes


def test_p23_cif_expands_the_asymmetric_unit(model, tmp_path):
    """The cluster on the 23 site of P23: only the asymmetric unit is in the file."""
    a = 30.0
    reps, seen = [], []
    for k, x in enumerate(model.positions):
        if any(np.linalg.norm(orbit_images(x) - y, axis=1).min() < 1e-3 for y in seen):
            continue
        seen.append(x)
        reps.append(k)
    ops = []
    names = "xyz"
    for g in T_OPS:
        terms = []
        for row in g:
            terms.append("".join(("-" if v < 0 else "+") + names[c] for c, v in enumerate(row) if v).lstrip("+"))
        ops.append(",".join(terms))
    frac = (model.positions[reps] / a) % 1.0
    symbols = [model[k].symbol for k in reps]
    cif = write_test_cif(tmp_path / "p23.cif", np.eye(3) * a, symbols, frac, symops=ops, spacegroup="P 2 3")
    cluster, summary = prepare_parent(cif, "Ag", FORMULA, CHARGE, ["P"])
    assert len(reps) < 40
    assert cluster.get_chemical_formula("metal") == FORMULA
    assert summary["point_group"] == "T"


def test_disorder_keeps_the_major_part(model, tmp_path):
    cell, symbols, frac = p1_crystal(model)
    n = len(symbols)
    occupancy = [1.0] * n
    disorder = [(".", ".")] * n
    # a disordered solvent: the real one (0.7) and a shifted ghost copy (0.3)
    solvent = list(range(n - 6, n))
    ghost = frac[solvent] + [0.0, 0.0, 0.03]
    symbols2 = symbols + [symbols[k] for k in solvent]
    frac2 = np.vstack([frac, ghost % 1.0])
    occupancy = occupancy[:-6] + [0.7] * 6 + [0.3] * 6
    disorder = disorder[:-6] + [("A", "1")] * 6 + [("A", "2")] * 6
    cif = write_test_cif(tmp_path / "dis.cif", cell, symbols2, frac2, occupancy=occupancy, disorder=disorder)
    report = ReadReport(str(cif))
    atoms = read_structure(cif, report)
    assert len(atoms) == n
    assert any("dropped 6 minor site(s)" in note for note in report.notes)


def test_equal_disorder_is_refused(model, tmp_path):
    cell, symbols, frac = p1_crystal(model)
    n = len(symbols)
    occupancy = [1.0] * (n - 1) + [0.5]
    cif = write_test_cif(tmp_path / "half.cif", cell, symbols, frac, occupancy=occupancy)
    with pytest.raises(InputError, match="occupancy 0.5"):
        read_structure(cif)


def test_results_are_written_readable_by_others_as_the_umask_allows(tmp_path):
    """Atomic writes go through mkstemp (mode 0600); the result must get a new file's usual mode."""
    import os

    from clusterdefects.fileio import write_json

    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "result.json", {"energy": 1.0})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_the_electron_count_comes_from_the_ligands_not_the_metal_contacts():
    """Ag5(SH)4-: 5 - 4 + 1 = 2 superatom electrons. An S that drifted off its metal, or an S-H bond
    stretched past any bond cutoff, still withdraws one electron (a relaxed vacancy counts as its start)."""
    from ase.io import read

    from clusterdefects.pipeline import cluster_electrons, thiolate_count
    from conftest import ROOT

    atoms = read(ROOT / "structures" / "Ag5_SH4.xyz")
    assert thiolate_count(atoms) == 4 and cluster_electrons(atoms, -1) == 2
    s, h = [a.index for a in atoms if a.symbol == "S"][0], [a.index for a in atoms if a.symbol == "H"]
    h_of_s = min(h, key=lambda k: atoms.get_distance(s, k))
    centre = atoms.get_center_of_mass()
    away = atoms.copy()
    shift = 4.0 * (away.positions[s] - centre) / np.linalg.norm(away.positions[s] - centre)
    away.positions[[s, h_of_s]] += shift  # the SH group 4 Å further out: no Ag-S contact left
    assert cluster_electrons(away, -1) == 2
    away.positions[h_of_s] += 0.3 * (away.positions[h_of_s] - away.positions[s])  # S-H 1.3x longer
    assert thiolate_count(away) == 4


def test_a_relaxed_cluster_in_its_box_keeps_its_place(tmp_path):
    """The shipped parent sits in the study's box: read again, it is neither moved nor stripped of its cell
    (re-centring moves it against the grid, and its first SCF is no longer the relaxation's last)."""
    from clusterdefects.dft import boxed, box_for
    from clusterdefects.pipeline import load_cluster

    cluster = molecule("CH3SH")
    cluster.cell = box_for(cluster, 4.0, 0.2)
    cluster.center()
    cluster.positions += [0.03, -0.05, 0.07]
    path = tmp_path / "relaxed.xyz"
    cluster.write(path)
    read_back = load_cluster(path, "S")
    assert np.allclose(read_back.cell.array, cluster.cell.array)
    assert np.allclose(read_back.positions, cluster.positions)
    assert np.allclose(boxed(read_back, 4.0, 0.2, box_for(read_back, 4.0, 0.2)).positions, cluster.positions)
    cluster.cell = None
    cluster.write(path)
    assert np.allclose(load_cluster(path, "S").positions.mean(axis=0), 0.0)


def test_the_shipped_parent_is_read_in_place_with_its_whole_route():
    """The default study's parent rule: the shipped parent keeps its place, and its note names the steps of
    the relaxation it continued, not only those of the last run."""
    import json
    from pathlib import Path

    from ase.io import read

    shipped = Path(__file__).parents[1] / "structures" / "Ag29_BDT12.screen-relaxed.xyz"
    relaxation = json.loads(shipped.with_suffix(".json").read_text())["relaxation"]
    cluster, summary = prepare_parent(shipped, "Ag", FORMULA, CHARGE, ["P"])
    assert np.allclose(cluster.positions, read(shipped).positions)
    note = summary["notes"][0]
    assert f"fingerprint {relaxation['fingerprint']}, {relaxation['steps']} steps" in note
    earlier = relaxation.get("continued_from")
    if earlier:
        assert f"after {earlier['steps']} steps at fingerprint {earlier['fingerprint']}" in note
