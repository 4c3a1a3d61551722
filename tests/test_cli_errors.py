"""Bad input: a one-line error naming the file and the problem, and a non-zero exit code."""

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


from conftest import MODEL


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clusterdefects.cli", *args], capture_output=True, text=True, cwd=cwd)


def parent_cmd(path, formula="Ag29C72H48S24", charge="-3", *extra):
    out = Path(tempfile.mkdtemp(prefix="cli-errors-")) / "out.xyz"  # never beside the input (the repo's model)
    return ("parent", str(path), "-o", str(out), "--host", "Ag", "--formula", formula,
            f"--charge={charge}", "--strip-donors", "P", *extra)


def assert_one_line_error(result, path, *words):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and "Fix:" in lines[0]
    for w in words:
        assert w in lines[0], lines[0]


def test_missing_file(tmp_path):
    path = tmp_path / "nothere.xyz"
    assert_one_line_error(run_cli(*parent_cmd(path)), path, "file not found")


@pytest.mark.parametrize("name, content", [
    ("broken.cif", b"data_broken\n_cell_length_a 10\nloop_\n_atom_site_label\n_atom_site_fract_x\nAg1 0.1 0.2\n"),
    ("garbage.cif", b"\x00\x01 this is not a CIF at all\n;\n"),
])
def test_unreadable_cif(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(run_cli(*parent_cmd(path)), path, "unreadable CIF")


def test_wrong_composition(tmp_path):
    result = run_cli(*parent_cmd(MODEL, formula="Ag29C72H48S23"))
    assert_one_line_error(result, MODEL, "wrong composition", "S +1")


def test_unknown_element(tmp_path):
    path = tmp_path / "unknown.xyz"
    path.write_text("2\n\nAg 0 0 0\nXx 0 0 2.5\n")
    assert_one_line_error(run_cli(*parent_cmd(path)), path, "unknown element 'Xx'")


def test_unknown_element_in_cif(tmp_path):
    path = tmp_path / "unknown.cif"
    path.write_text("data_u\n_cell_length_a 10\n_cell_length_b 10\n_cell_length_c 10\n_cell_angle_alpha 90\n"
                    "_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_type_symbol\n"
                    "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nAg1 Ag 0 0 0\nQq1 Qq 0.25 0 0\n")
    assert_one_line_error(run_cli(*parent_cmd(path)), path, "unknown element 'Qq'")


def uncharged_copy(tmp_path):
    path = tmp_path / "nocharge.xyz"
    path.write_text(MODEL.read_text().replace("charge=-3 ", ""))
    return path


def test_odd_electron_count(tmp_path):
    path = uncharged_copy(tmp_path)
    result = run_cli(*parent_cmd(path, charge="-2"))
    assert_one_line_error(result, path, "odd electron count 2229", "allow_odd_electrons")


def test_odd_electron_count_allowed_when_configured(tmp_path):
    result = run_cli(*parent_cmd(uncharged_copy(tmp_path), "Ag29C72H48S24", "-2", "--allow-odd-electrons"))
    assert result.returncode == 0, result.stderr


def test_charge_in_file_must_match_config(tmp_path):
    path = tmp_path / "charged.xyz"
    text = MODEL.read_text().replace("charge=-3", "charge=-1")
    path.write_text(text)
    assert_one_line_error(run_cli(*parent_cmd(path)), path, "charge=-1")


def test_clash(tmp_path):
    path = tmp_path / "clash.xyz"
    path.write_text("3\n\nAg 0 0 0\nAg 0 0 0.3\nS 0 0 2.5\n")
    assert_one_line_error(run_cli("parent", str(path), "-o", str(tmp_path / "o.xyz"), "--host", "Ag",
                                  "--formula", "Ag2S", "--charge=0"), path, "Å apart")
