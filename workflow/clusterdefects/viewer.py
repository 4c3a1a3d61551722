"""An interactive 3D view of one structure and its relaxation, as a self-contained HTML page.

3Dmol.js (BSD-3-Clause, npm package `3dmol` 2.5.5, shipped in data/3dmol/ with its licence) is embedded in
the page, so it opens with no network, alone or inside the Snakemake report (whose iframes take a page up
to about 1.5 MB: the trajectory is thinned to ``MAX_FRAMES``).
"""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

from ase import Atoms
from ase.io import write

MAX_FRAMES = 40
JS = "data/3dmol/3Dmol-min.js"

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:0.5em}} #viewer{{position:relative;width:100%;height:80vh;border:1px solid #ccc}}</style>
<script>{js}</script></head>
<body><div><b>{title}</b> &mdash; {subtitle}<br>
<button id="play">play relaxation</button> <button id="final">relaxed structure</button>
<span id="frame"></span> <pre id="status" style="display:inline"></pre></div>
<div id="viewer"></div>
<!-- 3Dmol.js {version}: BSD-3-Clause, Copyright (c) 2014, University of Pittsburgh and contributors -->
<script>
const FINAL = {final};
const FRAMES = {frames};
const viewer = $3Dmol.createViewer(document.getElementById("viewer"), {{backgroundColor: "white"}});
const style = {{stick: {{radius: 0.12}}, sphere: {{scale: 0.28}}}};
function show(data, frames) {{
  viewer.stopAnimate(); viewer.clear();
  if (frames) {{ viewer.addModelsAsFrames(data, "xyz"); }} else {{ viewer.addModel(data, "xyz"); }}
  viewer.setStyle({{}}, style);
  viewer.setStyle({{elem: "H"}}, {{stick: {{radius: 0.06, opacity: 0.5}}}});
  viewer.zoomTo(); viewer.render();
  document.getElementById("frame").textContent = frames ? viewer.getNumFrames() + " frames" : "";
  if (frames) {{ viewer.animate({{loop: "forward", interval: 300}}); }}
}}
document.getElementById("play").onclick = () => show(FRAMES, true);
document.getElementById("final").onclick = () => show(FINAL, false);
show(FINAL, false);
// A check a headless browser reads: did WebGL draw anything?
function drawn() {{
  const img = new Image();
  img.onload = () => {{
    const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
    const g = c.getContext("2d"); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 4) {{ if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) n++; }}
    const text = (n > 0 ? "DRAWN" : "BLANK") + " pixels=" + n;
    document.getElementById("status").textContent = text;
    if (window.parent !== window) window.parent.postMessage(text, "*");
  }};
  img.src = viewer.pngURI();
}}
setTimeout(drawn, 500);
</script></body></html>
"""


def xyz_text(images: list[Atoms]) -> str:
    """Plain XYZ (element and position only: 3Dmol reads further columns as vectors)."""
    buffer = io.StringIO()
    write(buffer, [Atoms(a.get_chemical_symbols(), positions=a.positions) for a in images], format="xyz")
    return buffer.getvalue()


def thinned(frames: list[Atoms], most: int = MAX_FRAMES) -> list[Atoms]:
    """At most ``most`` frames, first and last kept, evenly spaced."""
    if len(frames) <= most:
        return frames
    step = (len(frames) - 1) / (most - 1)
    return [frames[round(i * step)] for i in range(most)]


def _script_safe(text: str) -> str:
    return json.dumps(text).replace("</", "<\\/")


def viewer_html(final: Atoms, frames: list[Atoms], title: str, subtitle: str) -> str:
    js = resources.files("clusterdefects").joinpath(JS).read_text()
    return PAGE.format(title=title, subtitle=subtitle, js=js.replace("</script", "<\\/script"), version="2.5.5",
                       final=_script_safe(xyz_text([final])), frames=_script_safe(xyz_text(thinned(frames or [final]))))


def write_viewer(relaxed_path: Path, result_path: Path, out: Path) -> Path:
    from ase.io import read

    from .fileio import write_text
    from .results import RelaxResult

    result = RelaxResult.read(result_path)
    final = read(relaxed_path)
    trajectory = result.trajectory()
    frames = read(trajectory, ":") if trajectory is not None and trajectory.is_file() else []
    subtitle = (f"{result.formula} {result.charge:+d}, E = {result.energy:.4f} eV, {result.spin_state}, "
                f"{result.steps} steps ({len(frames)} frames, at most {MAX_FRAMES} shown)")
    return write_text(out, viewer_html(final, frames, result.structure_id, subtitle))
