"""Real GPAW relaxations of the tiny Ag5(SH)4 cluster under MPI: kill and resume, SCF rescue ladder."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ase.io import read

from clusterdefects.build import build_ag5_sh4
from clusterdefects.dft import DFTSettings
from clusterdefects.fileio import write_xyz
from clusterdefects.checkpoint import checkpoint_identity, prepare_checkpoint
from clusterdefects.relax import RelaxSettings
from clusterdefects.results import RelaxResult
from clusterdefects.status import relaxation_status
from clusterdefects.mpi import MPI_ENVIRONMENT, gpaw_argv

BIN = Path(sys.executable).parent
MPI_ENV = dict(os.environ, **MPI_ENVIRONMENT, PYTHONUNBUFFERED="1")
TIGHT = {"dft": {"h": 0.3, "vacuum": 3.5, "convergence": {"energy": 1e-6, "density": 1e-6}},
         "relax": {"fmax": 0.25, "steps": 30}, "spin": "paired"}

pytestmark = pytest.mark.slow


@pytest.fixture
def start(tmp_path) -> Path:
    atoms = build_ag5_sh4()
    atoms.info = {"charge": -1, "structure_id": "parent"}
    return write_xyz(tmp_path / "start.xyz", atoms)


def relax_cmd(start: Path, outdir: Path, settings: dict) -> list[str]:
    return gpaw_argv("relax", [start, outdir, "--settings", json.dumps(settings)], ranks=2, environ={})


def run(start, outdir, settings) -> subprocess.CompletedProcess:
    return subprocess.run(relax_cmd(start, outdir, settings), env=MPI_ENV, capture_output=True, text=True,
                          timeout=900)


def status_of(outdir: Path, settings: dict):
    """What `clusterdefects status` says of this relaxation."""
    fingerprint = DFTSettings.from_config(settings["dft"]).fingerprint()
    optimizer = RelaxSettings.from_config(settings["relax"]).optimizer
    return relaxation_status("parent", outdir, outdir / "rule.log", fingerprint, optimizer)


def kill_at_step(start: Path, outdir: Path, settings: dict, step: int, seen: list | None = None) -> int:
    """Start a relaxation, SIGKILL it once it has saved ``step`` steps; returns the steps saved.
    ``seen`` gets the relaxation's status just before the kill."""
    progress = outdir / "checkpoint" / "paired" / "progress.json"
    proc = subprocess.Popen(relax_cmd(start, outdir, settings), env=MPI_ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline:
        if progress.is_file() and json.loads(progress.read_text())["steps"] >= step:
            break
        time.sleep(0.2)
    if seen is not None:
        seen.append(status_of(outdir, settings))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return json.loads(progress.read_text())["steps"]


def test_killed_relaxation_resumes_from_its_last_step(start, tmp_path):
    whole = run(start, tmp_path / "whole", TIGHT)
    assert whole.returncode == 0, whole.stderr[-2000:]
    reference = RelaxResult.read(tmp_path / "whole" / "result.json")
    assert reference.converged and reference.steps >= 4

    outdir = tmp_path / "killed"
    seen = []
    steps_at_kill = kill_at_step(start, outdir, TIGHT, 2, seen)
    assert 2 <= steps_at_kill < reference.steps
    assert not (outdir / "result.json").exists()
    assert seen[0].state == "running" and seen[0].step >= 2
    for _ in range(50):  # `clusterdefects status` tells the killed run from a live one once its ranks are gone
        after = status_of(outdir, TIGHT)
        if after.state != "running":
            break
        time.sleep(0.2)
    assert (after.state, after.step) == ("stopped", steps_at_kill), after

    resumed = run(start, outdir, TIGHT)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming paired from step" in resumed.stdout
    result = RelaxResult.read(outdir / "result.json")
    assert result.steps == reference.steps
    assert abs(result.energy - reference.energy) < 1e-4
    relaxed = read(outdir / "relaxed.xyz")
    assert abs(relaxed.get_potential_energy() - result.energy) < 1e-9
    assert status_of(outdir, TIGHT).state == "done" and not (outdir / "running.json").exists()
    assert result.fingerprint == reference.fingerprint and result.mpi_ranks == 2

    again = run(start, outdir, TIGHT)  # a state that ended is taken from its checkpoint: no fresh SCF
    assert again.returncode == 0, again.stderr[-2000:]
    assert "taken from the checkpoint, no DFT call" in again.stdout
    assert RelaxResult.read(outdir / "result.json").energy == result.energy


def test_killing_the_gpaw_command_ends_every_rank(start, tmp_path):
    """`clusterdefects gpaw` becomes the MPI launcher: a signal to it (Snakemake stopping a job, Ctrl-C)
    ends the ranks too, and no orphaned relaxation keeps the cores."""
    outdir = tmp_path / "run"
    cmd = [str(BIN / "clusterdefects"), "gpaw", "--ranks", "2", "--mpi", "mpiexec", "relax", "--", str(start),
           str(outdir), "--settings", json.dumps(TIGHT)]
    proc = subprocess.Popen(cmd, env=MPI_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    progress = outdir / "checkpoint" / "paired" / "progress.json"
    deadline = time.time() + 300
    while not progress.is_file() and time.time() < deadline:
        time.sleep(0.2)
    assert progress.is_file()
    proc.send_signal(signal.SIGTERM)  # the command's own pid, not its process group
    proc.wait(timeout=60)
    for _ in range(50):
        alive = subprocess.run(["pgrep", "-f", str(outdir)], capture_output=True, text=True).stdout.split()
        if not alive:
            break
        time.sleep(0.2)
    assert not alive, "ranks outlived the killed command"
    assert proc.stdout.read().decode().startswith("clusterdefects gpaw: mpiexec -n 2 ")


def test_killed_lbfgs_family_run_resumes_with_a_fresh_memory(start, tmp_path):
    settings = {**TIGHT, "relax": {**TIGHT["relax"], "optimizer": "PreconLBFGS"}}
    whole = run(start, tmp_path / "whole", settings)
    assert whole.returncode == 0, whole.stderr[-2000:]
    reference = RelaxResult.read(tmp_path / "whole" / "result.json")
    outdir = tmp_path / "killed"
    steps_at_kill = kill_at_step(start, outdir, settings, 2)
    assert steps_at_kill < reference.steps
    assert (outdir / "checkpoint" / "paired" / "optimizer.json").exists()
    energy_at_kill = read(outdir / "checkpoint" / "paired" / "relax.traj", -1).get_potential_energy()

    resumed = run(start, outdir, settings)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming paired from step {steps_at_kill}" in resumed.stdout
    result = RelaxResult.read(outdir / "result.json")
    assert result.converged and result.optimizer == "PreconLBFGS"
    # The fresh memory takes its own path down, to a minimum within the loose fmax of the reference's.
    assert result.steps > steps_at_kill and result.energy < energy_at_kill
    assert abs(result.energy - reference.energy) < 0.05


def test_scf_failure_climbs_the_ladder_then_stops_clearly(start, tmp_path):
    settings = {**TIGHT, "dft": {**TIGHT["dft"], "maxiter": 2}}
    result = run(start, tmp_path / "fail", settings)
    assert result.returncode != 0
    ladder = [line for line in result.stdout.splitlines() if "SCF not converged with" in line]
    assert [line.split("'")[1] for line in ladder] == [
        "as configured", "softer mixer, twice the iterations", "softer mixer and 0.1 eV Fermi smearing"]
    errors = [line for line in result.stderr.splitlines() if "clusterdefects.relax: error" in line]
    assert len(errors) == 1 and "SCF did not converge on any rung" in errors[0] and "Fix:" in errors[0]
    assert str(start) in errors[0]
    assert not (tmp_path / "fail" / "result.json").exists()


def test_stale_checkpoint_is_moved_aside(tmp_path):
    atoms = build_ag5_sh4()
    workdir = tmp_path / "checkpoint" / "paired"
    prepare_checkpoint(workdir, checkpoint_identity(atoms, DFTSettings(), "BFGS", "paired", -1))
    (workdir / "relax.traj").write_text("old")
    prepare_checkpoint(workdir, checkpoint_identity(atoms, DFTSettings(), "BFGS", "paired", -1))
    assert (workdir / "relax.traj").exists()  # same identity: kept
    prepare_checkpoint(workdir, checkpoint_identity(atoms, DFTSettings(h=0.18), "BFGS", "paired", -1))
    assert not (workdir / "relax.traj").exists()
    assert (tmp_path / "checkpoint" / "paired.stale" / "relax.traj").exists()


def test_a_run_at_other_settings_goes_on_from_the_stale_checkpoints_last_frame(tmp_path):
    """continue_from: the same start, spin and charge at other settings or in another box: go on from its
    last frame, moved as the start was moved into the new box (also when the first try was killed before
    its first frame);
    another start, or nothing moved aside: nothing to go on from."""
    from ase.io.trajectory import Trajectory

    from clusterdefects.checkpoint import continue_from

    atoms = build_ag5_sh4()
    workdir = tmp_path / "checkpoint" / "paired"
    old = checkpoint_identity(atoms, DFTSettings(), "FIRE", "paired", -1)
    new = checkpoint_identity(atoms, DFTSettings(h=0.18), "PreconLBFGS", "paired", -1, box=[20.0] * 3)
    prepare_checkpoint(workdir, new)
    assert continue_from(atoms.copy(), workdir, new) is None  # nothing moved aside
    prepare_checkpoint(workdir, old)
    moved = atoms.copy()
    moved.positions += 0.1
    with Trajectory(str(workdir / "relax.traj"), "w") as traj:
        traj.write(atoms)  # its start, as placed in the old box
        traj.write(moved)
    (workdir / "progress.json").write_text(json.dumps({"steps": 1, "force_calls": 3, "wall_time_s": 9.0}))
    prepare_checkpoint(workdir, new)
    for _ in range(2):  # the second time: as after a run killed before its first frame
        here = atoms.copy()
        here.positions += 2.0  # the same start placed in the new box
        assert continue_from(here, workdir, new) == {
            "fingerprint": old["fingerprint"], "box": old["box"], "optimizer": "FIRE", "steps": 1, "force_calls": 3,
            "scf_iterations": 0, "wall_time_s": 9.0}
        assert abs(here.positions - (moved.positions + 2.0)).max() < 1e-12  # the last frame, moved as its start was
        prepare_checkpoint(workdir, new)
    other_start = checkpoint_identity(moved, DFTSettings(h=0.18), "PreconLBFGS", "paired", -1)
    assert continue_from(atoms.copy(), workdir, other_start) is None


def test_a_finished_run_goes_on_at_new_settings_when_asked(start, tmp_path):
    """Real GPAW: a relaxation cut at its step limit, rerun with other SCF settings and
    continue_other_settings, starts where the old one stopped and says so in result.json."""
    short = {**TIGHT, "relax": {**TIGHT["relax"], "steps": 2}}
    assert run(start, tmp_path / "r", short).returncode == 0
    old = RelaxResult.read(tmp_path / "r" / "result.json")
    last = read(tmp_path / "r" / "checkpoint" / "paired" / "relax.traj", -1)
    changed = {**TIGHT, "dft": {**TIGHT["dft"], "convergence": {"energy": 1e-5, "density": 1e-6}},
               "relax": {**TIGHT["relax"], "steps": 2, "continue_other_settings": True}}
    again = run(start, tmp_path / "r", changed)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"goes on from step {old.steps} of its run at other settings" in again.stdout
    result = RelaxResult.read(tmp_path / "r" / "result.json")
    assert result.fingerprint != old.fingerprint
    assert result.continued_from["fingerprint"] == old.fingerprint and result.continued_from["steps"] == old.steps
    first = read(tmp_path / "r" / "checkpoint" / "paired" / "relax.traj", 0)
    assert abs(first.positions - last.positions).max() < 1e-9  # where the old run stopped, in the same box


def bfgs_run(restart):
    """A rattled Cu13 icosahedron after 8 EMT BFGS steps, and the Hessian its restart file holds."""
    from ase.calculators.emt import EMT
    from ase.cluster import Icosahedron
    from ase.optimize import BFGS

    atoms = Icosahedron("Cu", 2)
    atoms.rattle(0.05, seed=1)
    atoms.calc = EMT()
    BFGS(atoms, restart=str(restart), logfile=None).run(fmax=0.05, steps=8)
    return atoms, read_json_h(restart)


def test_second_spin_state_starts_from_the_first_ones_hessian(tmp_path):
    """seed_hessian: the new run's first step uses the old Hessian, untouched by the old forces."""
    import numpy as np
    from ase.optimize import BFGS

    from clusterdefects.checkpoint import seed_hessian

    atoms, first_h = bfgs_run(tmp_path / "first.json")
    atoms.rattle(0.02, seed=2)
    assert seed_hessian(tmp_path / "second.json", tmp_path / "first.json", atoms)
    second = BFGS(atoms, restart=str(tmp_path / "second.json"), logfile=None)
    second.step()
    assert np.allclose(read_json_h(tmp_path / "second.json"), first_h)  # no update on the first step
    assert not seed_hessian(tmp_path / "third.json", tmp_path / "first.json", atoms[:-1])  # other size
    assert not (tmp_path / "third.json").exists()


def test_vacancy_starts_from_its_doped_isomers_hessian_without_the_removed_atom(tmp_path):
    import numpy as np

    from clusterdefects.checkpoint import seed_hessian

    doped, full = bfgs_run(tmp_path / "doped.json")
    vacancy = doped.copy()
    del vacancy[5]
    assert seed_hessian(tmp_path / "vacancy.json", tmp_path / "doped.json", vacancy, drop_atom=5)
    keep = [i for i in range(3 * len(doped)) if i // 3 != 5]
    assert np.allclose(read_json_h(tmp_path / "vacancy.json"), full[np.ix_(keep, keep)])


def test_only_vacancies_take_another_relaxations_hessian():

    from clusterdefects.study import CONFIG_FILE, load_study, read_config
    from conftest import ROOT

    study = load_study(read_config(ROOT / CONFIG_FILE), "screen")
    assert study.hessian_flag("vacancy-Hg-crown") == "--hessian-from results/screen/relax/doped-Hg-crown"
    assert study.hessian_flag("doped-Hg-crown") == study.hessian_flag("parent") == ""


def read_json_h(path):
    from ase.io.jsonio import read_json

    with open(path) as fd:
        return read_json(fd)[0]


@pytest.mark.parametrize("optimizer", ["BFGS", "PreconLBFGS"])
def test_force_calls_count_every_scf_the_optimizer_asks_for(start, tmp_path, optimizer):
    settings = {**TIGHT, "relax": {"optimizer": optimizer, "fmax": 0.25, "steps": 8}}
    done = run(start, tmp_path / optimizer, settings)
    assert done.returncode == 0, done.stderr[-2000:]
    result = RelaxResult.read(tmp_path / optimizer / "result.json")
    logs = "".join(p.read_text() for p in (tmp_path / optimizer / "logs").glob("gpaw-*.txt"))
    scf_runs = [int(n) for n in re.findall(r"^Converged in (\d+) steps", logs, flags=re.M)]
    assert result.force_calls == len(scf_runs) >= result.steps + 1
    assert result.scf_iterations == sum(scf_runs)



def test_an_odd_electron_count_relaxes_only_its_doublet():
    from clusterdefects.errors import InputError
    from clusterdefects.relax import spin_states

    assert spin_states("lowest") == ["paired", "polarized"]
    assert spin_states("lowest", odd_electrons=True) == ["polarized"]
    assert spin_states("polarized", odd_electrons=True) == ["polarized"]
    with pytest.raises(InputError, match="odd electron count"):
        spin_states("paired", odd_electrons=True)


def test_the_kept_spin_state_is_the_lowest_at_the_configured_settings():
    """A state whose SCF needed the smearing rung has other energy settings: it is not compared."""
    from dataclasses import replace

    from ase import Atoms

    from clusterdefects.checkpoint import Progress
    from clusterdefects.dft import SCF_LADDER, apply_rung
    from clusterdefects.relax import StateResult, kept_state

    configured = DFTSettings()
    smeared = apply_rung(configured, SCF_LADDER[-1])
    assert smeared.fingerprint() != configured.fingerprint()

    def state(spin, energy, settings):
        return StateResult(spin, Atoms("H"), energy, 0.01, True, 0.0, settings, Progress())

    paired, polarized = state("paired", -10.0, smeared), state("polarized", -9.9, configured)
    assert kept_state([paired, polarized], configured) is polarized
    both_smeared = [paired, state("polarized", -10.1, smeared)]
    assert kept_state(both_smeared, configured).spin == "polarized"  # one set shared by both: compared
    with pytest.raises(RuntimeError, match="different SCF-ladder settings"):
        kept_state([paired, state("polarized", -9.0, replace(smeared, occupations={"name": "fermi-dirac",
                                                                                   "width": 0.05}))], configured)


def test_an_unknown_metal_has_no_silent_valence():
    from ase import Atoms

    from clusterdefects.elements import doped_charge
    from clusterdefects.validate import superatom_electrons

    assert doped_charge(-3, "Ag", "Ni") == -4
    with pytest.raises(ValueError, match="no superatom valence for Ga"):
        superatom_electrons(Atoms("Ag12Ga"), -3, 0)
    assert superatom_electrons(Atoms("Ag13SH"), -3, 1) == 13 - 1 + 3
