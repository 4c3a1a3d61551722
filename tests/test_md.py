"""Molecular dynamics (clusterdefects md) on the smoke cluster with GFN1-xTB, and the site tracking of a vacancy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ase.io import read

from clusterdefects.fileio import write_text, write_xyz
from clusterdefects.md import START_TEMPERATURE_FACTOR, MDSettings, read_frames, run
from clusterdefects.sites import classify_sites, sites_frame
from clusterdefects.sitetrack import SiteTemplate, analyse_run, assign, metal_indices, start_sites
from conftest import BIN, ROOT

SMOKE = ROOT / "structures" / "Ag5_SH4.xyz"
SHORT = {"md": {"steps": 8, "nve_steps": 20, "interval": 2, "temperature": 290.0}}


def md_command(start: Path, outdir: Path, *extra: str) -> list[str]:
    return [str(BIN / "clusterdefects"), "md", str(start), str(outdir), *extra]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("md") / "nvt"
    run(SMOKE, out, "xtb", "nvt", SHORT, None)
    return out


def test_nve_check_conserves_the_total_energy(tmp_path):
    summary = run(SMOKE, tmp_path / "nve", "xtb", "nve", SHORT, None)
    drift = summary["nve_drift"]
    steps = pd.read_csv(tmp_path / "nve/steps.csv")
    assert summary["steps"] == 20 and len(steps) == 21 and steps["time_fs"].iloc[-1] == 20.0  # every step
    # drawn at twice the target (half goes into the potential from a minimum), over the 3N - 3 dof FixCom leaves
    assert steps["temperature_K"].iloc[0] == pytest.approx(START_TEMPERATURE_FACTOR * 290.0, rel=1e-9)
    assert abs(drift["etot_change_eV"]) < 2e-3 and drift["etot_max_excursion_eV"] < 5e-3  # 1 fs, D masses
    assert steps["epot_eV"].std() > 10 * drift["etot_max_excursion_eV"] / 3  # energy flows; the sum holds


@pytest.mark.parametrize("table_rows", [4, 2, 0])
def test_a_run_cut_off_by_a_kill_goes_on_from_its_last_frame_with_its_momenta(uninterrupted, tmp_path, table_rows):
    """What a kill leaves (three frames and the start of a fourth; a table ahead, behind or missing) is
    resumed to the same trajectory as a run never stopped: momenta and thermostat random numbers are
    restored, and the table is rebuilt from the frames, each of which carries its row."""
    from ase.io.trajectory import Trajectory

    cut = tmp_path / "nvt"
    cut.mkdir()
    with Trajectory(str(cut / "md.traj"), "w") as traj:
        for frame in read_frames(uninterrupted / "md.traj")[:3]:
            traj.write(frame)
    with open(cut / "md.traj", "ab") as fh:
        fh.write(b"\x00" * 97)  # a frame half-written
    if table_rows:
        write_text(cut / "steps.csv", pd.read_csv(uninterrupted / "steps.csv").head(table_rows).to_csv(index=False))
    (cut / "fingerprint.json").write_text((uninterrupted / "fingerprint.json").read_text())
    result = subprocess.run(md_command(SMOKE, cut, "--settings", json.dumps(SHORT)), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "resuming xtb nvt at step 4 (3 frames)" in result.stdout
    a, b = read(uninterrupted / "final.xyz"), read(cut / "final.xyz")
    assert np.abs(a.positions - b.positions).max() < 1e-5
    assert len(read_frames(cut / "md.traj")) == 5
    resumed, whole = pd.read_csv(cut / "steps.csv"), pd.read_csv(uninterrupted / "steps.csv")
    assert resumed["step"].tolist() == [0, 2, 4, 6, 8]
    pd.testing.assert_frame_equal(resumed.drop(columns="s_per_step"), whole.drop(columns="s_per_step"), atol=1e-6)


def test_a_killed_process_resumes_when_run_again(tmp_path):
    out = tmp_path / "long"
    settings = json.dumps({"md": {"steps": 4000, "interval": 2}})
    proc = subprocess.Popen(md_command(SMOKE, out, "--settings", settings), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while (not (out / "steps.csv").exists() or len(pd.read_csv(out / "steps.csv")) < 4) and time.time() < deadline:
        time.sleep(0.2)  # steps.csv is replaced whole after each frame: safe to read while the run writes
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(read_frames(out / "md.traj"))
    assert 4 <= written < 2001 and not (out / "summary.json").exists()
    shorter = json.dumps({"md": {"steps": 2 * written + 2, "interval": 2}})  # the length is not physics
    resumed = subprocess.run(md_command(SMOKE, out, "--settings", shorter), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming xtb nvt at step {2 * (written - 1)}" in resumed.stdout
    times = pd.read_csv(out / "steps.csv")["time_fs"]
    assert (times.diff().dropna() == 2.0).all() and times.iloc[-1] == 2 * written + 2
    warmer = json.dumps({"md": {"steps": 4, "interval": 2, "temperature": 400.0}})  # physics: never resumed
    afresh = subprocess.run(md_command(SMOKE, out, "--settings", warmer), capture_output=True, text=True)
    assert afresh.returncode == 0 and "other settings: moved to" in afresh.stdout and "resuming" not in afresh.stdout
    assert pd.read_csv(out / "steps.csv")["step"].tolist() == [0, 2, 4]
    assert json.loads((out.with_name("long.stale") / "fingerprint.json").read_text())["temperature"] == 290.0


def test_a_truncated_last_frame_is_dropped_and_the_file_repaired(uninterrupted, tmp_path):
    """A file cut inside its last frame (a full disk): that frame is dropped and md.traj rewritten from the
    whole ones before the run appends, so the file stays readable; a cut further in is an error."""
    from clusterdefects.errors import InputError
    from clusterdefects.md import trajectory_length

    whole = (uninterrupted / "md.traj").read_bytes()
    cut = tmp_path / "nvt"
    cut.mkdir()
    (cut / "md.traj").write_bytes(whole[:-60])
    assert len(read_frames(cut / "md.traj")) == 4 and trajectory_length(cut / "md.traj") == 5
    (cut / "fingerprint.json").write_text((uninterrupted / "fingerprint.json").read_text())
    run(SMOKE, cut, "xtb", "nvt", SHORT, None)
    assert len(read_frames(cut / "md.traj")) == trajectory_length(cut / "md.traj") == 5
    assert np.abs(read(cut / "final.xyz").positions - read(uninterrupted / "final.xyz").positions).max() < 1e-5
    (cut / "md.traj").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="start it afresh"):
        read_frames(cut / "md.traj")


def test_settings_that_break_with_h_atoms_are_refused(tmp_path):
    bad = {"md": {"timestep": 1.0, "deuterium": False}}
    result = subprocess.run(md_command(SMOKE, tmp_path / "x", "--settings", json.dumps(bad)), capture_output=True, text=True)
    assert result.returncode == 2
    assert "unstable with H atoms" in result.stderr and "md.deuterium" in result.stderr
    with pytest.raises(ValueError, match="thermostat"):
        MDSettings.from_config({"thermostat": "berendsen"})


@pytest.fixture(scope="module")
def smoke_sites(tmp_path_factory) -> Path:
    atoms = read(SMOKE)
    path = tmp_path_factory.mktemp("sites") / "sites.csv"
    write_text(path, sites_frame(classify_sites(atoms)).to_csv(index=False))
    return path


def test_the_assignment_follows_an_atom_into_the_empty_site(smoke_sites):
    atoms = read(SMOKE)
    template = SiteTemplate.from_structure(atoms, smoke_sites)
    metals = metal_indices(atoms)
    empty = 0
    sites = start_sites(template, empty)
    moved = atoms.positions[metals[1:]].copy()
    rotation = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # the frame turns as a whole
    assert assign(template, moved, sites)[0].tolist() == sites.tolist()
    moved[0] = template.positions[empty] + 0.1  # the first remaining atom hops into the vacancy
    centre = moved.mean(axis=0)
    turned = (moved - centre) @ rotation.T + centre
    new, rms = assign(template, turned, sites)
    assert new[0] == empty and sorted(set(range(len(template))) - set(new.tolist())) == [int(sites[0])]
    assert rms < 0.1


def test_site_analysis_of_a_vacancy_run(smoke_sites, tmp_path):
    parent = read(SMOKE)
    metals = metal_indices(parent)
    vacancy = parent.copy()
    del vacancy[int(metals[0])]
    vacancy.info.update(charge=-1, structure_id="vacancy-Hg-test", vacancy_index=int(metals[0]))
    write_xyz(tmp_path / "start.xyz", vacancy)
    run(tmp_path / "start.xyz", tmp_path / "nvt", "xtb", "nvt", SHORT, None)
    track, summary = analyse_run(tmp_path / "nvt/md.traj", parent, smoke_sites, int(metals[0]))
    assert track.times_fs.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]  # from the frames' own rows
    label = template_label = SiteTemplate.from_structure(parent, smoke_sites).labels[0]
    assert summary["start_empty"] == label and summary["frames"] == 5
    assert track.vacancy_roles()[0] == template_label
    result = subprocess.run([str(BIN / "clusterdefects"), "md-sites", str(tmp_path / "nvt"), "--start",
                             str(tmp_path / "start.xyz"), "--template", str(SMOKE), "--sites", str(smoke_sites),
                             "-o", str(tmp_path / "sites.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "empty site" in result.stdout
    for name in ("rg.png", "vacancy_role.png"):
        assert (tmp_path / "nvt" / name).read_bytes()[:4] == b"\x89PNG"


def test_every_run_starts_from_the_engines_own_minimum(tmp_path):
    summary = run(SMOKE, tmp_path / "min", "xtb", "min", {"md": {"min_fmax": 0.1}}, None)
    minimized = read(tmp_path / "min/minimized.xyz")
    assert summary["fmax"] < 0.1 and summary["energy_change_eV"] < 0 and summary["rmsd_from_start_A"] > 0
    assert minimized.info["charge"] == -1 and minimized.info["minimized_fmax"] < 0.1
    assert not (tmp_path / "min/hessian.json").exists()  # kept only while it can be resumed
    again = run(SMOKE, tmp_path / "min", "xtb", "min", {"md": {"min_fmax": 0.1}}, None)  # resumes: nothing left
    assert again["energy_eV"] == pytest.approx(summary["energy_eV"], abs=1e-6)


def test_a_snapshot_is_placed_among_the_static_isomers_of_its_settings():
    from clusterdefects.errors import InputError
    from clusterdefects.md import snapshot_energy
    from clusterdefects.results import RelaxResult

    def result(sid, energy, **over):
        data = {"structure_id": sid, "energy": energy, "formula": "Ag28C72H48S24", "charge": -2, "fmax": 0.01,
                "converged": True, "spin_state": "paired", "magmom": 0.0, "fingerprint": "f", **over}
        return RelaxResult.from_dict(data, f"{sid}/result.json")

    statics = [result("vacancy-Hg-centre", -10.0), result("vacancy-Hg-tetrahedral", -11.7),
               result("vacancy-Hg-icosahedral", -11.3)]
    found = snapshot_energy(result("vacancy-Hg-centre", -11.5), statics)
    assert found["relative_energy_eV"] == pytest.approx(0.2)
    assert found["lower_than"] == ["vacancy-Hg-icosahedral", "vacancy-Hg-centre"]
    assert "+0.200 eV" in found["verdict"] and "below 2 of 3" in found["verdict"]
    with pytest.raises(InputError, match="fingerprint"):
        snapshot_energy(result("vacancy-Hg-centre", -11.5, fingerprint="other"), statics)


def test_a_finished_run_is_extended_from_where_it_ended(tmp_path):
    """A length that is no multiple of the interval ends on a short block; a longer run goes on from it."""
    run(SMOKE, tmp_path / "nvt", "xtb", "nvt", {"md": {"steps": 5, "interval": 2}}, None)
    longer = run(SMOKE, tmp_path / "nvt", "xtb", "nvt", {"md": {"steps": 9, "interval": 2}}, None)
    assert pd.read_csv(tmp_path / "nvt/steps.csv")["step"].tolist() == [0, 2, 4, 5, 7, 9]
    assert longer["steps"] == 9 and longer["frames"] == 6


def test_a_start_in_the_studys_box_keeps_it_to_the_final_frame(tmp_path):
    """The snapshot relaxation of an MD run's last frame then sits on the study's grid where the run was."""
    start = read(SMOKE)
    start.cell, start.pbc = [14.4, 14.4, 14.4], False
    start.center()
    write_xyz(tmp_path / "start.xyz", start)
    run(tmp_path / "start.xyz", tmp_path / "nvt", "xtb", "nvt", {"md": {"steps": 2, "interval": 2}}, None)
    final = read(tmp_path / "nvt" / "final.xyz")
    assert np.allclose(final.cell.lengths(), 14.4) and not final.pbc.any()


def test_a_run_from_another_start_is_never_resumed(tmp_path):
    """The start structure is part of the fingerprint: a run made from a structure that has since changed
    (a relaxation redone) is set aside, and the minimisation does not depend on the dynamics' settings."""
    from clusterdefects.md import engine_fingerprint

    settings = {"md": {"nve_steps": 2, "interval": 2}}
    run(SMOKE, tmp_path / "nve", "xtb", "nve", settings, None)
    moved = read(SMOKE)
    moved.positions[0] += 0.01
    write_xyz(tmp_path / "moved.xyz", moved)
    result = subprocess.run(md_command(tmp_path / "moved.xyz", tmp_path / "nve", "--ensemble", "nve", "--settings",
                                       json.dumps(settings)), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "other settings: moved to" in result.stdout and "resuming" not in result.stdout
    start = read(SMOKE)
    cold, hot = MDSettings(temperature=290.0), MDSettings(temperature=400.0, steps=9)
    assert engine_fingerprint("xtb", "min", cold, None, start, -1) == engine_fingerprint("xtb", "min", hot, None, start, -1)
    assert engine_fingerprint("xtb", "nvt", cold, None, start, -1) != engine_fingerprint("xtb", "nvt", hot, None, start, -1)
    assert engine_fingerprint("xtb", "nvt", cold, None, start, -1) != engine_fingerprint("xtb", "nvt", cold, None, moved, -1)


def test_drift_separates_the_starts_transient_from_the_late_slope():
    import numpy as np
    import pandas as pd

    from clusterdefects.md import drift

    t = np.arange(100.0)  # fs
    etot = np.where(t < 10, 0.004 * t, 0.04) + 1e-5 * (t - 50) / 50  # a 40 meV step, then 0.01 eV/ps
    d = drift(pd.DataFrame({"time_fs": t, "etot_eV": etot, "ekin_eV": np.ones_like(t)}), n_atoms=10)
    assert d["etot_change_eV"] > 0.039 and d["slope_eV_per_ps"] > 0.1
    assert abs(d["slope_second_half_eV_per_ps"] - 2e-4) < 1e-9 and d["etot_std_second_half_eV"] < 1e-9


def test_a_change_of_site_counts_only_once_it_lasts():
    """An atom hovering between its site and the empty one (A -> V -> A) is not a migration."""
    from clusterdefects.sitetrack import SiteTrack

    a, b = [0, 1], [2, 1]  # atom 0 on site 0, or on the empty site 2
    raw = SiteTrack(np.arange(7) * 10.0, np.array([a, b, a, b, b, b, b]), np.zeros(7),
                    SiteTemplate(np.zeros((3, 3)), ("icosahedral", "icosahedral", "centre")))
    settled = raw.settled(3)
    assert raw.changes() == 3 and settled.changes() == 1
    events = settled.migrations(np.array([5, 6]))
    assert [(e["time_fs"], e["atom"], e["from_class"], e["to_class"]) for e in events] == [(30.0, 5, "icosahedral", "centre")]


def test_the_spin_is_the_configs_not_the_start_files():
    """Initial moments left in a relaxed.xyz would make tblite (and GPAW's new code) polarise on their own."""
    from clusterdefects.md import calculator

    atoms = read(SMOKE)
    atoms.set_initial_magnetic_moments([1.0] * 2 + [0.0] * (len(atoms) - 2))
    charge = int(atoms.info["charge"])
    paired, moved = calculator("xtb", MDSettings(), charge, None, atoms, None, None)
    assert paired.parameters["multiplicity"] == 1 and not moved.get_initial_magnetic_moments().any()
    polarized, _ = calculator("xtb", MDSettings(spin="polarized"), charge, None, atoms, None, None)
    assert polarized.parameters["multiplicity"] in (2, 3)  # doublet or triplet by the electron count
    assert MDSettings(spin="polarized").physics("xtb", "min")["spin"] == "polarized"


def test_the_nvt_run_waits_for_a_stable_nve_check(tmp_path):
    """A time step whose NVE total energy strays as much as the kinetic energy fluctuates is refused
    before hours of NVT; the smoke cluster's own 1 fs check passes."""
    from clusterdefects.errors import InputError
    from clusterdefects.md import check_nve

    run(SMOKE, tmp_path / "nve", "xtb", "nve", SHORT, None)
    settings = MDSettings.from_config(SHORT["md"])
    assert check_nve(tmp_path / "nve/summary.json", settings) < settings.max_nve_excursion
    summary = json.loads((tmp_path / "nve/summary.json").read_text())
    summary["nve_drift"]["etot_max_excursion_eV"] = summary["nve_drift"]["ekin_std_eV"]
    (tmp_path / "bad.json").write_text(json.dumps(summary))
    with pytest.raises(InputError, match="not stable"):
        check_nve(tmp_path / "bad.json", settings)
    with pytest.raises(InputError, match="rerun the NVE check"):
        check_nve(tmp_path / "nve/summary.json", MDSettings.from_config({**SHORT["md"], "timestep": 0.5}))
    refused = subprocess.run(md_command(SMOKE, tmp_path / "nvt", "--settings", json.dumps(SHORT), "--nve-check",
                                        str(tmp_path / "bad.json")), capture_output=True, text=True)
    assert refused.returncode != 0 and "not stable" in refused.stderr and not (tmp_path / "nvt/md.traj").exists()
