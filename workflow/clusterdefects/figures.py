"""Figures: energy-level diagram, fragmentation-energy heat map, isomer pictures (no X server)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.visualize.plot import plot_atoms  # noqa: E402

from .fileio import write_atomically  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    out = write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=150, bbox_inches="tight", format="png"))
    plt.close(fig)
    return out


def energy_diagram(energies: pd.DataFrame, path: Path, title: str) -> Path:
    """Relative energies of each isomer set as levels, one column per composition."""
    compositions = list(dict.fromkeys(energies["composition"]))
    fig, ax = plt.subplots(figsize=(2.2 + 3.0 * len(compositions), 4.5))
    for k, comp in enumerate(compositions):
        x = 1.6 * k
        sel = energies[energies["composition"] == comp]
        for _, row in sel.iterrows():
            y = row["relative_energy_eV"]
            ax.hlines(y, x - 0.3, x + 0.3, lw=2.5, color="tab:blue" if row["kind"] == "doped" else "tab:red")
            label = f"{row['role']}" + (f" ({row['paper_label']})" if row["paper_label"] else "")
            ax.text(x + 0.33, y, f"{label}  {y:.2f}", va="center", fontsize=8)
    ax.set_xticks([1.6 * k for k in range(len(compositions))], compositions)
    ax.set_xlim(-0.6, 1.6 * (len(compositions) - 1) + 1.3)
    ax.set_ylabel("relative energy (eV)")
    ax.set_title(title, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def fragmentation_heatmap(frag: pd.DataFrame, path: Path, title: str) -> Path:
    """E_frag(doped i -> vacancy j + atom) as a matrix."""
    matrix = frag.pivot(index="parent_id", columns="product_id", values="fragmentation_energy_eV")
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * matrix.shape[1], 1.2 + 0.8 * matrix.shape[0]))
    im = ax.imshow(matrix.values, cmap="viridis")
    for (i, j), v in np.ndenumerate(matrix.values):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white", fontsize=8)
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(matrix.shape[0]), matrix.index, fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label="fragmentation energy (eV)")
    return _save(fig, path)


def marked_sites(relaxed: Atoms, start: Atoms | None = None) -> tuple[int | None, np.ndarray | None]:
    """What an isomer's picture marks: a doped isomer's dopant (its index), a vacancy isomer's empty site
    (its position in the relaxed frame: the relaxation re-centres the box, so shifted as the atoms were)."""
    highlight = int(relaxed.info["site_index"]) if relaxed.info.get("kind") == "doped" else None
    if relaxed.info.get("kind") != "vacancy" or "vacancy_position" not in relaxed.info or start is None:
        return highlight, None
    shift = relaxed.positions.mean(axis=0) - start.positions.mean(axis=0)
    return highlight, np.asarray(relaxed.info["vacancy_position"], dtype=float) + shift


def isomer_picture(atoms: Atoms, path: Path, title: str, highlight: int | None = None,
                   vacancy: np.ndarray | None = None) -> Path:
    """The structure; the dopant drawn large in magenta, an empty site as a red sphere."""
    from ase.data.colors import jmol_colors

    shown = atoms.copy()
    shown.cell = None  # no box in the picture
    colors = ["#c0c0c0" if a.symbol == "Ag" else jmol_colors[a.number] for a in shown]
    radii = [0.5 if a.symbol in ("Ag", "Hg", "S") else 0.3 for a in shown]
    if highlight is not None:
        colors[highlight], radii[highlight] = "#e000e0", 0.9
    if vacancy is not None:
        shown += Atoms("X", positions=[vacancy])
        colors.append("#ff2020")
        radii.append(0.9)
    fig, ax = plt.subplots(figsize=(5, 5))
    plot_atoms(shown, ax, radii=radii, colors=colors, rotation="15x,20y,0z")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return _save(fig, path)
