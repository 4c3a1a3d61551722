"""The installation: GPAW's build options and setups, the conda environment, CI wiring."""

import re
import subprocess
import sys
import tomllib

import yaml

from clusterdefects.gpawcheck import build_features, setup_files

from conftest import ROOT


def test_gpaw_built_with_mpi_scalapack_fftw_libxc():
    assert build_features() == {"MPI": True, "ScaLAPACK": True, "FFTW": True, "libxc": True}


def test_gpaw_info_reports_the_same():
    out = subprocess.run([sys.executable, "-m", "gpaw", "info"], capture_output=True, text=True).stdout
    for line in ("MPI enabled", "scalapack", "FFTW"):
        assert re.search(rf"^{line}\s+yes", out, re.M), out
    assert re.search(r"^libxc-\S+\s+yes", out, re.M), out


def test_gpaw_finds_every_setup_of_the_study():
    paths = setup_files()
    assert set(paths) == {"Ag", "Hg", "S", "C", "H"}
    assert all("gpaw_data" in p or "setups" in p for p in paths.values())


def test_conda_env_names_every_runtime_dependency():
    env = yaml.safe_load((ROOT / "envs" / "gpaw.yaml").read_text())
    assert "conda-forge" in env["channels"]
    conda = {re.split(r"[ <>=]", d)[0] for d in env["dependencies"] if isinstance(d, str)}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = {re.split(r"[ <>=\[]", d)[0] for d in pyproject["project"]["dependencies"]}
    # snakemake and its SLURM plugin run the workflow; the environment is what its jobs run in
    runtime -= {"snakemake", "snakemake-executor-plugin-slurm"}
    conda_name = {"tblite": "tblite-python"}  # conda-forge's name of the Python API
    assert {conda_name.get(d, d) for d in runtime} <= conda, runtime - conda
    assert {"gpaw", "gpaw-data", "ase", "pymatgen", "pandas"} <= conda


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```(?:sh|bash)\n(.*?)```", readme, re.S)
    test_command = commands[1].strip()
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#") and not line.startswith("set ")]
    assert ci == [test_command]
