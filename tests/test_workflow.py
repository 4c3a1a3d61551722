"""The Snakemake workflow, run for real in a scratch copy of the repository."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from ase.io import read

from conftest import ROOT

BIN = Path(sys.executable).parent
ISOMER = "results/screen/relax/doped-Hg-crown/start.xyz"


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([str(BIN / "snakemake"), "--cores", "2", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch checkout: Snakefile, config, rules, package and structures."""
    d = tmp_path_factory.mktemp("wf")
    for name in ("Snakefile", "config", "workflow", "structures", "envs"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, d / name)
    return d


@pytest.fixture(scope="module")
def ran(workdir) -> Path:
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_dry_run_shows_the_whole_dag(workdir):
    result = snakemake(workdir, "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr
    counts = dict(line.split()[:2] for line in result.stdout.splitlines() if line.split()[:1]
                  and line.split()[0] in {"parent", "sites", "doped_start", "vacancy_start", "atom_start", "total"})
    assert counts == {"parent": "1", "sites": "1", "doped_start": "4", "vacancy_start": "4", "atom_start": "1",
                      "total": "12"}


def test_lint_is_clean(workdir):
    result = snakemake(workdir, "--lint")
    assert result.returncode == 0 and "Congratulations" in result.stdout + result.stderr, result.stdout


def test_full_run_makes_every_isomer(ran):
    sites = pd.read_csv(ran / "results/screen/sites.csv")
    assert dict(zip(sites["class"], sites["multiplicity"])) == {"centre": 1, "icosahedral": 12, "tetrahedral": 4, "crown": 12}
    assert list(sites["paper_label"]) == ["Iso1", "Iso2", "Iso3", "Iso4"]
    parent = read(ran / "results/screen/relax/parent/start.xyz")
    assert parent.get_chemical_formula("metal") == "Ag29C72H48S24" and len(parent) == 173
    for site in sites["class"]:
        doped = read(ran / f"results/screen/relax/doped-Hg-{site}/start.xyz")
        vacancy = read(ran / f"results/screen/relax/vacancy-Hg-{site}/start.xyz")
        assert doped.get_chemical_formula("metal") == "Ag28HgC72H48S24"
        assert vacancy.get_chemical_formula("metal") == "Ag28C72H48S24"
    assert read(ran / "results/screen/relax/atom-Hg/start.xyz").get_chemical_formula() == "Hg"


def test_one_isomer_reruns_alone(ran):
    stamps = {p: p.stat().st_mtime_ns for p in (ran / "results/screen/relax").glob("*/start.xyz")}
    result = snakemake(ran, ISOMER, "--forcerun", "doped_start")
    assert result.returncode == 0, result.stderr
    changed = sorted(p.parent.name for p, t in stamps.items() if p.stat().st_mtime_ns != t)
    assert changed == ["doped-Hg-crown"]


def test_unknown_preset_is_refused_clearly(workdir):
    result = snakemake(workdir, "-n", "--config", "preset=fast")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "unknown preset 'fast'" in out and "config/config.yaml" in out and "Traceback" not in out


def test_config_schema_rejects_a_bad_config(workdir, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((workdir / "config/config.yaml").read_text().replace("dopants: [Hg]", "dopants: [hg]"))
    result = snakemake(workdir, "-n", "--configfile", str(bad))
    assert result.returncode != 0 and "'hg' does not match" in result.stdout + result.stderr
