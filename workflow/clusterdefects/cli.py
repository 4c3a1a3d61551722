"""Command line: ``clusterdefects <command>``; the Snakemake rules call these commands."""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import InputError
from .fileio import write_json, write_text, write_xyz


def _csv_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _mapping(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in _csv_list(text))


def cmd_build_model(args: argparse.Namespace) -> None:
    from .build import build_ag5_sh4, build_ag29_bdt12_tpp4

    if args.model == "Ag5_SH4":
        atoms = build_ag5_sh4()
        write_xyz(args.output or "structures/Ag5_SH4.xyz", atoms)
        print(f"wrote {args.output or 'structures/Ag5_SH4.xyz'}: {atoms.get_chemical_formula('metal')}")
        return
    args.output = args.output or "structures/Ag29_BDT12_TPP4.xyz"
    model = build_ag29_bdt12_tpp4(seed=args.seed, n_starts=args.starts)
    write_xyz(args.output, model.atoms)
    print(f"wrote {args.output}: {model.atoms.get_chemical_formula('metal')} ({len(model.atoms)} atoms), fit cost {model.cost:.2e}")
    for kind, d in model.bond_lengths.items():
        print(f"  {kind:36s} n={len(d):3d}  {d.min():.3f} {d.mean():.3f} {d.max():.3f} Å")


def cmd_parent(args: argparse.Namespace) -> None:
    from .pipeline import prepare_parent

    cluster, summary = prepare_parent(args.input, args.host, args.formula, args.charge, args.strip_donors,
                                      args.allow_odd_electrons)
    for note in summary["notes"]:
        print(f"{args.input}: {note}")
    print(f"parent {summary['formula']} charge {summary['charge']:+d}: {summary['electrons']} electrons, "
          f"{summary['superatom_electrons']} superatom electrons, point group {summary['point_group']}")
    if args.report:
        write_json(args.report, summary)
    write_xyz(args.output, cluster)


def cmd_ship_parent(args: argparse.Namespace) -> None:
    from .pipeline import shipped_parent

    atoms, provenance = shipped_parent(args.relaxed, args.result, args.source, args.via, args.route, args.replaces)
    write_json(args.provenance, provenance)
    write_xyz(args.output, atoms)
    print(f"wrote {args.output} and {args.provenance}: {provenance['what']}, "
          f"fingerprint {provenance['relaxation']['fingerprint']}")


def cmd_sites(args: argparse.Namespace) -> None:
    from .pipeline import load_cluster
    from .sites import analyse_symmetry, check_expected_classes, classify_sites, frame_symmetry, sites_frame

    atoms = load_cluster(args.input)
    metals = set(args.metals) if args.metals else None
    whole, metal_frame = analyse_symmetry(atoms), frame_symmetry(atoms, metals)
    frame = sites_frame(classify_sites(atoms, metals, metal_frame), args.paper_labels)
    print(f"{args.input}: {atoms.get_chemical_formula('metal')}, point group {whole.point_group}"
          f"{'' if whole.hydrogens_symmetric else ' (heavy atoms; the H atoms break it)'} "
          f"(tolerance {whole.tolerance} Å, largest deviation {whole.max_deviation:.3f} Å); metal frame "
          f"{metal_frame.point_group} (tolerance {metal_frame.tolerance} Å, largest deviation "
          f"{metal_frame.max_deviation:.3f} Å): {len(frame)} metal site classes")
    if whole.n_operations < metal_frame.n_operations:
        print(f"the ligands break the metal frame's symmetry ({metal_frame.point_group} -> {whole.point_group}): "
              "the members of a class are alike in the frame only, their ligand surroundings may differ")
    elif whole.point_group != metal_frame.point_group:
        print(f"the whole structure and its metal frame have different groups ({whole.point_group}, "
              f"{metal_frame.point_group}): the classes are the frame's")
    print(frame.drop(columns=["members"]).to_string(index=False))
    if args.expect:
        check_expected_classes(frame, args.expect, args.input)
    if args.csv:
        write_text(args.csv, frame.to_csv(index=False))


def cmd_bonds(args: argparse.Namespace) -> None:
    import pandas as pd

    from .pipeline import load_cluster
    from .sites import bond_table, classify_sites, role_names
    from .sitetrack import contacts_as_in_parent, parent_atoms_held, role_names_on_template

    if (args.sites is None) != (args.parent is None):
        raise InputError(args.sites or args.parent, "--sites and --parent go together",
                         "give both: the parent structure and its sites.csv (results/<preset>/sites.csv)")
    atoms = load_cluster(args.input)
    if args.sites:
        parent = load_cluster(args.parent)
        held = parent_atoms_held(atoms, parent, args.sites, args.input)
        names, also = role_names_on_template(atoms, held, args.sites), contacts_as_in_parent(parent, held)
    else:
        names, also = role_names(classify_sites(atoms), atoms), []
    frame = pd.DataFrame(bond_table(atoms, names, also))
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


def _require_relaxed(result_path: str | None, allow_unconverged: bool) -> None:
    from .results import RelaxResult, require_converged

    if result_path:
        require_converged(RelaxResult.read(result_path), allow_unconverged)


def cmd_dope(args: argparse.Namespace) -> None:
    from .pipeline import make_doped

    _require_relaxed(args.parent_result, args.allow_unconverged)
    doped = make_doped(args.parent, args.sites, args.site, args.dopant, args.charge, args.allow_odd_electrons)
    write_xyz(args.output, doped)
    print(f"{doped.info['structure_id']}: {doped.get_chemical_formula('metal')} charge {args.charge:+d}, "
          f"{args.dopant} on atom {doped.info['site_index']} ({doped.info['role']})")


def cmd_vacancy(args: argparse.Namespace) -> None:
    from .pipeline import make_vacancy

    _require_relaxed(args.doped_result, args.allow_unconverged)
    vacancy = make_vacancy(args.doped, args.dopant, args.charge, args.allow_odd_electrons)
    write_xyz(args.output, vacancy)
    print(f"{vacancy.info['structure_id']}: {vacancy.get_chemical_formula('metal')} charge {args.charge:+d}")


def cmd_collect(args: argparse.Namespace) -> None:
    from .results import RelaxResult, summary_frame

    frame = summary_frame([RelaxResult.read(p) for p in args.results], args.allow_unconverged)
    print(frame.drop(columns=["fingerprint"]).to_string(index=False))
    print(f"settings fingerprint {frame['fingerprint'].iloc[0]} ({len(frame)} structures)")
    write_text(args.output, frame.to_csv(index=False))


def resolve_study(args: argparse.Namespace):
    """The study a command works on: ``--study`` JSON (what a rule passes: the configuration Snakemake
    resolved, overrides included), else ``--preset`` of the ``--configfile`` files laid over each other."""
    from .study import Study, load_study, read_config

    if getattr(args, "study", None):
        return Study.from_json(args.study)
    return load_study(read_config(*args.configfile), args.preset)


def add_study_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("--preset", help="default: the config's preset")
    s.add_argument("--configfile", nargs="+", default=["config/config.yaml"],
                   help="config files, later ones laid over earlier ones (as snakemake --configfile)")


def cmd_analyse(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .ids import kind_of
    from .sites import read_sites
    from .tables import (build_tables, load_basin_checks, load_ccs, load_counterpoise, load_outputs,
                         write_database, write_tables)

    study = resolve_study(args)
    root = Path(args.results) / study.preset
    ids, outdir = study.structure_ids(), root / "tables"
    if args.partial:
        done = {sid for sid in ids if (root / "relax" / sid / "result.json").is_file()}
        ids, outdir = study.finished_groups(done), root / "partial" / "tables"
        if not ids:
            raise InputError(root / "relax" / "parent" / "result.json", "the parent is not relaxed yet",
                             f"run: snakemake {root}/relax/parent/result.json --config preset={study.preset}")
        print(f"partial: tables of {', '.join(ids)}; left out (their set is unfinished): "
              f"{', '.join(sorted(set(study.structure_ids()) - set(ids))) or '-'}")
    results, relaxed, starts = load_outputs(root / "relax", ids, bool(study.settings.get("allow_unconverged")))
    doped = [sid for sid in ids if kind_of(sid) == "doped"]
    corrections = load_counterpoise([root / "counterpoise" / f"{sid}.json" for sid in doped], results[0].fingerprint)
    parent = next(r for r in results if r.structure_id == "parent")
    basins = load_basin_checks([root / "basin_check" / sid / "basin.json" for sid in doped], parent)
    ccs = load_ccs([root / "ccs" / f"{sid}.json" for sid in study.ccs_ids() if sid in ids], results)
    tables = build_tables(results, relaxed, starts, root / "sites.csv", study.system, study.preset, corrections, basins,
                          ccs)
    tables.update(basis_check_tables(study, root, results, corrections, tables, args.partial))
    for row in basins[basins["lower_than_parent"].astype(bool)].to_dict("records"):
        print(f"WARNING: {row['candidate']} is {-row['delta_eV']:.3f} eV below the parent: the parent is not the "
              f"lowest minimum found; remake it from {row['from']}", file=sys.stderr)
    for path in write_tables(tables, outdir):
        print(f"wrote {path}")
    if args.partial:
        return
    sites = read_sites(root / "sites.csv")
    roles = dict(zip(sites["class"], sites["role"]))
    print(f"wrote {write_database(results, relaxed, root / 'structures.db', study.preset, roles)}")


def cmd_summary(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .fileio import write_text
    from .summary import readme_block, summary_markdown, update_readme

    study = resolve_study(args)
    root = Path(args.results) / study.preset
    if args.readme:
        block = readme_block(study, root)
        print(f"wrote {write_text(args.readme, update_readme(Path(args.readme), study.preset, block))}")
        return
    print(f"wrote {write_text(args.output or root / 'README.md', summary_markdown(study, root))}")


def basis_check_tables(study: Any, root: Path, results: list, corrections: dict[str, float], tables: dict[str, Any],
                       partial: bool) -> dict[str, Any]:
    """The basis check's tables (empty where the preset has none) and its order rows in the comparison."""
    import pandas as pd

    from .basischeck import BASIS_TABLES, basis_tables, load_checks, ordering_rows
    from .dft import basis_label
    from .ids import kind_of
    from .tables import load_counterpoise

    if not study.basis_check["enabled"] or partial:
        return {name: pd.DataFrame() for name in BASIS_TABLES}
    checked = set(study.basis_check_ids())
    results = [r for r in results if r.structure_id in checked]
    checks = load_checks([root / "basis_check" / f"{r.structure_id}.json" for r in results])
    basis = (basis_label(study.settings["dft"]["basis"]), basis_label(study.basis_check["basis"]))
    doped = [r.structure_id for r in results if kind_of(r.structure_id) == "doped"]
    fingerprint = next(iter(checks.values()))["fingerprint"]
    check_cp = load_counterpoise([root / "basis_check" / "counterpoise" / f"{sid}.json" for sid in doped], fingerprint)
    out = basis_tables(results, checks, corrections, check_cp, basis)
    out["compare"] = pd.concat([tables["compare"], ordering_rows(out["basis_energies"], basis, study.preset)],
                               ignore_index=True)
    return out


def cmd_search_start(args: argparse.Namespace) -> None:
    from ase.io import read

    from .analysis import atom_roles
    from .parent_search import candidate_id, candidate_starts
    from .sites import read_sites

    source, sid = read(args.source), candidate_id(args.name)
    kind, _, value = args.name.partition("-")
    if kind == "basin":  # a basin check's candidate, as its short relaxation left it
        start = source
        start.calc = None
        start.info = {**source.info, "structure_id": sid, "kind": "parent"}
    else:
        variants = {"model": {}, "crown": {"crown": (int(value or 0),), "heights": ()},
                    "tetra": {"crown": (), "heights": (int(value or 0),)}}
        starts = candidate_starts(source, atom_roles(read_sites(args.sites)), **variants.get(kind, {}))
        if sid not in starts:
            raise InputError(args.sites, f"no candidate {args.name!r} for this structure (no such site class)",
                             "list only model, crown-<percent> or tetra-<height> its sites have "
                             "(systems.<name>.parent_search)")
        start = starts[sid]
    write_xyz(args.output, start)
    print(f"{sid}: written to {args.output}")


def cmd_parent_search(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .basin import TOLERANCE
    from .parent_search import lowest, recipe, run_search, verdict
    from .pipeline import shipped_parent
    from .tables import to_markdown

    study = resolve_study(args)
    root = Path(args.results) / study.preset
    table, folders = run_search(study, Path(args.results), args.partial)
    best = lowest(table, candidates_only=True)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    if args.partial:
        write_text(root / "partial" / "parent_search.csv", table.to_csv(index=False))
        print(f"partial: {len(folders)} of {len(study.search_ids())} candidates finished "
              f"(table in {root}/partial/parent_search.csv); lowest so far: {best}\n{verdict(table, TOLERANCE)}")
        return
    # A basin candidate descends from the study's parent (the shipped one where the preset ships one).
    via = study.shipped_parent().replace(".xyz", ".json") if study.settings.get("shipped_parent") else None
    via = via if best.startswith("basin-") else None
    route = f"parent search ({root}/parent_search.csv): the lowest of {len(folders)} candidates, {best}: {recipe(best)}"
    search = {"candidate": best, "recipe": recipe(best), "verdict": verdict(table, TOLERANCE),
              "parent_search": table.astype(object).where(table.notna(), None).to_dict("records")}
    try:
        atoms, provenance = shipped_parent(folders[best] / "relaxed.xyz", folders[best] / "result.json",
                                           study.system["parent"], via, route if via else None)
        provenance |= search
        note = (f"lowest: {best}; to ship it as the {study.preset} preset's parent: cp {root}/parent_search/parent.xyz "
                f"{study.shipped_parent()} && cp {root}/parent_search/parent.json {study.shipped_parent()[:-4]}.json")
    except InputError as err:  # an unconverged lowest candidate is no parent to ship
        from ase.io import read

        atoms, provenance = read(folders[best] / "relaxed.xyz"), {"shippable": False, "why": str(err), **search}
        note = f"lowest: {best}, NOT fit to ship: {err}"
    write_text(root / "parent_search.md", to_markdown(table))
    write_json(root / "parent_search" / "parent.json", provenance)
    write_xyz(root / "parent_search" / "parent.xyz", atoms)
    write_text(root / "parent_search.csv", table.to_csv(index=False))
    print(f"{note}\n{search['verdict']}")


def cmd_status(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .status import format_search, format_status, md_status, search_status, step_files, study_status

    study, root = resolve_study(args), Path(args.results)
    print(format_status(study_status(study, root), study, step_files(study, root)))
    for line in [*format_search(search_status(study, root), study), *md_status(study, root)]:
        print(line)


def cmd_restore_times(args: argparse.Namespace) -> None:
    from .committime import restore_commit_times

    print(f"restore-times: {restore_commit_times(Path(args.repo))} committed files dated by their last commit")


def cmd_gpaw(args: argparse.Namespace) -> None:
    import shlex

    from .mpi import exec_gpaw, gpaw_argv

    rest = args.args[1:] if args.args[:1] == ["--"] else args.args
    argv = gpaw_argv(args.module, rest, args.ranks, args.mpi)
    print(f"clusterdefects gpaw: {shlex.join(argv)}", flush=True)
    try:
        exec_gpaw(args.module, rest, args.ranks, args.mpi)
    except OSError as err:
        raise InputError(None, f"cannot start {argv[0]!r} ({err.strerror})",
                         "install OpenMPI (bash scripts/setup.sh) or set resources.mpi in the config") from None


def cmd_md(args: argparse.Namespace) -> None:
    import json

    from .md import run

    try:
        run(args.start, args.outdir, args.engine, args.ensemble, json.loads(args.settings), args.box_from,
            args.nve_check)
    except ValueError as err:
        raise InputError(args.start, str(err), "fix the md settings in the config") from None


def cmd_md_sites(args: argparse.Namespace) -> None:
    import json

    from ase.io import read

    from . import figures
    from .fileio import write_json
    import pandas as pd

    from .md import MDSettings
    from .sitetrack import analyse_run

    run_dir = args.run
    summary = json.loads((run_dir / "summary.json").read_text())
    settings = MDSettings.from_config(summary["settings"])
    start = read(args.start)
    vacancy_index = start.info.get("vacancy_index")
    template = read(args.template) if args.template else start
    track, sites = analyse_run(run_dir / "md.traj", template, args.sites, None if vacancy_index is None else int(vacancy_index))
    label = f"{summary['structure_id']}, {summary['engine']} {summary['ensemble']} {settings.temperature:g} K"
    steps = pd.read_csv(run_dir / "steps.csv")
    figures.md_radius_of_gyration(steps, run_dir / "rg.png", f"radius of gyration: {label}")
    figures.md_vacancy_role(track.times_fs, track.vacancy_roles(), run_dir / "vacancy_role.png", f"empty site: {label}")
    rg = steps["rg_A"]
    sites.update(structure_id=summary["structure_id"], engine=summary["engine"], template=str(args.template or args.start),
                 rg_mean_A=float(rg.mean()), rg_change_percent=[float(100 * (rg.min() / rg.mean() - 1)),
                                                               float(100 * (rg.max() / rg.mean() - 1))])
    write_json(args.output, sites)
    print(f"{summary['structure_id']} ({summary['engine']}, {sites['time_fs'] / 1000:.2f} ps): empty site "
          f"{sites['start_empty'] or '-'} -> {sites['final_empty'] or '-'}, {len(sites['migrations'])} site changes, "
          f"Rg {rg.mean():.3f} Å ({sites['rg_change_percent'][0]:+.1f} / {sites['rg_change_percent'][1]:+.1f} %)")
    for event in sites["migrations"]:
        print(f"  {event['time_fs']:8.1f} fs  atom {event['atom']:3d}  {event['from_class']}[{event['from_site']}] -> "
              f"{event['to_class']}[{event['to_site']}]")


def cmd_md_snapshot(args: argparse.Namespace) -> None:
    from .md import snapshot_energy
    from .results import RelaxResult

    found = snapshot_energy(RelaxResult.read(args.snapshot), [RelaxResult.read(p) for p in args.static],
                            args.allow_unconverged)
    write_json(args.output, found)
    print(f"{found['structure_id']} after MD ({args.snapshot}): {found['verdict']}")
    for row in found["static_isomers"]:
        print(f"  {row['structure_id']:28s} {row['relative_energy_eV']:+.3f} eV ({row['spin_state']})")


def cmd_figures(args: argparse.Namespace) -> None:
    import pandas as pd

    from . import figures

    energies = pd.read_csv(args.relative, keep_default_na=False)
    published = resolve_study(args).system.get("published", []) if args.study else []
    figures.energy_diagram(energies, args.levels, f"relative energies ({args.title})", published)
    frag = pd.read_csv(args.fragmentation)
    figures.fragmentation_heatmap(frag, args.heatmap, f"fragmentation energies ({args.title})")
    if args.dopants:
        figures.dopant_scan_figure(energies, args.dopants, f"doped isomers per dopant ({args.title})")
    print(f"wrote {args.levels} and {args.heatmap}")


def picture_inputs(sites: Path, parent: Path) -> tuple[dict[int, str], Any]:
    """The parent's site roles per atom and the common view axis of a study's pictures."""
    from ase.io import read

    from .analysis import atom_roles
    from .render import view_axis
    from .sites import read_sites

    roles = atom_roles(read_sites(sites))
    return roles, view_axis(read(parent), roles)


def cmd_picture(args: argparse.Namespace) -> None:
    from ase.io import read

    from . import figures, render

    relaxed = read(args.relaxed)
    roles, axis = picture_inputs(args.sites, args.parent)
    dopant, vacancy = figures.marked_sites(relaxed, read(args.start) if args.start else None)
    _, renderer, seconds = render.isomer_figure(relaxed, render.isomer_roles(relaxed, roles), args.output,
                                                args.title or relaxed.info.get("structure_id", str(args.relaxed)),
                                                axis, dopant, vacancy)
    print(f"wrote {args.output} ({renderer}, {seconds:.1f} s)")


def cmd_gallery(args: argparse.Namespace) -> None:
    import pandas as pd
    from ase.io import read

    from . import figures, render

    roles, axis = picture_inputs(args.sites, args.parent)
    energies = pd.read_csv(args.relative, keep_default_na=False)
    rows: dict[str, list] = {}
    for row in energies.to_dict("records"):
        folder = args.relax_dir / row["structure_id"]
        atoms = read(folder / "relaxed.xyz")
        dopant, vacancy = figures.marked_sites(atoms, read(folder / "start.xyz"))
        rows.setdefault(row["composition"], []).append(
            (atoms, render.isomer_roles(atoms, roles), f"{row['role']}", float(row["relative_energy_eV"]), dopant, vacancy))
    if not rows:
        raise InputError(args.relative, "no isomers in the table", "relax the doped and vacancy isomers first")
    render.gallery(rows, args.output, args.title, axis)
    print(f"wrote {args.output}")


def cmd_viewer(args: argparse.Namespace) -> None:
    from .viewer import write_viewer

    print(f"wrote {write_viewer(args.relaxed, args.result, args.output)}")


def cmd_show(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .tables import show

    print(show(args.table, args.preset, args.format, Path(args.results)))


def cmd_ccs(args: argparse.Namespace) -> None:
    from .ccs import CCSSettings, ccs_of_file
    from .fileio import write_json

    settings = CCSSettings(temperature=args.temperature, target_error=args.target_error, seed=args.seed,
                           max_trajectories=args.max_trajectories)
    result = ccs_of_file(args.structure, settings, None if args.uniform else args.charges, args.charge,
                         args.structure_id)
    print(f"{result.structure or args.structure}: CCS(N2, {result.temperature_K:g} K) = {result.ccs_A2:.1f} "
          f"+- {result.standard_error_A2:.1f} Å^2 ({result.trajectories} trajectories, charges {result.charge_model})")
    for key, delta in result.sensitivity.items():
        if not key.endswith("_se_A2"):
            print(f"  {key}: {delta:+.1f} +- {result.sensitivity[key.replace('_A2', '_se_A2')]:.1f} Å^2")
    for note in result.notes:
        print(f"  note: {note}")
    if args.output:
        write_json(args.output, result.to_dict())
        print(f"wrote {args.output}")


def cmd_atom(args: argparse.Namespace) -> None:
    from .isomers import isolated_atom

    write_xyz(args.output, isolated_atom(args.symbol))
    print(f"atom-{args.symbol}: written to {args.output}")


def parser() -> argparse.ArgumentParser:
    from .mpi import GPAW_MODULES
    from .tables import TABLES

    p = argparse.ArgumentParser(prog="clusterdefects", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("build-model", help="build a model cluster (default: the T-symmetric Ag29(BDT)12(TPP)4)")
    s.add_argument("model", nargs="?", choices=["Ag29_BDT12_TPP4", "Ag5_SH4"], default="Ag29_BDT12_TPP4")
    s.add_argument("-o", "--output", help="default: structures/<model>.xyz")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--starts", type=int, default=12, help="random starts of the fit")
    s.set_defaults(func=cmd_build_model)

    s = sub.add_parser("parent", help="cut, strip and validate the gas-phase parent cluster")
    s.add_argument("input")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--report", help="JSON report path")
    s.add_argument("--host", required=True)
    s.add_argument("--formula", required=True)
    s.add_argument("--charge", type=int, required=True)
    s.add_argument("--strip-donors", type=_csv_list, default=[], help="e.g. P strips PPh3")
    s.add_argument("--allow-odd-electrons", action="store_true")
    s.set_defaults(func=cmd_parent)

    s = sub.add_parser("ship-parent", help="a converged relaxed parent as a preset's shipped start")
    s.add_argument("relaxed", help="relaxed.xyz of the parent")
    s.add_argument("--result", required=True, help="its result.json (must be converged)")
    s.add_argument("--source", required=True, help="the structure file the relaxation started from")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--provenance", required=True, help="JSON written beside it")
    s.add_argument("--via", help="provenance JSON of an earlier shipped parent the relaxation started from")
    s.add_argument("--replaces", help="provenance JSON of the shipped parent this one replaces without descending from it")
    s.add_argument("--route", help="how the relaxation's start was made, when not straight from --source (kept as 'route'; "
                   "with --via, the source model's SHA-256 and refits are taken from it)")
    s.set_defaults(func=cmd_ship_parent)

    s = sub.add_parser("sites", help="symmetry-distinct metal sites of a structure (XYZ or CIF)")
    s.add_argument("input")
    s.add_argument("--csv", help="write the table here")
    s.add_argument("--metals", type=_csv_list)
    s.add_argument("--expect", type=_csv_list, help="fail unless exactly these classes are found")
    s.add_argument("--paper-labels", type=_mapping, default={}, help="e.g. centre=Iso1,crown=Iso4")
    s.set_defaults(func=cmd_sites)

    s = sub.add_parser("bonds", help="bond lengths per bond type, metals named by site role")
    s.add_argument("input")
    s.add_argument("--parent", help="the undoped parent the input was made from (a doped or vacancy isomer, an MD "
                   "frame): its metals are named by the parent site they hold, and metal pairs bonded in the parent are listed "
                   "at any length (a Hg-Ag contact longer than Hg's covalent criterion)")
    s.add_argument("--sites", help="the parent's sites table (results/<preset>/sites.csv); with --parent")
    s.set_defaults(func=cmd_bonds)

    s = sub.add_parser("dope", help="make a doped isomer")
    s.add_argument("parent")
    s.add_argument("--sites", required=True)
    s.add_argument("--site", required=True)
    s.add_argument("--dopant", required=True)
    s.add_argument("--charge", type=int, required=True)
    s.add_argument("--allow-odd-electrons", action="store_true")
    s.add_argument("--parent-result", help="result.json of the relaxed parent (must be converged)")
    s.add_argument("--allow-unconverged", action="store_true")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_dope)

    s = sub.add_parser("vacancy", help="make a vacancy isomer from a doped isomer")
    s.add_argument("doped")
    s.add_argument("--dopant", required=True)
    s.add_argument("--charge", type=int, required=True)
    s.add_argument("--allow-odd-electrons", action="store_true")
    s.add_argument("--doped-result", help="result.json of the relaxed doped isomer (must be converged)")
    s.add_argument("--allow-unconverged", action="store_true")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_vacancy)

    s = sub.add_parser("collect", help="energies of all relaxations of one preset (same settings only)")
    s.add_argument("results", nargs="+", help="result.json files")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--allow-unconverged", action="store_true")
    s.set_defaults(func=cmd_collect)

    s = sub.add_parser("analyse", help="results tables and ASE database of one preset")
    add_study_options(s)
    s.add_argument("--study", help="the resolved study as JSON (the rule passes it; overrides --preset/--configfile)")
    s.add_argument("--results", default="results")
    s.add_argument("--partial", action="store_true",
                   help="while a study runs: tables of its finished sets of isomers, in <preset>/partial/tables")
    s.set_defaults(func=cmd_analyse)

    s = sub.add_parser("summary", help="a study's results on one Markdown page (<preset>/README.md), from its tables")
    add_study_options(s)
    s.add_argument("--study", help="the resolved study as JSON (the rule passes it; overrides --preset/--configfile)")
    s.add_argument("--results", default="results")
    s.add_argument("-o", "--output", help="default: <results>/<preset>/README.md")
    s.add_argument("--readme", help="instead: fill this file's <!-- results:<preset>:begin/end --> block with the "
                   "comparison and relative energies")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("gpaw", help="one GPAW step under MPI: <mpi> -n <ranks> gpaw python -m clusterdefects.<step>")
    s.add_argument("module", choices=GPAW_MODULES)
    s.add_argument("--ranks", type=int, required=True)
    s.add_argument("--mpi", default="auto", help="launcher: auto (srun in a SLURM job, else mpiexec) or as given")
    s.add_argument("args", nargs=argparse.REMAINDER, help="the step's own arguments (after --)")
    s.set_defaults(func=cmd_gpaw)

    s = sub.add_parser("search-start", help="start of one parent-search candidate (model, crown-<%%>, tetra-<h>, "
                       "basin-<dopant>-<site>)")
    s.add_argument("source", help="the model parent (start.xyz of parent-model), or a basin check's relaxed.xyz")
    s.add_argument("--sites", required=True, help="the study's sites.csv (which atoms are crown, tetrahedral)")
    s.add_argument("--name", required=True, help="model, crown-<percent of the radius>, tetra-<height in 0.01 Å>")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_search_start)

    s = sub.add_parser("parent-search", help="the parent-search table; the lowest candidate, ready to ship")
    add_study_options(s)
    s.add_argument("--study", help="the resolved study as JSON (the rule passes it)")
    s.add_argument("--results", default="results")
    s.add_argument("--partial", action="store_true",
                   help="while the search runs: the finished candidates only, in <preset>/partial/parent_search.csv")
    s.set_defaults(func=cmd_parent_search)

    s = sub.add_parser("status", help="where a study stands: one line per relaxation (works while it runs)")
    add_study_options(s)
    s.add_argument("--results", default="results")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("restore-times", help="date committed files by their last commit, so that Snakemake does "
                                             "not redo a fresh clone's shipped results (setup.sh runs it)")
    s.add_argument("--repo", default=".", help="the git work tree (default: here)")
    s.set_defaults(func=cmd_restore_times)

    s = sub.add_parser("figures", help="energy-level diagram and fragmentation heat map of a study's tables")
    s.add_argument("relative", help="tables/relative_energies.csv")
    s.add_argument("fragmentation", help="tables/fragmentation_energies.csv")
    s.add_argument("--levels", required=True, help="energy-level diagram (PNG) to write")
    s.add_argument("--heatmap", required=True, help="fragmentation heat map (PNG) to write")
    s.add_argument("--dopants", type=Path, help="the dopant-scan figure (PNG) to write")
    s.add_argument("--title", default="", help="e.g. the preset")
    s.add_argument("--study", help="the resolved study (JSON, as rules pass it): its published values are drawn beside")
    s.set_defaults(func=cmd_figures)

    s = sub.add_parser("picture", help="one relaxed isomer, its dopant or empty site marked")
    s.add_argument("relaxed", help="relaxed.xyz")
    s.add_argument("--start", help="start.xyz of a vacancy isomer (where the empty site was)")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--title")
    s.add_argument("--sites", type=Path, required=True, help="the study's sites.csv (site roles)")
    s.add_argument("--parent", type=Path, required=True, help="the parent (its 3-fold axis is the view)")
    s.set_defaults(func=cmd_picture)

    s = sub.add_parser("viewer", help="an interactive 3D view (HTML, no network needed) of a structure and its relaxation")
    s.add_argument("relaxed", type=Path)
    s.add_argument("--result", type=Path, required=True, help="its result.json (the trajectory is found from it)")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.set_defaults(func=cmd_viewer)

    s = sub.add_parser("gallery", help="all isomers of each composition in a row, ordered by relative energy")
    s.add_argument("relative", type=Path, help="tables/relative_energies.csv")
    s.add_argument("--relax-dir", type=Path, required=True, help="results/<preset>/relax")
    s.add_argument("--sites", type=Path, required=True)
    s.add_argument("--parent", type=Path, required=True)
    s.add_argument("--title", default="")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.set_defaults(func=cmd_gallery)

    s = sub.add_parser("show", help="print a results table")
    s.add_argument("table", choices=list(TABLES))
    s.add_argument("--preset", default="screen")
    s.add_argument("--format", choices=["table", "csv", "md", "json"], default="table")
    s.add_argument("--results", default="results")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("ccs", help="collision cross section in N2 by the trajectory method")
    s.add_argument("structure", type=Path)
    s.add_argument("--charges", type=Path, help="JSON with per-atom 'charges' (rule charges: GPAW Hirshfeld)")
    s.add_argument("--uniform", action="store_true", help="spread the net charge evenly (the stated fallback)")
    s.add_argument("--charge", type=int, help="net charge (default: the file's)")
    s.add_argument("--temperature", type=float, default=298.0, help="K (default 298)")
    s.add_argument("--target-error", type=float, default=0.01, help="relative standard error to stop at")
    s.add_argument("--max-trajectories", type=int, default=400_000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--structure-id")
    s.add_argument("-o", "--output", type=Path)
    s.set_defaults(func=cmd_ccs)

    s = sub.add_parser("md", help="molecular dynamics of one structure (resumable): GFN1-xTB here, GPAW through "
                       "`clusterdefects gpaw md`")
    from .md import add_arguments as add_md_arguments

    add_md_arguments(s)
    s.set_defaults(func=cmd_md)

    s = sub.add_parser("md-sites", help="an MD run's metal sites over time: the empty site, migrations, Rg figures")
    s.add_argument("run", type=Path, help="the run's folder (md.traj, steps.csv, summary.json)")
    s.add_argument("--start", type=Path, required=True, help="the structure the run started from")
    s.add_argument("--template", type=Path, help="the site template: a vacancy's relaxed doped isomer (default: the start)")
    s.add_argument("--sites", type=Path, required=True, help="the study's sites.csv")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.set_defaults(func=cmd_md_sites)

    s = sub.add_parser("md-snapshot", help="an MD run's last frame, relaxed with GPAW, among the static isomers")
    s.add_argument("snapshot", type=Path, help="result.json of the relaxed last frame")
    s.add_argument("--static", type=Path, nargs="+", required=True, help="result.json of the static isomers")
    s.add_argument("--allow-unconverged", action="store_true", help="compare relaxations that hit the step limit")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.set_defaults(func=cmd_md_snapshot)

    s = sub.add_parser("atom", help="an isolated atom")
    s.add_argument("symbol")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_atom)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except InputError as err:
        print(f"clusterdefects: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
