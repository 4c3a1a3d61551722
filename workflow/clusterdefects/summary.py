"""A study's results on one Markdown page (``results/<preset>/README.md``): the comparison with the
published values first, then the tables a chemist reads, then the figures. Every number on it is read
from the study's tables (``clusterdefects analyse``); nothing is typed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .dft import basis_label
from .errors import InputError
from .tables import TABLES, to_markdown

#: (table name in TABLES, section title, columns shown (None: all), what the section says).
SECTIONS: list[tuple[str, str, list[str] | None, str]] = [
    ("compare", "Compared with the published values",
     ["quantity", "published", "computed", "difference", "unit", "method_note"],
     "The paper's values (from the config's `published:` list, with their source) beside this run's; "
     "`method_note` says where the two methods differ."),
    ("energies", "Relative energies (eV, within each ion: composition and charge)",
     ["composition", "charge", "superatom_electrons", "structure_id", "role", "paper_label", "relative_energy_eV",
      "spin_state", "energy_paired_eV", "energy_polarized_eV", "point_group", "fmax_eV_per_A", "converged"],
     "Both spin states where the relaxation ran both; the lower is kept."),
    ("dopants", "Dopant scan", None, "Per dopant: its charge and superatom electron count, the sites' relative "
     "energies, and the energy to remove the dopant atom (raw and counterpoise-corrected)."),
    ("fragmentation", "Fragmentation energies (eV)", None,
     "Doped isomer -> vacancy isomer + free dopant atom; `_cp`: counterpoise-corrected (ghost basis)."),
    ("basins", "Basin check", None, "Every doped isomer with its dopant put back to the host, against the parent."),
    ("ccs", "Collision cross sections in N2 (Å²)", None, "Trajectory method; parameters in "
     "workflow/clusterdefects/data/ccs_n2.yaml."),
    ("basis_energies", "Basis check: energies at the preset's basis and the larger one", None,
     "One SCF at the larger basis on each relaxed geometry; never mixed with the relaxation energies."),
    ("basis_fragmentation", "Basis check: fragmentation energies at both bases", None, ""),
    ("basis_spin", "Basis check: spin-state gaps at both bases", None, ""),
    ("basis_cost", "Basis check: cost per single point", None, ""),
]

#: Figures shown, in this order, when the study made them (isomer pictures follow).
FIGURES = [("energy_levels", "Relative energies of the isomers of each ion"),
           ("fragmentation", "Fragmentation energies: doped isomer x vacancy isomer"),
           ("dopant_scan", "Relative site energies per dopant"),
           ("gallery", "The isomers of each composition, ordered by energy")]


def read_table(path: Path, text: bool = False) -> pd.DataFrame:
    """A table as `analyse` wrote it (an empty file is an empty table); ``text``: every cell as written."""
    try:
        return pd.read_csv(path, keep_default_na=False, dtype=str) if text else pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()


def section(frame: pd.DataFrame, title: str, columns: list[str] | None, text: str, link: str) -> list[str]:
    """One table's section: title, what it is, the table (or a line saying it is empty), a link to it whole."""
    lines = [f"## {title}", ""]
    if text:
        lines += [text, ""]
    if frame.empty:
        return lines + ["(none in this study)", ""]
    shown = frame[[c for c in columns if c in frame.columns]] if columns else frame
    return lines + [to_markdown(shown), ""] + ([f"All columns: [{link}]({link}).", ""] if link else [])


def md_rows(study: Any, root: Path) -> pd.DataFrame:
    """One row per MD run of the study that has its site analysis: length, temperature, the empty site at
    start and end, migrations, Rg, the NVE check and the snapshot's place among the static isomers."""
    from .fileio import read_json

    rows = []
    for engine, sid in study.md_runs():
        run = root / "md" / engine / sid
        if not (run / "sites.json").is_file():
            continue
        sites, nvt = read_json(run / "sites.json"), read_json(run / "nvt" / "summary.json")
        drift = read_json(run / "nve" / "summary.json")["nve_drift"]
        asked = study.md_snapshot(sid) and (run / "snapshot.json").is_file()  # not one left from another config
        snapshot = read_json(run / "snapshot.json") if asked else {}
        rows.append({"engine": engine, "structure_id": sid, "time_ps": sites["time_fs"] / 1000,
                     "mean_T_K": nvt["mean_temperature_K"], "empty_site_start": sites["start_empty"],
                     "empty_site_end": sites["final_empty"], "migrations": len(sites["migrations"]),
                     "rg_mean_A": sites["rg_mean_A"], "rg_change_percent": "{:+.1f} / {:+.1f}".format(
                         *sites["rg_change_percent"]),
                     "nve_drift_meV_per_atom_per_ps": drift["slope_meV_per_atom_per_ps"],
                     "s_per_step": nvt["s_per_step"],
                     "snapshot_relative_eV": snapshot.get("relative_energy_eV", float("nan"))})
    return pd.DataFrame(rows)


def settings_line(settings: dict[str, Any]) -> str:
    """The energy-relevant settings of the study in one line."""
    dft, relax = settings["dft"], settings["relax"]
    return (f"GPAW {dft['mode']} {basis_label(dft['basis'])}, {dft['xc']}, h {dft['h']} Å, vacuum {dft['vacuum']} Å, "
            f"{dft['occupations']['name']} {dft['occupations']['width']} eV; {relax['optimizer']} to fmax "
            f"{relax['fmax']} eV/Å")


def summary_markdown(study: Any, root: Path) -> str:
    """The study's page, from ``root`` (results/<preset>) and its tables/ and figures/."""
    energies = read_table(root / "energies.csv")
    fingerprints = sorted(set(energies["fingerprint"])) if "fingerprint" in energies else []
    lines = [f"# {study.system_name}: the {study.preset} study", "",
             f"{study.system.get('description', '')}", "",
             f"Settings: {settings_line(study.settings)}; fingerprint {', '.join(fingerprints) or '-'} "
             f"({len(energies)} relaxed structures). Made by `clusterdefects summary` from `tables/`; rerun "
             f"`snakemake --profile profiles/local --cores 2 --config preset={study.preset}` to remake it, "
             f"`clusterdefects show <table> --preset {study.preset}` to print one table.", ""]
    for name, title, columns, text in SECTIONS:
        stem = TABLES[name]
        lines += section(read_table(root / "tables" / f"{stem}.csv", text=name == "compare"), title, columns, text, f"tables/{stem}.md")
    lines += section(md_rows(study, root), "Molecular dynamics", None,
                     "Per run (md/<engine>/<structure>/): the empty site at start and end of the thermostatted run, "
                     "migrations (sites.json lists each), Rg, the NVE check's drift, and the last frame relaxed "
                     "with GPAW relative to the lowest static isomer of its ion (snapshot.json); Rg(t) and the "
                     "vacancy's role over time are nvt/rg.png and nvt/vacancy_role.png.", "")
    lines += ["## Figures", ""]
    pictures = sorted(p.stem for p in (root / "figures").glob("*.png") if p.stem not in dict(FIGURES))
    for stem, caption in [*FIGURES, *((p, p) for p in pictures)]:
        if (root / "figures" / f"{stem}.png").is_file():
            lines += [f"**{caption}**", "", f"![{caption}](figures/{stem}.png)", ""]
    return "\n".join(lines).rstrip() + "\n"


def readme_block(study: Any, root: Path) -> str:
    """What a project README shows of a finished study: the comparison with the paper and the relative
    energies (the sections of ``summary_markdown``), with a link to the whole page."""
    lines = [f"From `{root}/README.md` (`clusterdefects summary --readme`; remade from the tables, never edited "
             "by hand):", ""]
    for name, title, columns, text in SECTIONS[:2]:
        stem = TABLES[name]
        lines += section(read_table(root / "tables" / f"{stem}.csv", text=name == "compare"), title, columns, text,
                         f"{root}/tables/{stem}.md")
    return "\n".join(lines).rstrip().replace("\n## ", "\n#### ")


def update_readme(readme: Path, preset: str, block: str) -> str:
    """``readme``'s text with the part between its markers for ``preset`` replaced by ``block``."""
    begin, end = f"<!-- results:{preset}:begin -->", f"<!-- results:{preset}:end -->"
    text = readme.read_text()
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise InputError(readme, f"no single {begin} ... {end} block",
                         "put the two marker lines where the study's tables belong, then rerun")
    head, rest = text.split(begin)
    return f"{head}{begin}\n{block}\n{end}{rest.split(end, 1)[1]}"
