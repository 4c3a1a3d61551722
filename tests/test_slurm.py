"""The workflow on a real single-node SLURM (scripts/slurm-localhost.sh): job ids, srun with 2 MPI
ranks, the same energies as a local run, and a time-limited job resumed from its checkpoint."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from clusterdefects.results import RelaxResult
from conftest import ROOT, scratch_checkout, snakemake

pytestmark = pytest.mark.slow  # a real SLURM cluster and GPAW jobs on it

SCRIPT = ROOT / "scripts" / "slurm-localhost.sh"
STATE = Path(os.environ.get("CLUSTERDEFECTS_SLURM_DIR", "/tmp/clusterdefects-slurm"))
# Poll squeue every 5 s instead of the profile's cluster-friendly defaults: the jobs here are short.
QUICK = ("--profile", "profiles/slurm", "--slurm-init-seconds-before-status-checks", "5",
         "--seconds-between-status-checks", "5", "--slurm-keep-successful-logs")
SMOKE_RELAXATIONS = {"parent", "doped-Hg-centre", "doped-Hg-kernel", "doped-Au-centre", "doped-Au-kernel",
                     "vacancy-Hg-centre", "vacancy-Hg-kernel", "atom-Hg", "atom-Au"}
TIMELIMIT_PRESET = """\
presets:
  timelimit:
    description: "the smoke cluster on a finer grid, relaxed tightly: several minutes, more than a 1-min limit"
    system: Ag5_SH4
    # A tight SCF: fmax 0.01 needs forces good to far below it, or BFGS wanders on the SCF noise.
    dft: {h: 0.2, vacuum: 3.5, occupations: {name: fermi-dirac, width: 0.1},
          convergence: {energy: 0.000001, density: 0.000001}}
    # No displacement of its Td start: displaced, the cluster rearranges (1.1 eV lower, >100 steps) and the
    # resumed job would not finish in its 10 minutes; this test is about resuming, not about that search.
    relax: {fmax: 0.01, steps: 200, displace: 0.0}
    resources: {tasks: 2, mem_mb: 1000, runtime: 1}
"""


def why_slurm_cannot_run() -> str | None:
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        return "not root and no sudo, so SLURM's daemons cannot be started"
    if shutil.which("slurmctld") is None and shutil.which("apt-get") is None:
        return "SLURM is not installed and there is no apt-get to install it"
    return None


def daemons_running() -> bool:
    pidfile = STATE / "slurmctld.pid"
    try:
        os.kill(int(pidfile.read_text()), 0)
        return True
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="module")
def slurm():
    """A single-node SLURM on this machine; stopped afterwards unless it was running before."""
    reason = why_slurm_cannot_run()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must test the SLURM profile, but {reason}")
    if reason:
        pytest.skip(f"SLURM cannot be installed here: {reason}")
    ours = not daemons_running()
    # Started from a cluster user's shell (OMP_NUM_THREADS=1): the node must still get every core.
    started = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=600,
                             env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert started.returncode == 0, started.stdout + started.stderr
    node_cpus = re.search(r"^NodeName=.* CPUs=(\d+)", (STATE / "slurm.conf").read_text(), re.M)
    assert node_cpus and int(node_cpus[1]) == os.cpu_count(), "the node must have every core of the machine"
    yield STATE / "jobcomp.log"
    if ours:
        stopped = subprocess.run(["bash", str(SCRIPT), "stop"], capture_output=True, text=True, timeout=120)
        assert stopped.returncode == 0, stopped.stderr
        assert not daemons_running()


def submitted(output: str) -> dict[str, str]:
    """SLURM job id of each relaxation, from snakemake's 'submitted with SLURM jobid' lines."""
    pattern = r"submitted with SLURM jobid (\d+) \(log: \S*/rule_relax/\w+?_(\S+)/\d+\.log\)"
    return {sid: jobid for jobid, sid in re.findall(pattern, output)}


def job_records(jobcomp: Path) -> dict[str, dict[str, str]]:
    """SLURM's own record of finished jobs (jobcomp/filetxt: one 'Key=Value ...' line per job)."""
    records = {}
    for line in jobcomp.read_text().splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        records[fields["JobId"]] = fields
    return records


def energies(workdir: Path, preset: str) -> dict[str, RelaxResult]:
    return {p.parent.name: RelaxResult.read(p) for p in (workdir / f"results/{preset}/relax").glob("*/result.json")}


@pytest.fixture(scope="module")
def slurm_run(slurm, tmp_path_factory):
    """The smoke preset through `snakemake --profile profiles/slurm`."""
    workdir = scratch_checkout(tmp_path_factory.mktemp("smoke-slurm"))
    t0 = time.perf_counter()
    # About 15 min alone on 2 cores (62 jobs, dopant scan included); 30 min beside a niced DFT job.
    result = snakemake(workdir, *QUICK, "--config", "preset=smoke", timeout=3000)
    wall = time.perf_counter() - t0
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir, result.stdout + result.stderr, wall


def test_smoke_relaxations_ran_as_slurm_jobs_with_two_mpi_ranks(slurm, slurm_run, capsys):
    workdir, output, _ = slurm_run
    jobs = submitted(output)
    assert set(jobs) == SMOKE_RELAXATIONS
    records = job_records(slurm)
    for sid, jobid in sorted(jobs.items(), key=lambda kv: int(kv[1])):
        record = records[jobid]
        assert record["JobState"] == "COMPLETED" and record["ProcCnt"] == "2", record
        log = (workdir / f"results/smoke/logs/relax-{sid}.log").read_text()
        assert log.startswith("clusterdefects gpaw: srun -n 2 ") and "gpaw python -m clusterdefects.relax" in log
        with capsys.disabled():
            print(f"\nSLURM job {jobid}: relax {sid}, {record['JobState']}, {record['ProcCnt']} CPUs, "
                  f"{record['StartTime']} -> {record['EndTime']}", end="")
    assert all(r.mpi_ranks == 2 for r in energies(workdir, "smoke").values())


def test_slurm_energies_equal_the_local_run(slurm_run, smoke_run, capsys):
    workdir, _, wall = slurm_run
    on_slurm, local = energies(workdir, "smoke"), energies(smoke_run.workdir, "smoke")
    assert set(on_slurm) == set(local) == SMOKE_RELAXATIONS
    for sid in sorted(local):
        a, b = on_slurm[sid], local[sid]
        assert a.fingerprint == b.fingerprint
        # Same start, settings and ranks; runs differ only by SCF noise (convergence 5e-4 eV). Relaxations
        # that stop at the 20-step limit on a flat surface may end at different points, so only those
        # converged in both runs are compared.
        if a.converged and b.converged:
            assert abs(a.energy - b.energy) < 1e-3, (sid, a.energy, b.energy)
    with capsys.disabled():
        print(f"\nsmoke study wall time: SLURM {wall:.0f} s, local {smoke_run.wall_s:.0f} s, "
              f"ratio {wall / smoke_run.wall_s:.2f}")


def test_time_limited_job_resumes_from_its_checkpoint(slurm, tmp_path, capsys):
    workdir = scratch_checkout(tmp_path)
    (workdir / "timelimit.yaml").write_text(TIMELIMIT_PRESET)
    args = (*QUICK, "--configfile", "config/config.yaml", "timelimit.yaml", "--config", "preset=timelimit", "--")
    target = "results/timelimit/relax/parent/result.json"

    killed = snakemake(workdir, *args, target, timeout=900)
    assert killed.returncode != 0 and "SLURM status is: 'TIMEOUT'" in killed.stdout + killed.stderr
    first = submitted(killed.stdout + killed.stderr)["parent"]
    assert job_records(slurm)[first]["JobState"] == "TIMEOUT"
    progress = json.loads((workdir / "results/timelimit/relax/parent/checkpoint/paired/progress.json").read_text())
    assert progress["steps"] >= 1 and not (workdir / target).exists()

    resumed = snakemake(workdir, *args[:-1], "--set-resources", "relax:runtime=10", "--", target, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    second = submitted(resumed.stdout + resumed.stderr)["parent"]
    assert job_records(slurm)[second]["JobState"] == "COMPLETED"
    log = (workdir / "results/timelimit/logs/relax-parent.log").read_text()
    assert f"resuming paired from step {progress['steps']}" in log
    result = RelaxResult.read(workdir / target)
    # The resumed job computed forces again (even if the killed one had just reached the minimum).
    assert result.converged and result.force_calls > progress["force_calls"]
    with capsys.disabled():
        print(f"\nSLURM job {first} TIMEOUT after {progress['steps']} steps; job {second} resumed "
              f"({log.splitlines()[0]}) and converged at step {result.steps}", end="")


def test_a_job_larger_than_the_node_fails_at_once_with_slurms_reason(slurm, tmp_path, capsys):
    """A request no node can meet is refused at submission (EnforcePartLimits), not left PENDING."""
    workdir = scratch_checkout(tmp_path)
    t0 = time.perf_counter()
    result = snakemake(workdir, *QUICK, "--config", "preset=smoke", "--set-resources", "relax:tasks=64", "--",
                       "results/smoke/relax/parent/result.json", timeout=120)
    wall = time.perf_counter() - t0
    output = result.stdout + result.stderr
    assert result.returncode != 0 and wall < 60, (wall, output[-2000:])
    reason = re.search(r"sbatch: error: (.*?)'", output)
    assert reason and "More processors requested than permitted" in reason[1], output[-2000:]
    with capsys.disabled():
        print(f"\nrelax with tasks=64 on a {os.cpu_count()}-CPU node: failed after {wall:.1f} s: {reason[1]}", end="")
