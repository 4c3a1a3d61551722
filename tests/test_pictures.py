"""Rendered isomer pictures, the gallery, the energy diagram's published levels and the offline 3D viewer."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from ase import Atoms

from clusterdefects import figures, render
from clusterdefects.analysis import atom_roles
from clusterdefects.sites import classify_sites, sites_frame
from clusterdefects.viewer import thinned, viewer_html


@pytest.fixture(scope="module")
def ag29(parent):
    roles = atom_roles(sites_frame(classify_sites(parent)))
    return parent, roles


def test_the_view_looks_down_a_three_fold_axis_of_ag29(ag29):
    parent, roles = ag29
    axis = render.view_axis(parent, roles)
    tetrahedral = [i for i, r in roles.items() if r == "tetrahedral"]
    centre = parent.positions[[i for i in roles]].mean(axis=0)
    along = [(parent.positions[i] - centre) / np.linalg.norm(parent.positions[i] - centre) @ axis for i in tetrahedral]
    assert max(along) == pytest.approx(1.0, abs=1e-6)  # a tetrahedral Ag sits on a C3 axis
    rotation = render.view_rotation(axis)
    assert np.allclose(axis @ rotation, [0, 0, 1], atol=1e-12) and np.linalg.det(rotation) == pytest.approx(1)


def test_a_vacancy_isomer_keeps_the_parents_roles(ag29):
    parent, roles = ag29
    removed = next(i for i, r in roles.items() if r == "crown")
    vacancy = parent[[i for i in range(len(parent)) if i != removed]]
    vacancy.info["vacancy_index"] = removed
    got = render.isomer_roles(vacancy, roles)
    assert got[removed] == roles.get(removed + 1, "") and got[removed - 1] == roles.get(removed - 1, "")


def test_a_doped_isomer_picture_is_rendered_with_legend(ag29, tmp_path):
    parent, roles = ag29
    doped = parent.copy()
    site = next(i for i, r in roles.items() if r == "icosahedral")
    doped[site].symbol = "Hg"
    path, renderer, seconds = render.isomer_figure(doped, render.isomer_roles(doped, roles), tmp_path / "x.png",
                                                   "test", render.view_axis(parent, roles), dopant=site)
    assert path.stat().st_size > 20_000
    assert renderer == ("povray" if shutil.which("povray") else "matplotlib")


def test_published_levels_are_read_from_the_config_rows():
    published = [{"compute": "lowest_role", "value": "tetrahedral", "composition": "Ag28"},
                 {"compute": "relative_energy", "value": "0.36", "role": "icosahedral", "composition": "Ag28",
                  "charge": -2},
                 {"compute": "max_relative_energy", "value": "0.32", "composition": "Ag28Hg"}]
    assert figures.published_levels(published, "Ag28", -2) == ([("tetrahedral", 0.0), ("icosahedral", 0.36)], None)
    assert figures.published_levels(published, "Ag28", -3) == ([("tetrahedral", 0.0)], None)  # 0.36 is for 2-
    assert figures.published_levels(published, "Ag28Hg", -2) == ([], 0.32)
    assert figures.spread_labels([0.0, 0.01, 0.5], 0.05) == [0.0, 0.05, 0.5]


def test_long_trajectories_are_thinned_keeping_both_ends():
    frames = [Atoms("H", positions=[[i, 0, 0]]) for i in range(100)]
    kept = thinned(frames, 10)
    assert len(kept) == 10 and kept[0] is frames[0] and kept[-1] is frames[-1]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="chromium not installed (bash scripts/setup.sh installs it)")
def test_the_viewer_draws_in_a_headless_browser_with_the_network_off(ag29, tmp_path):
    parent, _ = ag29
    page = tmp_path / "viewer.html"
    page.write_text(viewer_html(parent, [parent, parent], "Ag29 test", "no network"))
    assert page.stat().st_size < 1_500_000  # the report's iframes take data URLs up to 2 MiB (base64)
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                              f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                              "--window-size=800,600", "--virtual-time-budget=8000", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=120)
    assert "cdn" not in page.read_text()[-20000:].lower()
    assert "DRAWN pixels=" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
