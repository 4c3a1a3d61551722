"""The README's commands in the shells other users have: a cluster user's OMP_NUM_THREADS=1 (or
none), a checkout whose path has a space, snakemake started elsewhere with --directory, a non-root
user; and Snakemake's own conventions (snakefmt, --lint is in test_workflow)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import BIN, ROOT, scratch_checkout

TARGET = "results/smoke/relax/atom-Hg/result.json"
NON_ROOT_USER = "clusterdefects-test"


def shell_env(threads: str | None, **extra: str) -> dict[str, str]:
    """This environment with OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to ``threads`` or removed."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    if threads is not None:
        env.update(OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
    return {**env, **extra}


def test_snakefmt_finds_nothing_to_change():
    done = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("threads", ["1", None], ids=["OMP_NUM_THREADS=1", "threads-unset"])
def test_smoke_step_from_elsewhere_in_a_path_with_a_space(tmp_path, threads):
    workdir = tmp_path / "my checkout" / "cluster defects"
    workdir.mkdir(parents=True)
    scratch_checkout(workdir)
    done = subprocess.run([str(BIN / "snakemake"), "--directory", str(workdir), "-s", str(workdir / "Snakefile"),
                           "--cores", "2", "--config", "preset=smoke", "--", TARGET],
                          cwd=tmp_path, env=shell_env(threads, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (workdir / TARGET).is_file() and not (tmp_path / "results").exists()


def why_no_second_user() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create a second user"
    if not (shutil.which("useradd") and shutil.which("runuser")):
        return "no useradd/runuser here"
    return None


@pytest.mark.slow
def test_a_non_root_user_sets_up_and_runs_the_workflow():
    """As a user without root: setup.sh makes their own .venv (the Debian packages are there already)
    and a smoke relaxation runs; nothing in the workflow needs root."""
    reason = why_no_second_user()
    if reason:
        pytest.skip(reason)
    try:
        pwd.getpwnam(NON_ROOT_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", NON_ROOT_USER], check=True)
    home = Path(pwd.getpwnam(NON_ROOT_USER).pw_dir)
    base = Path(tempfile.mkdtemp(prefix="clusterdefects non root "))  # pytest's tmp folders are root's only
    try:
        run_as_non_root(base, home)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run_as_non_root(base: Path, home: Path) -> None:
    checkout = base / "clusterdefects"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and not name.startswith("results/") and (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    subprocess.run(["chown", "-R", NON_ROOT_USER, str(base)], check=True)
    base.chmod(0o755)
    env = ["env", "-i", f"HOME={home}", "PATH=/usr/local/bin:/usr/bin:/bin", "OMP_NUM_THREADS=1"]

    def as_user(*command: str, timeout: int) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", NON_ROOT_USER, "--", *env, *command], cwd=checkout,
                              capture_output=True, text=True, timeout=timeout)

    setup = as_user("bash", "scripts/setup.sh", timeout=1500)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]
    run = as_user(".venv/bin/snakemake", "--cores", "2", "--config", "preset=smoke", "--", TARGET, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (checkout / TARGET).stat().st_uid == pwd.getpwnam(NON_ROOT_USER).pw_uid


def test_rules_find_the_commands_of_the_python_running_snakemake():
    from clusterdefects.study import use_own_commands

    environ = {"PATH": "/usr/bin:/bin"}
    use_own_commands(environ, "/home/u/my env/bin/python")
    use_own_commands(environ, "/home/u/my env/bin/python")
    assert environ["PATH"] == f"/home/u/my env/bin{os.pathsep}/usr/bin:/bin"
