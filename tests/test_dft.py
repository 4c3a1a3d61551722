"""Settings fingerprints, the SCF ladder and the rules for combining results (no DFT run here)."""

import json

import pytest

from clusterdefects.dft import SCF_LADDER, DFTSettings, apply_rung
from clusterdefects.errors import InputError
from clusterdefects.results import RelaxResult, check_combinable, summary_frame
from clusterdefects.ids import kind_of
from clusterdefects.mpi import gpaw_argv, mpi_starter
from clusterdefects.study import CONFIG_FILE, deep_merge, load_study, read_config

import yaml

from conftest import ROOT


def test_fingerprint_tracks_energy_settings_only():
    base = DFTSettings()
    assert base.fingerprint() == DFTSettings().fingerprint()
    assert DFTSettings(h=0.18).fingerprint() != base.fingerprint()
    assert DFTSettings(basis="dzp").fingerprint() != base.fingerprint()
    assert DFTSettings(setups={"Ag": "11"}).fingerprint() != base.fingerprint()
    assert DFTSettings(maxiter=50, mixer={"beta": 0.01}).fingerprint() == base.fingerprint()


def test_spin_polarised_runs_split_the_grid_over_the_ranks():
    """GPAW would put the two spins on different ranks, each doing the whole grid's work; ours splits the
    grid (benchmarks/bench_scf.py --layouts). A paired run keeps GPAW's own layout, and a caller may ask
    for GPAW's."""
    from clusterdefects.dft import SPIN_POLARIZED_LAYOUT, make_calculator

    settings = DFTSettings()
    assert make_calculator(settings, 0, None, fixed_moment=2.0).params.parallel == SPIN_POLARIZED_LAYOUT
    assert make_calculator(settings, 0, None).params.parallel == {}
    assert make_calculator(settings, 0, None, fixed_moment=2.0, layout={}).params.parallel == {}


def test_ladder_softens_then_smears():
    base = DFTSettings(maxiter=100)
    rungs = [apply_rung(base, r) for r in SCF_LADDER]
    assert rungs[0] == base
    assert rungs[1].mixer["beta"] < base.mixer["beta"] and rungs[1].maxiter == 200
    assert rungs[1].fingerprint() == base.fingerprint()
    assert rungs[2].occupations["width"] > base.occupations["width"]
    assert rungs[2].fingerprint() != base.fingerprint()  # smeared energies are never mixed in


def test_unknown_setting_is_refused():
    with pytest.raises(InputError, match="unknown DFT setting"):
        DFTSettings.from_config({"grid": 0.2})


def write_result(path, **over):
    data = {"structure_id": "parent", "formula": "Ag5H4S4", "charge": -1, "energy": -29.7, "converged": True,
            "fmax": 0.05, "steps": 3, "force_calls": 4, "spin_state": "paired", "magmom": 0.0,
            "wall_time_s": 1.0, "peak_memory_mb": 100.0, "fingerprint": "aaaa"}
    data.update(over)
    path.write_text(json.dumps(data))
    return RelaxResult.read(path)


def test_results_with_different_fingerprints_cannot_be_combined(tmp_path):
    a = write_result(tmp_path / "a.json")
    b = write_result(tmp_path / "b.json", structure_id="doped-Hg-centre", fingerprint="bbbb")
    with pytest.raises(InputError, match="fingerprint bbbb differs from aaaa"):
        check_combinable([a, b])
    with pytest.raises(InputError, match="fingerprint"):
        summary_frame([a, b], allow_unconverged=True)


@pytest.mark.parametrize("key, other", [("optimizer", "PreconLBFGS"), ("fmax_target", 0.05)])
def test_structures_relaxed_differently_cannot_be_combined(tmp_path, key, other):
    a = write_result(tmp_path / "a.json", optimizer="BFGS", fmax_target=0.1)
    b = write_result(tmp_path / "b.json", **{"optimizer": "BFGS", "fmax_target": 0.1, key: other})
    assert check_combinable([a, a]) == "aaaa"
    with pytest.raises(InputError, match=f"b.json: relaxed with .*{other}.*relaxed differently"):
        check_combinable([a, b])


def test_isomers_from_different_boxes_cannot_be_combined(tmp_path):
    a = write_result(tmp_path / "a.json", kind="parent", box_A=[26.4, 26.4, 26.4])
    b = write_result(tmp_path / "b.json", kind="doped", box_A=[27.28, 27.28, 27.28])
    atom = write_result(tmp_path / "c.json", kind="atom", box_A=[10.56, 10.56, 10.56])
    assert check_combinable([a, atom]) == "aaaa"  # the free atom has a box of its own
    with pytest.raises(InputError, match="b.json: computed in a .* box.*different grids"):
        check_combinable([a, b, atom])


def test_box_edges_are_whole_multiples_of_four_grid_spacings():
    import numpy as np
    from ase import Atoms

    from clusterdefects.dft import box_for, boxed

    atoms = Atoms("H2", positions=[(0, 0, 0), (0.74, 0, 0)])
    edges = box_for(atoms, vacuum=5.0, h=0.22)
    assert np.allclose(edges / 0.88, np.round(edges / 0.88)) and np.all(edges >= [10.74, 10, 10])
    shared = boxed(atoms, 5.0, 0.22, box=[12.32, 12.32, 12.32])
    assert np.allclose(shared.cell.lengths(), 12.32) and np.allclose(shared.positions.mean(axis=0), 6.16)
    with pytest.raises(InputError, match="leaves less than 5.0 Å of vacuum"):
        boxed(atoms, 5.0, 0.22, box=[10.0, 10.0, 10.0])


def test_a_structure_in_the_studys_box_keeps_its_place_on_the_grid():
    """An isomer made from the relaxed parent starts where the parent ended (re-centring would move it by a
    fraction of h, and at h 0.22 Å a rigid move changes the cluster's energy by up to 0.065 eV); one that came
    nearer a face than vacuum - h, or has another cell, is centred."""
    import numpy as np
    from ase import Atoms

    from clusterdefects.dft import boxed

    box = [12.32, 12.32, 12.32]
    placed = Atoms("H2", positions=[(6.0, 6.1, 6.2), (6.74, 6.1, 6.2)], cell=box, pbc=False)
    assert np.allclose(boxed(placed, 5.0, 0.22, box).positions, placed.positions)
    near_face = placed.copy()
    near_face.positions += [-1.5, 0, 0]  # 4.5 Å from the face: less than vacuum - h
    assert np.allclose(boxed(near_face, 5.0, 0.22, box).positions.mean(axis=0), 6.16)
    other_cell = placed.copy()
    other_cell.cell = [13.2, 13.2, 13.2]
    assert np.allclose(boxed(other_cell, 5.0, 0.22, box).positions.mean(axis=0), 6.16)


def test_a_basis_per_element_is_checked_fingerprinted_and_named_in_one_word():
    from clusterdefects.dft import basis_label, check_basis

    mixed = {"default": "sz(dzp)", "C": "dz(dzp)", "H": "dz(dzp)"}
    assert basis_label(mixed) == "sz(dzp)+C,H:dz(dzp)"
    assert DFTSettings(basis=mixed).fingerprint() not in (DFTSettings().fingerprint(),
                                                          DFTSettings(basis="dz(dzp)").fingerprint())
    # one basis, one form: elements at the default drop out, and one basis for all is its name
    assert DFTSettings(basis={**mixed, "Ag": "sz(dzp)"}).fingerprint() == DFTSettings(basis=mixed).fingerprint()
    assert DFTSettings(basis={"default": "dzp", "C": "dzp"}).basis == "dzp"
    for bad in ({"C": "dz(dzp)"}, {"default": "sz(dzp)", "Xx": "dzp"}, {"default": "", 0: "dzp"}, "", 3):
        with pytest.raises(InputError, match="dft.basis"):
            check_basis(bad)
    with pytest.raises(InputError, match="basis_check.basis"):
        check_basis({"dzp": "dzp"}, "basis_check.basis")


def test_a_basis_dict_in_a_preset_merges_element_by_element_and_is_stored_in_one_spelling():
    """As Snakemake merges a --configfile: a preset's dict changes the elements it names; a name replaces."""
    config = read_config(ROOT / CONFIG_FILE)
    hg = deep_merge(config, {"presets": {"hg": {"system": "Ag29_BDT12", "dft": {"basis": {"Hg": "dzp", "Ag": "sz(dzp)"}}}}})
    assert load_study(hg, "hg").settings["dft"]["basis"] == {"default": "sz(dzp)", "C": "dz(dzp)",
                                                              "H": "dz(dzp)", "Hg": "dzp"}
    assert load_study(config, "production").settings["dft"]["basis"] == "dzp"
    assert config["defaults"]["dft"]["basis"] == {"default": "sz(dzp)", "C": "dz(dzp)", "H": "dz(dzp)"}


def test_gpaw_gets_the_per_element_basis():
    """A real calculator on CH4: sz(dzp) gives C 4 and H 1 function each (8), C and H in dz(dzp) twice that."""
    from ase.build import molecule

    from clusterdefects.dft import boxed, make_calculator

    atoms = boxed(molecule("CH4"), 3.0, 0.3)
    counts = []
    for basis in ("sz(dzp)", {"default": "sz(dzp)", "C": "dz(dzp)", "H": "dz(dzp)"}):
        calc = make_calculator(DFTSettings(basis=basis, h=0.3, vacuum=3.0), 0, None)
        calc.initialize(atoms)
        counts.append(calc.wfs.setups.nao)
    assert counts == [4 + 4 * 1, 8 + 4 * 2]


def test_a_basis_check_at_the_presets_own_basis_is_refused():
    config = read_config(ROOT / CONFIG_FILE)
    same = deep_merge(config, {"presets": {"screen": {"basis_check": {"basis": config["defaults"]["dft"]["basis"]}}}})
    with pytest.raises(InputError, match="the preset's own basis"):
        load_study(same, "screen")


def test_unconverged_result_is_refused_unless_allowed(tmp_path):
    a = write_result(tmp_path / "a.json")
    b = write_result(tmp_path / "b.json", converged=False, fmax=0.4)
    with pytest.raises(InputError, match="not converged.*allow_unconverged"):
        check_combinable([a, b])
    assert check_combinable([a, b], allow_unconverged=True) == "aaaa"


def test_missing_and_broken_results_name_the_file(tmp_path):
    with pytest.raises(InputError, match="result not found"):
        RelaxResult.read(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="bad.json: broken result"):
        RelaxResult.read(tmp_path / "bad.json")


def test_presets_resolve_and_name_every_setting():
    config = read_config(ROOT / CONFIG_FILE)
    for preset in ("smoke", "screen", "production"):
        study = load_study(config, preset)
        s = study.settings
        assert set(s["dft"]) >= {"mode", "basis", "xc", "h", "vacuum", "convergence"}
        assert set(s["relax"]) == {"optimizer", "fmax", "steps", "displace", "seed", "continue_other_settings"}
        assert set(s["resources"]) == {"tasks", "cpus_per_task", "mem_mb", "runtime", "mpi"}
        assert set(s["spin"]) == {"parent", "doped", "vacancy", "atom"}
    assert load_study(config, "production").settings["dft"]["h"] == 0.2
    smoke = load_study(config, "smoke")
    assert smoke.structure_ids() == ["parent", "doped-Hg-centre", "doped-Hg-kernel", "doped-Au-centre", "doped-Au-kernel",
                                     "vacancy-Hg-centre", "vacancy-Hg-kernel", "atom-Hg", "atom-Au"]
    assert json.loads(yaml.safe_load("x: " + smoke.relax_args("atom-Hg"))["x"].strip("'"))["spin"] == "lowest"
    assert load_study(config, "screen").settings["spin"]["vacancy"] == "lowest"


def test_a_dopant_without_a_charge_is_refused_when_the_study_loads():
    """Not hours later, when its first doped isomer is made from the relaxed parent."""
    config = read_config(ROOT / CONFIG_FILE)
    system = config["presets"]["screen"]["system"]
    config["systems"][system] = {**config["systems"][system], "dopants": ["Hg", "Ga"]}
    with pytest.raises(InputError, match="charge of the Ga-doped cluster"):
        load_study(config, "screen")
    config["systems"][system]["charges"] = {**config["systems"][system]["charges"], "doped": {"Ga": -2}}
    assert load_study(config, "screen").charge("doped", "Ga") == -2


def test_the_basis_check_covers_the_chosen_dopants():
    config = read_config(ROOT / CONFIG_FILE)
    screen = load_study(config, "screen")
    assert screen.basis_check_ids() == ["parent", *(f"{k}-Hg-{s}" for k in ("doped", "vacancy")
                                                    for s in ("centre", "icosahedral", "tetrahedral", "crown")), "atom-Hg"]
    assert sum("/counterpoise/" in f for f in screen.basis_check_files()) == 4
    every = load_study(deep_merge(config, {"presets": {"screen": {"basis_check": {"dopants": "all"}}}}), "screen")
    assert every.basis_check_ids() == every.structure_ids()
    wrong = load_study(deep_merge(config, {"presets": {"screen": {"basis_check": {"dopants": ["Zn"]}}}}), "screen")
    with pytest.raises(InputError, match="basis_check.dopants names .'Zn'.*choose from"):
        wrong.basis_check_ids()


def test_mpi_starter_is_srun_only_inside_a_slurm_job():
    assert mpi_starter("auto", {}) == "mpiexec"
    assert mpi_starter("auto", {"SLURM_JOB_ID": "42"}) == "srun"
    assert mpi_starter("mpirun --bind-to core", {"SLURM_JOB_ID": "42"}) == "mpirun --bind-to core"


def test_one_command_line_for_every_gpaw_step():
    from clusterdefects.cli import parser

    args = parser().parse_args(["gpaw", "--ranks", "2", "--mpi", "auto", "relax", "--", "s.xyz", "out", "--settings", "{}"])
    rest = args.args[1:] if args.args[:1] == ["--"] else args.args
    argv = gpaw_argv(args.module, rest, args.ranks, args.mpi, environ={"SLURM_JOB_ID": "7"})
    assert argv[:3] == ["srun", "-n", "2"] and argv[3].endswith("gpaw")
    assert argv[4:] == ["python", "-m", "clusterdefects.relax", "s.xyz", "out", "--settings", "{}"]
    assert gpaw_argv("basin", [], 4, "mpirun --bind-to core", environ={})[:4] == ["mpirun", "--bind-to", "core", "-n"]
    with pytest.raises(ValueError, match="not a GPAW module"):
        gpaw_argv("build", [], 2)


def test_deep_merge_and_kinds():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
    assert [kind_of(s) for s in ("parent", "doped-Hg-crown", "vacancy-Hg-crown", "atom-Hg")] == \
        ["parent", "doped", "vacancy", "atom"]


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["screen", "production"])
def test_preset_grid_is_translation_invariant(preset):
    """Real GPAW: the presets that make physics numbers sit below the grid's egg-box cliff (at h = 0.3 Å
    a CH4 molecule's energy moves by eV with its position; see benchmarks/bench_eggbox.py): the energy
    stays within 0.02 eV and the spurious net force below the preset's own force criterion."""
    from dataclasses import replace

    from clusterdefects.dft import grid_translation_error

    config = read_config(ROOT / CONFIG_FILE)
    study = load_study(config, preset)
    settings = DFTSettings.from_config(study.settings["dft"])
    # The check's physics is the grid and the box; the basis is kept cheap (production's dzp is slower).
    spread, net_force = grid_translation_error(replace(settings, basis="sz(dzp)"), shifts=3)
    assert spread < 0.02 and net_force < study.settings["relax"]["fmax"], (preset, settings.h, spread, net_force)


def test_shipped_parent_was_relaxed_with_the_screen_settings():
    """The default study starts from structures/Ag29_BDT12.screen-relaxed.xyz; if the screen preset's
    energy settings or the model change, it must be remade (the .json says how)."""
    import hashlib

    config = read_config(ROOT / CONFIG_FILE)
    study = load_study(config, "screen")
    assert study.parent_source() == study.shipped_parent() == "structures/Ag29_BDT12.screen-relaxed.xyz"
    assert study.parent_source("parent-model") == study.system["parent"]
    provenance = json.loads((ROOT / study.shipped_parent()).with_suffix(".json").read_text())
    relaxation = provenance["relaxation"]
    assert relaxation["converged"] and relaxation["fmax"] <= relaxation["fmax_target"]
    assert relaxation["fingerprint"] == DFTSettings.from_config(study.settings["dft"]).fingerprint(), \
        f"screen settings changed: remake the shipped parent ({provenance['remake']})"
    from clusterdefects.pipeline import source_sha256_now

    assert source_sha256_now(provenance) == hashlib.sha256((ROOT / study.system["parent"]).read_bytes()).hexdigest(), \
        "the model changed: remake the shipped parent, or record the refit (pipeline.record_model_refit)"


def test_an_unconverged_parent_is_not_shipped(tmp_path):
    from clusterdefects.pipeline import shipped_parent

    result = write_result(tmp_path / "result.json", converged=False, fmax=0.4)
    (tmp_path / "relaxed.xyz").write_text("1\n\nAg 0 0 0\n")
    with pytest.raises(InputError, match="not converged"):
        shipped_parent(tmp_path / "relaxed.xyz", result.path, tmp_path / "relaxed.xyz")


def test_scf_energy_criterion_is_absolute_and_in_the_fingerprint():
    from clusterdefects.dft import SCF_ENERGY_RULE, gpaw_convergence

    criteria = gpaw_convergence({"energy": 0.001, "density": 1e-4})
    assert criteria == {"energy": {"name": "energy", "tol": 0.001, "n_old": 3, "relative": False}, "density": 1e-4}
    assert DFTSettings().energy_settings()["scf_energy"] == SCF_ENERGY_RULE
    assert DFTSettings(convergence={"energy": 0.0005, "density": 1e-4}).fingerprint() != DFTSettings().fingerprint()


def test_open_shell_or_symmetric_start_is_displaced_reproducibly_and_a_c1_closed_shell_kept():
    """Ag5(SH)4: charge -1 gives 2 superatom electrons (closed), -3 gives 4 (open 1P shell); its model is Td."""
    import numpy as np

    from clusterdefects.build import build_ag5_sh4
    from clusterdefects.relax import RelaxSettings, displace_start, point_groups

    atoms = build_ag5_sh4()
    closed, record = displace_start(atoms, -1, RelaxSettings())  # closed shell, but Td: displaced
    assert record["displacement"]["why"] == "symmetric start (Td at 0.02 Å)" and record["closed_shell"]
    same, record = displace_start(closed, -1, RelaxSettings())  # closed shell and C1: kept
    assert same is closed and record == {"superatom_electrons": 2, "closed_shell": True, "displacement": None}
    moved, record = displace_start(atoms, -3, RelaxSettings(displace=0.03, seed=7))
    again, _ = displace_start(atoms, -3, RelaxSettings(displace=0.03, seed=7))
    assert record["displacement"]["why"] == "open shell"
    step = moved.positions - atoms.positions
    heavy = np.array([s != "H" for s in atoms.get_chemical_symbols()])
    assert record["superatom_electrons"] == 4 and not record["closed_shell"]
    assert record["displacement"]["seed"] == 7 and record["displacement"]["n_atoms"] == heavy.sum()
    assert np.allclose(moved.positions, again.positions)
    assert np.sqrt((step[heavy] ** 2).sum(axis=1).mean()) == pytest.approx(0.03)
    assert np.allclose(step[heavy].sum(axis=0), 0.0) and np.allclose(step[~heavy], 0.0)
    assert point_groups(atoms)["0.02"] == "Td" and point_groups(moved)["0.02"] == "C1"


def test_polarized_state_is_a_fixed_triplet_or_doublet():
    from ase import Atoms

    from clusterdefects.relax import polarized_moment, spin_label

    assert polarized_moment(Atoms("Ag2"), 0) == 2.0 and polarized_moment(Atoms("Ag2"), -1) == 1.0
    assert spin_label("polarized", Atoms("Ag2"), 0) == "polarized (fixed M = 2)"
    assert spin_label("paired", Atoms("Ag2"), 0) == "paired"


def test_a_parent_shipped_by_another_route_keeps_the_model_it_descends_from(tmp_path):
    import hashlib

    from clusterdefects.pipeline import shipped_parent

    result = write_result(tmp_path / "result.json", preset="screen")
    (tmp_path / "relaxed.xyz").write_text("1\n\nAg 0 0 0\n")
    (tmp_path / "model.xyz").write_text("1\n\nAg 0 0 0.1\n")
    earlier = {"source_sha256": "old", "source_refits": [{"from_sha256": "old", "to_sha256": "new"}]}
    (tmp_path / "earlier.json").write_text(json.dumps(earlier))
    _, provenance = shipped_parent(tmp_path / "relaxed.xyz", result.path, tmp_path / "model.xyz",
                                   via=tmp_path / "earlier.json", route="Hg put back to Ag")
    assert provenance["route"] == "Hg put back to Ag" and provenance["source_sha256"] == "old"
    assert provenance["source_refits"] == earlier["source_refits"]
    assert "follow `route`" in provenance["remake"]
    # a variant of the model itself (a parent-search candidate): the model's own hash, the old parent kept
    _, provenance = shipped_parent(tmp_path / "relaxed.xyz", result.path, tmp_path / "model.xyz", route="tetra-150",
                                   replaces=tmp_path / "earlier.json")
    assert provenance["source_sha256"] == hashlib.sha256(b"1\n\nAg 0 0 0.1\n").hexdigest()
    assert provenance["replaces"] == earlier and "started_from" not in provenance


def test_result_round_trips_and_keeps_keys_it_does_not_know(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"structure_id": "atom-Hg", "formula": "Hg", "charge": 0, "energy": 1.19,
                                "converged": True, "fmax": 0.0, "fingerprint": "f", "from_a_newer_version": [1, 2]}))
    result = RelaxResult.read(path)
    assert (result.structure_id, result.energy, result.steps, result.path) == ("atom-Hg", 1.19, 0, str(path))
    result.write(tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["from_a_newer_version"] == [1, 2] and "path" not in again and RelaxResult.read(tmp_path / "again.json") == result
    path.write_text(json.dumps({"structure_id": "atom-Hg", "energy": 1.19}))
    with pytest.raises(InputError, match="not a relaxation result: no formula, charge, converged, fmax, fingerprint"):
        RelaxResult.read(path)


def test_a_free_open_shell_atom_is_not_displaced():
    """A doublet atom (Au, one valence electron) has no symmetry to break: its start is kept, not NaN."""
    import numpy as np
    from ase import Atoms

    from clusterdefects.relax import RelaxSettings, displace_start

    atom = Atoms("Au", positions=[[3.0, 3.0, 3.0]])
    start, record = displace_start(atom, 0, RelaxSettings(displace=0.03))
    assert record["closed_shell"] is False and record["displacement"] is None
    assert np.allclose(start.positions, atom.positions)


def test_md_snapshots_can_be_asked_for_some_runs_only():
    config = read_config(ROOT / CONFIG_FILE)
    screen = load_study(config, "screen")
    snapshots = [f for f in screen.md_files() if f.endswith("snapshot.json")]
    assert snapshots == [f"{screen.results}/md/xtb/vacancy-Hg-centre/snapshot.json"]
    every = load_study(deep_merge(config, {"presets": {"screen": {"md": {"snapshot": True}}}}), "screen")
    assert sum(f.endswith("snapshot.json") for f in every.md_files()) == 2
    wrong = load_study(deep_merge(config, {"presets": {"screen": {"md": {"snapshot": ["vacancy-Hg-crown"]}}}}), "screen")
    with pytest.raises(InputError, match="md.snapshot names .'vacancy-Hg-crown'.*choose from"):
        wrong.md_files()
