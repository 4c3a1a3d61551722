"""`clusterdefects status`: the state of each relaxation from its files alone (hand-made folders)."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io.trajectory import Trajectory

from clusterdefects.results import RelaxResult
from clusterdefects.status import (RUNNING_FILE, format_search, format_status, relaxation_status, search_status,
                                   step_files, study_status)
from clusterdefects.study import load_study, read_config

FP, OPT = "abc123", "PreconLBFGS"


def checkpoint(folder: Path, spin: str = "paired", fmaxes=(0.9, 0.5, 0.3), fingerprint: str = FP) -> Path:
    """A checkpoint as relax.py leaves it: identity, progress, a trajectory with energies and forces."""
    state = folder / "checkpoint" / spin
    state.mkdir(parents=True)
    (state / "identity.json").write_text(json.dumps({"fingerprint": fingerprint, "optimizer": OPT}))
    (state / "progress.json").write_text(json.dumps({"steps": len(fmaxes) - 1, "force_calls": len(fmaxes) + 1,
                                                      "wall_time_s": 600.0}))
    with Trajectory(str(state / "relax.traj"), "w") as traj:
        for k, fmax in enumerate(fmaxes):
            atoms = Atoms("Ag2", positions=[[0, 0, 0], [0, 0, 2.8]])
            forces = np.zeros((2, 3))
            forces[0, 2] = fmax
            atoms.calc = SinglePointCalculator(atoms, energy=-10.0 - k, forces=forces)
            traj.write(atoms)
    return state


def marker(folder: Path, pid: int) -> None:
    (folder / RUNNING_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": pid, "slurm_job_id": None}))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_each_state_from_the_files(tmp_path):
    log = tmp_path / "rule.log"
    assert relaxation_status("x", tmp_path / "none", log, FP, OPT).state == "waiting"

    running = tmp_path / "running"
    checkpoint(running)
    marker(running, subprocess.os.getpid())
    r = relaxation_status("x", running, log, FP, OPT)
    assert (r.state, r.spin, r.step, r.dft_calls) == ("running", "paired", 2, 4)
    assert r.energy == -12.0 and np.allclose(r.fmax_trend, [0.9, 0.5, 0.3]) and r.elapsed_s >= 600

    killed = tmp_path / "killed"
    checkpoint(killed)
    marker(killed, dead_pid())
    assert relaxation_status("x", killed, log, FP, OPT).state == "stopped"

    no_marker = tmp_path / "no-marker"  # a checkpoint just cloned or copied: fresh files, no run
    checkpoint(no_marker)
    assert relaxation_status("x", no_marker, log, FP, OPT).state == "stopped"

    elsewhere = tmp_path / "elsewhere"  # a run on another host: judged by how long ago it wrote
    state = checkpoint(elsewhere)
    (elsewhere / RUNNING_FILE).write_text(json.dumps({"host": "another-node", "pid": 1, "slurm_job_id": None}))
    assert relaxation_status("x", elsewhere, log, FP, OPT).state == "running"
    later = state.stat().st_mtime + 3600
    assert relaxation_status("x", elsewhere, log, FP, OPT, now=later).state == "stopped"

    stale = tmp_path / "stale"
    checkpoint(stale, fingerprint="other")
    assert relaxation_status("x", stale, log, FP, OPT).state == "stale"

    log.write_text("start\nclusterdefects.relax: error: start.xyz: SCF did not converge\n")
    failed = relaxation_status("x", tmp_path / "failed", log, FP, OPT)
    assert failed.state == "failed" and "SCF did not converge" in failed.note

    done = tmp_path / "done"
    done.mkdir()
    RelaxResult("x", "Ag2", 0, -20.5, True, 0.04, FP, optimizer=OPT, spin_state="polarized", steps=7,
                force_calls=9, wall_time_s=1800.0, mpi_ranks=2).write(done / "result.json")
    r = relaxation_status("x", done, log, FP, OPT)
    assert (r.state, r.spin, r.step, r.energy, r.dft_calls) == ("done", "polarized", 7, -20.5, 9)
    assert relaxation_status("x", done, log, "other", OPT).state == "stale"
    assert relaxation_status("x", done, log, FP, OPT, spin_policy="lowest").state == "stale"  # made "paired"
    assert relaxation_status("x", done, log, FP, OPT, spin_policy="paired").state == "done"
    (done / "result.json").write_text("{broken")
    assert relaxation_status("x", done, log, FP, OPT).state == "failed"


def test_a_relaxation_that_went_on_with_the_fallback_optimizer_says_from_which_step(tmp_path):
    state = checkpoint(tmp_path / "running")
    progress = json.loads((state / "progress.json").read_text())
    (state / "progress.json").write_text(json.dumps({**progress, "fallback_at_step": 1}))
    marker(tmp_path / "running", subprocess.os.getpid())
    r = relaxation_status("x", tmp_path / "running", tmp_path / "log", FP, OPT)
    assert r.state == "running" and r.note.startswith("ODE12r from step 1")  # a checkpoint that names no fallback
    done = tmp_path / "done"
    done.mkdir()
    RelaxResult("x", "Ag2", 0, -20.5, True, 0.04, FP, optimizer=OPT, optimizer_fallback_at_step=33).write(
        done / "result.json")
    assert relaxation_status("x", done, tmp_path / "log", FP, OPT).note.startswith("ODE12r from step 33")


def test_second_spin_state_is_the_current_one_and_elapsed_sums_both(tmp_path):
    checkpoint(tmp_path, "paired", (0.2, 0.04))
    polarized = checkpoint(tmp_path, "polarized", (0.3,))
    marker(tmp_path, subprocess.os.getpid())
    for f in polarized.iterdir():  # written after the paired state
        f.touch()
    r = relaxation_status("vacancy", tmp_path, tmp_path / "log", FP, OPT)
    assert r.spin == "polarized" and r.step == 0 and r.elapsed_s >= 1200


def test_elapsed_leaves_out_a_spin_state_left_from_other_settings(tmp_path):
    checkpoint(tmp_path, "polarized", (0.3,), fingerprint="old")  # an earlier run's, redone when it is reached
    paired = checkpoint(tmp_path, "paired", (0.2, 0.04))
    marker(tmp_path, subprocess.os.getpid())
    for f in paired.iterdir():
        f.touch()
    r = relaxation_status("vacancy", tmp_path, tmp_path / "log", FP, OPT)
    assert r.state == "running" and r.spin == "paired" and 600 <= r.elapsed_s < 1200


def test_study_table_and_totals(tmp_path):
    study = load_study(read_config(), "smoke")
    results = tmp_path / "results"
    relax = results / "smoke" / "relax"
    from clusterdefects.dft import DFTSettings

    fp = DFTSettings.from_config(study.settings["dft"]).fingerprint()
    (relax / "parent").mkdir(parents=True)
    RelaxResult("parent", "Ag5H4S4", -1, -30.0, True, 0.1, fp, optimizer="BFGS", steps=3, force_calls=4,
                wall_time_s=3600.0, mpi_ranks=2).write(relax / "parent" / "result.json")
    checkpoint(relax / "doped-Hg-centre", fingerprint=fp)
    for site, made in (("centre", fp), ("kernel", "older")):  # one basin check at these settings, one at others
        (results / "smoke" / "basin_check" / f"doped-Hg-{site}").mkdir(parents=True)
        (results / "smoke" / "basin_check" / f"doped-Hg-{site}" / "basin.json").write_text(
            json.dumps({"fingerprint": made}))
    rows = study_status(study, results)
    text = format_status(rows, study, step_files(study, results))
    assert [r.state for r in rows][:2] == ["done", "stale"]  # the checkpoint's optimizer is not smoke's BFGS
    assert text.splitlines()[3].split()[:3] == ["parent", "done", "paired"]
    assert "relaxations done 1/9 (1 stale, 7 waiting); basin checks 1/4 (1 stale), counterpoise 0/2" in text
    assert text.splitlines()[-1].endswith("CPU time so far 2.33 core-hours")  # (3600 + 600) s x 2 ranks


def test_parent_search_candidates_that_have_begun_are_listed_below_the_study(tmp_path):
    study = load_study(read_config(), "smoke")
    results = tmp_path / "results"
    assert format_search(search_status(study, results), study) == []  # nothing begun: no lines
    candidate = study.search_ids()[0]
    checkpoint(results / "smoke" / "relax" / candidate)
    lines = format_search(search_status(study, results), study)
    assert lines[0] == f"parent search: 0/{len(study.search_ids())} candidates done, 1 begun"
    assert [line.split()[0] for line in lines[1:]] == [candidate]


def test_md_status_names_a_stage_of_other_settings_or_another_start(tmp_path):
    """A finished xTB minimisation is 'done' while its start and settings are the study's; once the start
    changes (a relaxation redone) status says the next run begins it afresh."""
    from ase.io import read

    from clusterdefects.fileio import write_xyz
    from clusterdefects.md import run
    from clusterdefects.status import md_status
    from conftest import ROOT

    study = load_study(read_config(ROOT / "config" / "config.yaml"), "smoke")
    sid = study.md_runs()[0][1]
    start = tmp_path / Path(study.md_start(sid)).relative_to("results")
    start.parent.mkdir(parents=True)
    atoms = read(ROOT / "structures" / "Ag5_SH4.xyz")
    atoms.info.update(charge=-1, structure_id=sid)
    write_xyz(start, atoms)
    run(start, tmp_path / study.preset / "md" / "xtb" / sid / "min", "xtb", "min", study.md_config("xtb", "min"), None)
    assert md_status(study, tmp_path) == [f"md xtb {sid}: min done"]
    atoms.positions[0] += 0.05
    write_xyz(start, atoms)
    assert md_status(study, tmp_path) == [f"md xtb {sid}: min stale (the next run begins it afresh)"]
