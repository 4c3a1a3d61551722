"""Shared fixtures: the committed Ag29 model, its gas-phase parent, and CIF writing for tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.io import read

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "structures" / "Ag29_BDT12_TPP4.xyz"
VALIDATION = ROOT.parent / "shared" / "validation" / "nc_database"
BIN = Path(sys.executable).parent
CHECKOUT = ("Snakefile", "config", "workflow", "structures", "envs", "profiles")


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run this venv's snakemake in ``workdir`` (2 local cores unless a profile says otherwise)."""
    cores = [] if any(a.startswith("--profile") for a in args) else ["--cores", "2"]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([str(BIN / "snakemake"), *cores, *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout)


def scratch_checkout(dest: Path) -> Path:
    """A copy of what a run needs (Snakefile, config, rules, package, structures, envs, profiles)."""
    for name in CHECKOUT:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


@dataclass
class Run:
    workdir: Path
    wall_s: float


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Run:
    """The smoke preset end to end on this machine: real GPAW relaxations of the tiny cluster."""
    workdir = scratch_checkout(tmp_path_factory.mktemp("smoke-local"))
    t0 = time.perf_counter()
    result = snakemake(workdir, "--profile", "profiles/local", "--cores", "2", "--config", "preset=smoke")
    assert result.returncode == 0, result.stderr[-3000:]
    return Run(workdir, time.perf_counter() - t0)


@pytest.fixture(scope="session")
def model() -> Atoms:
    return read(MODEL)


@pytest.fixture(scope="session")
def parent(model: Atoms) -> Atoms:
    """[Ag29(BDT)12]3-: the model without PPh3 (by its labels, independent of the code under test)."""
    keep = [i for i, label in enumerate(model.arrays["label"]) if not label.startswith("tpp_")]
    return model[keep]


def write_test_cif(path: Path, cell: np.ndarray, symbols: list[str], frac: np.ndarray,
                   symops: list[str] | None = None, occupancy: list[float] | None = None,
                   disorder: list[tuple[str, str]] | None = None, spacegroup: str = "P 1") -> Path:
    """A minimal CIF (cell lengths/angles, symmetry operations, atom sites) written by hand."""
    from ase.geometry import cell_to_cellpar

    a, b, c, alpha, beta, gamma = cell_to_cellpar(cell)
    symops = symops or ["x,y,z"]
    lines = ["data_test", f"_cell_length_a {a:.5f}", f"_cell_length_b {b:.5f}", f"_cell_length_c {c:.5f}",
             f"_cell_angle_alpha {alpha:.4f}", f"_cell_angle_beta {beta:.4f}", f"_cell_angle_gamma {gamma:.4f}",
             f"_symmetry_space_group_name_H-M '{spacegroup}'", "loop_", "_space_group_symop_operation_xyz"]
    lines += [f"'{op}'" for op in symops]
    cols = ["_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x", "_atom_site_fract_y",
            "_atom_site_fract_z", "_atom_site_occupancy"]
    if disorder:
        cols += ["_atom_site_disorder_assembly", "_atom_site_disorder_group"]
    lines += ["loop_", *cols]
    for k, (s, f) in enumerate(zip(symbols, frac)):
        occ = 1.0 if occupancy is None else occupancy[k]
        row = f"{s}{k + 1} {s} {f[0]:.6f} {f[1]:.6f} {f[2]:.6f} {occ:.3f}"
        if disorder:
            row += " {} {}".format(*disorder[k])
        lines.append(row)
    path.write_text("\n".join(lines) + "\n")
    return path
