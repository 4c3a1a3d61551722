"""Figures: energy-level diagram, fragmentation-energy heat map, isomer pictures (no X server)."""

from __future__ import annotations

from typing import Any

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


def published_levels(published: list[dict[str, Any]], composition: str, charge: int
                     ) -> tuple[list[tuple[str, float]], float | None]:
    """The config's published relative energies of one ion (a composition, at ``charge`` where the value names
    one): (role, eV) levels (the lowest role at 0) and the width of an 'all isomers within' range, if given."""
    levels, band = [], None
    for ref in published:
        if ref.get("composition") != composition or ref.get("charge", charge) != charge:
            continue
        if ref["compute"] == "relative_energy":
            levels.append((ref["role"], float(ref["value"])))
        elif ref["compute"] == "lowest_role":
            levels.append((ref["value"], 0.0))
        elif ref["compute"] == "max_relative_energy":
            band = float(ref["value"])
    return levels, band


def spread_labels(values: list[float], gap: float) -> list[float]:
    """Label heights for levels at ``values``: in order, at least ``gap`` apart (close levels stay legible)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = list(values)
    for prev, i in zip(order, order[1:]):
        out[i] = max(values[i], out[prev] + gap)
    return out


def energy_diagram(energies: pd.DataFrame, path: Path, title: str, published: list[dict[str, Any]] | None = None
                   ) -> Path:
    """Relative energies of each isomer set as levels, one column per ion (composition and charge); beside each,
    hollow and dashed, the published values the config holds (never drawn as if computed)."""
    compositions = list(dict.fromkeys(zip(energies["composition"], energies["charge"].astype(int))))
    fig, ax = plt.subplots(figsize=(2.2 + 5.0 * len(compositions), 4.8))
    shown_published = False
    everything = list(energies["relative_energy_eV"]) + [0.0]
    for comp in compositions:
        levels, band = published_levels(published or [], *comp)
        everything += [y for _, y in levels] + ([band] if band is not None else [])
    gap = 0.045 * (max(everything) - min(everything) or 1.0)
    for k, comp in enumerate(compositions):
        x = 3.6 * k
        sel = energies[(energies["composition"] == comp[0]) & (energies["charge"].astype(int) == comp[1])]
        ys = list(sel["relative_energy_eV"])
        for (_, row), y_text in zip(sel.iterrows(), spread_labels(ys, gap)):
            y = row["relative_energy_eV"]
            ax.hlines(y, x - 0.3, x + 0.3, lw=2.5, color="tab:blue" if row["kind"] == "doped" else "tab:red")
            label = f"{row['role']}" + (f" ({row['paper_label']})" if row["paper_label"] else "")
            ax.text(x - 0.33, y_text, f"{label}  {y:.2f}", va="center", ha="right", fontsize=8)
        levels, band = published_levels(published or [], *comp)
        if band is not None:
            ax.add_patch(plt.Rectangle((x + 0.55, 0), 0.6, band, color="0.88", zorder=0))
            ax.text(x + 0.85, band + gap / 2, f"all within {band:.2f}", ha="center", va="bottom", fontsize=7, color="0.3")
        for (role, y), y_text in zip(levels, spread_labels([y for _, y in levels], gap)):
            ax.hlines(y, x + 0.55, x + 1.15, lw=1.5, color="0.35", linestyles="dashed")
            ax.text(x + 1.2, y_text, f"{role}  {y:.2f}", va="center", fontsize=7, color="0.3")
        shown_published |= bool(levels) or band is not None
    ticks = [3.6 * k for k in range(len(compositions))]
    ax.set_xticks(ticks, [f"{c} {abs(q)}{'-' if q < 0 else '+'}\nthis run" if q else f"{c}\nthis run"
                          for c, q in compositions])
    if shown_published:
        ax.set_xticks([t + 0.85 for t in ticks], ["published"] * len(ticks), minor=True, fontsize=7, color="0.3")
    ax.set_xlim(-2.2, 3.6 * (len(compositions) - 1) + 2.2)
    ax.set_ylabel("relative energy (eV)")
    ax.set_title(title + ("; dashed: published (config), not computed" if shown_published else ""), fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


SITE_MARKERS = "os^Dvp*hX"


def dopant_scan_figure(energies: pd.DataFrame, path: Path, title: str) -> Path:
    """Each dopant's doped isomers side by side: relative energy of every site (one marker per site class),
    with the doped cluster's charge under the dopant."""
    doped = energies[energies["kind"] == "doped"] if not energies.empty else energies
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * max(1, doped["dopant"].nunique() if not doped.empty else 1), 3.6))
    if doped.empty:
        ax.text(0.5, 0.5, "no doped isomer finished yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _save(fig, path)
    dopants = list(dict.fromkeys(doped["dopant"]))
    roles = list(dict.fromkeys(doped["role"]))
    for k, role in enumerate(roles):
        sel = doped[doped["role"] == role]
        x = [dopants.index(d) + 0.12 * (k - (len(roles) - 1) / 2) for d in sel["dopant"]]
        ax.scatter(x, sel["relative_energy_eV"], marker=SITE_MARKERS[k % len(SITE_MARKERS)], s=46, label=role, zorder=3)
    charges = doped.groupby("dopant", sort=False)["charge"].first()
    ax.set_xticks(range(len(dopants)), [f"{d}\n({int(charges[d]):+d})" for d in dopants])
    ax.set_xlim(-0.6, len(dopants) - 0.4)
    ax.axhline(0.0, color="0.7", lw=0.8, zorder=1)
    ax.set(ylabel="relative energy (eV)", title=title)
    ax.legend(title="site", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
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


def md_radius_of_gyration(steps: pd.DataFrame, path: Path, title: str) -> Path:
    """Rg(t) of an MD run, with its mean and ±1 % band."""
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    t_ps = steps["time_fs"] / 1000.0
    ax.plot(t_ps, steps["rg_A"], lw=1.0, color="tab:blue")
    mean = float(steps["rg_A"].mean())
    ax.axhspan(0.99 * mean, 1.01 * mean, color="tab:blue", alpha=0.1, label="mean ± 1 %")
    ax.set(xlabel="time (ps)", ylabel="radius of gyration (Å)", title=title)
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def md_vacancy_role(times_fs: np.ndarray, roles: list[str], path: Path, title: str) -> Path:
    """The site class of the empty site in each frame (categorical), with the migrations' times."""
    order = list(dict.fromkeys(roles))
    fig, ax = plt.subplots(figsize=(6.0, 2.4))
    ax.step(np.asarray(times_fs) / 1000.0, [order.index(r) for r in roles], where="post", color="tab:red")
    ax.set_yticks(range(len(order)), [r or "(none empty)" for r in order])
    ax.set_ylim(-0.5, len(order) - 0.5)
    ax.set(xlabel="time (ps)", ylabel="empty site", title=title)
    return _save(fig, path)
