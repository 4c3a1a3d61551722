"""The Snakemake workflow, run for real in a scratch copy of the repository."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ase.io import read

from clusterdefects.results import RelaxResult
from conftest import BIN, scratch_checkout, snakemake

pytestmark = pytest.mark.slow  # every test here runs snakemake (a dry run: seconds; the smoke study: minutes)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch checkout: Snakefile, config, rules, package, structures and profiles."""
    return scratch_checkout(tmp_path_factory.mktemp("wf"))


@pytest.fixture(scope="module")
def smoke(smoke_run) -> Path:
    return smoke_run.workdir


def job_counts(output: str) -> dict[str, str]:
    """Rule -> job count from Snakemake's first "Job stats:" table (up to its total row)."""
    counts: dict[str, str] = {}
    for row in (line.split() for line in output.split("Job stats:", 1)[1].splitlines()):
        if len(row) == 2 and row[1].isdigit():
            counts[row[0]] = row[1]
            if row[0] == "total":
                break
    return counts


def test_dry_run_shows_the_whole_dag(workdir):
    result = snakemake(workdir, "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr
    # the screen preset from nothing: 25 relaxations (parent, 16 doped isomers of Hg, Au, Cu and Pt, the 4 Hg
    # vacancies, 4 free atoms); per relaxed structure its Hirshfeld charges, cross section and viewer; a dzp check
    # of the parent and the 9 Hg structures (basis_check.dopants); xTB MD of two vacancies, one with a snapshot
    assert job_counts(result.stdout) == {"parent": "1", "sites": "1", "doped_start": "16", "vacancy_start": "4",
                                         "atom_start": "4", "relax": "25", "collect": "1", "analyse": "1",
                                         "figures": "1", "picture": "20", "gallery": "1", "viewer": "21",
                                         "charges": "21", "ccs": "21", "counterpoise": "4", "basin_check": "16",
                                         "basis_check": "10", "basis_counterpoise": "4", "md_min": "2", "md": "4",
                                         "md_sites": "2", "md_snapshot": "1", "md_snapshot_energy": "1",
                                         "summary": "1", "all": "1", "total": "184"}


def test_remaking_the_shipped_parent_relaxes_it_from_the_model(workdir):
    shipped = "structures/Ag29_BDT12.screen-relaxed.xyz"
    result = snakemake(workdir, "-n", "--quiet", "rules", "--config", "remake_shipped_parent=true",
                       "--forcerun", "ship_parent", "--", shipped)
    assert result.returncode == 0, result.stderr
    assert job_counts(result.stdout) == {"parent": "1", "relax": "1", "ship_parent": "1", "total": "3"}
    detail = snakemake(workdir, "-n", "--config", "remake_shipped_parent=true", "--forcerun", "ship_parent",
                       "--", shipped)
    assert "results/screen/relax/parent-model/start.xyz" in detail.stdout + detail.stderr
    assert "structures/Ag29_BDT12_TPP4.xyz" in detail.stdout + detail.stderr


def test_lint_is_clean(workdir):
    result = snakemake(workdir, "--lint")
    assert result.returncode == 0 and "Congratulations" in result.stdout + result.stderr, result.stdout


def test_screen_parent_and_sites(workdir):
    result = snakemake(workdir, "results/screen/sites.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    sites = pd.read_csv(workdir / "results/screen/sites.csv")
    assert dict(zip(sites["class"], sites["multiplicity"])) == {"centre": 1, "icosahedral": 12, "tetrahedral": 4, "crown": 12}
    assert list(sites["paper_label"]) == ["Iso1", "Iso2", "Iso3", "Iso4"]
    parent = read(workdir / "results/screen/relax/parent/start.xyz")
    assert parent.get_chemical_formula("metal") == "Ag29C72H48S24" and len(parent) == 173
    report = json.loads((workdir / "results/screen/parent.json").read_text())
    assert report["point_group"] == "T" and report["superatom_electrons"] == 8
    assert report["source"] == "structures/Ag29_BDT12.screen-relaxed.xyz"  # the shipped relaxed parent


def test_smoke_relaxes_every_structure(smoke):
    ids = ["parent", "doped-Hg-centre", "doped-Hg-kernel", "doped-Au-centre", "doped-Au-kernel",
           "vacancy-Hg-centre", "vacancy-Hg-kernel", "atom-Hg", "atom-Au"]
    results = {sid: RelaxResult.read(smoke / f"results/smoke/relax/{sid}/result.json") for sid in ids}
    assert len({r.fingerprint for r in results.values()}) == 1
    assert all(r.mpi_ranks == 2 for r in results.values())
    assert all(r.converged == (r.fmax <= r.fmax_target) for r in results.values())
    assert results["parent"].converged and results["atom-Hg"].converged
    assert results["atom-Hg"].spin_policy == "lowest"
    assert set(results["atom-Hg"].spin_energies) == {"paired", "polarized"}
    # a fixed triplet: occupations hold M = 2; the moment integrated on the grid of the small box comes out 1.98
    assert results["atom-Hg"].spin_moments["polarized"] == pytest.approx(2.0, abs=0.05)
    assert all(set(r.point_group) == {"0.02", "0.1", "0.3"} for r in results.values())
    parent = read(smoke / "results/smoke/relax/parent/relaxed.xyz")
    doped = read(smoke / "results/smoke/relax/doped-Hg-kernel/start.xyz")
    assert abs(doped.positions - parent.positions).max() < 1e-6  # made from the relaxed parent
    vacancy = read(smoke / "results/smoke/relax/vacancy-Hg-kernel/start.xyz")
    assert vacancy.get_chemical_formula("metal") == "Ag4H4S4"
    table = pd.read_csv(smoke / "results/smoke/energies.csv")
    assert list(table["structure_id"]) == ids
    for sid, r in results.items():
        assert table.set_index("structure_id").loc[sid, "energy_eV"] == pytest.approx(r.energy)
    assert "step" in (smoke / "results/smoke/logs/relax-parent.log").read_text()
    assert list((smoke / "results/smoke/relax/parent/logs").glob("gpaw-paired-*.txt"))


def test_smoke_tables_agree_with_raw_results(smoke):
    """Every table, checked against an independent recomputation from the result.json energies."""
    raw = {p.parent.name: json.loads(p.read_text())["energy"] for p in (smoke / "results/smoke/relax").glob("*/result.json")}
    tables = smoke / "results/smoke/tables"
    energies = pd.read_csv(tables / "relative_energies.csv")
    for comp, ids in (("Ag4Hg", ["doped-Hg-centre", "doped-Hg-kernel"]), ("Ag4", ["vacancy-Hg-centre", "vacancy-Hg-kernel"])):
        lowest = min(raw[i] for i in ids)
        for i in ids:
            row = energies[energies["structure_id"] == i].iloc[0]
            assert row["composition"] == comp
            assert row["relative_energy_eV"] == pytest.approx(raw[i] - lowest, abs=1e-9)
    frag = pd.read_csv(tables / "fragmentation_energies.csv")
    assert len(frag) == 4  # Hg only: the smoke preset computes no Au vacancies (vacancy_dopants)
    scan = pd.read_csv(tables / "dopant_scan.csv").set_index("dopant")
    assert scan.loc["Hg", "charge"] == 0 and scan.loc["Au", "charge"] == -1  # both keep 2 superatom electrons
    assert (scan["superatom_electrons"] == 2).all() and np.isnan(scan.loc["Au", "dopant_loss_eV"])
    hg = frag[frag["parent_id"] == "doped-Hg-" + scan.loc["Hg", "lowest_site"]]
    assert scan.loc["Hg", "dopant_loss_eV"] == pytest.approx(hg["fragmentation_energy_eV"].min())
    for row in frag.itertuples():
        assert row.fragmentation_energy_eV == pytest.approx(raw[row.product_id] + raw["atom-Hg"] - raw[row.parent_id])
        # counterpoise: the doped isomer's four ghost-basis single points, subtracted as computed
        cp = json.loads((smoke / f"results/smoke/counterpoise/{row.parent_id}.json").read_text())
        points = {k: v["energy"] for k, v in cp["single_points"].items()}
        delta = (points["dopant_own_basis"] - points["dopant_full_basis"]
                 + points["host_own_basis"] - points["host_full_basis"])
        assert cp["correction_eV"] == pytest.approx(delta) and delta > 0
        assert cp["fingerprint"] == json.loads((smoke / "results/smoke/relax/parent/result.json").read_text())["fingerprint"]
        assert row.fragmentation_energy_cp_eV == pytest.approx(row.fragmentation_energy_eV - delta)
    connectivity = pd.read_csv(tables / "connectivity.csv", keep_default_na=False)
    assert set(connectivity["structure_id"]) == set(raw)
    basins = pd.read_csv(tables / "basin_check.csv")
    assert set(basins["from"]) == {f"doped-{x}-{site}" for x in ("Hg", "Au") for site in ("centre", "kernel")}
    for row in basins.to_dict("records"):  # the doped isomer with Ag put back, against the parent's energy
        check = json.loads((smoke / f"results/smoke/basin_check/{row['from']}/result.json").read_text())
        assert check["formula"] == "Ag5H4S4" and check["charge"] == -1
        assert row["delta_eV"] == pytest.approx(check["energy"] - raw["parent"])
    compare = pd.read_csv(tables / "comparison.csv", keep_default_na=False)
    assert compare.loc[0, "quantity"] == "basin check: the parent is the lowest minimum found"
    bonds = pd.read_csv(tables / "bond_lengths.csv")
    assert {"Hg-S", "Hg-Ag", "Ag-S next to vacancy"} <= set(bonds["bond_kind"])
    assert set(pd.read_csv(tables / "geometry.csv")["structure_id"]) == set(raw)
    assert (tables / "comparison.csv").is_file() and (tables / "relative_energies.md").is_file()
    from ase.db import connect

    with connect(smoke / "results/smoke/structures.db") as db:
        rows = list(db.select())
        assert {r.structure_id for r in rows} == set(raw)
        assert all(r.fingerprint == rows[0].fingerprint for r in rows)
    for name in ("energy_levels", "fragmentation", "dopant_scan", "doped-Hg-kernel", "doped-Au-kernel", "vacancy-Hg-kernel"):
        png = smoke / f"results/smoke/figures/{name}.png"
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_show_prints_the_tables(smoke):
    out = subprocess.run([str(BIN / "clusterdefects"), "show", "energies", "--preset", "smoke"], cwd=smoke,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "doped-Hg-kernel" in out.stdout and "relative_energy_eV" in out.stdout
    missing = subprocess.run([str(BIN / "clusterdefects"), "show", "bonds", "--preset", "production"], cwd=smoke,
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "snakemake results/production/tables/bond_lengths.csv" in missing.stderr


def test_database_rows_are_what_ase_db_users_expect(smoke):
    from ase.db import connect

    with connect(smoke / "results/smoke/structures.db") as db:
        rows = {r.structure_id: r for r in db.select()}
    vacancy = rows["vacancy-Hg-kernel"]
    result = RelaxResult.read(smoke / "results/smoke/relax/vacancy-Hg-kernel/result.json")
    assert vacancy.calculator == "gpaw" and vacancy.calculator_parameters["basis"] == "sz(dzp)"
    assert vacancy.net_charge == result.charge and vacancy.magmom == result.magmom and vacancy.role == "kernel"
    other = RelaxResult.read(smoke / "results/smoke/relax/vacancy-Hg-centre/result.json")
    assert vacancy.relative_energy == pytest.approx(result.energy - min(result.energy, other.energy))
    assert (smoke / vacancy.trajectory).is_file() and rows["parent"].relative_energy == 0.0
    out = subprocess.run([str(BIN / "ase"), "db", "results/smoke/structures.db", "net_charge=0,kind=vacancy",
                          "-c", "+relative_energy"], cwd=smoke, capture_output=True, text=True)
    assert out.returncode == 0 and "relative_energy" in out.stdout and "Rows: 2" in out.stdout, out.stdout + out.stderr


def test_report_is_self_contained(smoke):
    result = snakemake(smoke, "--config", "preset=smoke", "--report", "report.html")
    assert result.returncode == 0, result.stderr[-2000:]
    html = (smoke / "report.html").read_text(errors="replace")
    assert len(html) > 10_000 and "energy_levels.png" in html


def test_status_after_the_smoke_study(smoke):
    out = subprocess.run([str(BIN / "clusterdefects"), "status", "--preset", "smoke"], cwd=smoke,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    totals = next(k for k, line in enumerate(lines) if line.startswith("relaxations done"))
    rows = [line.split() for line in lines[3:totals]]
    assert [r[0] for r in rows] == ["parent", "doped-Hg-centre", "doped-Hg-kernel", "doped-Au-centre",
                                    "doped-Au-kernel", "vacancy-Hg-centre", "vacancy-Hg-kernel", "atom-Hg", "atom-Au"]
    assert all(r[1] == "done" for r in rows)
    assert "relaxations done 9/9; basin checks 4/4, counterpoise 2/2, cross sections 7/7" in lines[totals]
    md = lines[totals + 1:]  # one line per MD run: each stage's steps done of its total
    assert [line.split(":")[0] for line in md] == ["md xtb vacancy-Hg-kernel", "md gpaw vacancy-Hg-kernel"]
    assert all("min done, nve 4/4 steps done" in line and "nvt 6/6 steps done" in line for line in md)


def test_a_preset_only_in_an_override_file_runs_to_its_tables(smoke):
    """`analyse` works from the configuration Snakemake resolved (--configfile overrides included), as
    the rule's inputs do: a preset that only an override file defines gets its tables."""
    import shutil

    import yaml

    from clusterdefects.study import read_config

    config = read_config(smoke / "config/config.yaml")
    (smoke / "mine.yaml").write_text(yaml.safe_dump({"presets": {"mine": config["presets"]["smoke"]}}))
    shutil.copytree(smoke / "results/smoke", smoke / "results/mine")  # finished relaxations, mtimes kept
    shutil.rmtree(smoke / "results/mine/tables")
    args = ("--configfile", "config/config.yaml", "mine.yaml", "--config", "preset=mine", "--")
    result = snakemake(smoke, *args, "results/mine/tables/comparison.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "analyse" in result.stdout + result.stderr and "rule relax" not in result.stdout + result.stderr
    compare = pd.read_csv(smoke / "results/mine/tables/comparison.csv", keep_default_na=False)
    assert set(compare["preset"]) == {"mine"}


def test_basis_check_and_hirshfeld_cross_sections_on_the_smoke_study(smoke):
    """A preset with the basis check on and Hirshfeld charges for the cross sections, from the finished smoke
    relaxations: dzp single points and their counterpoise beside the sz(dzp) energies, never mixed."""
    import shutil

    import yaml

    from clusterdefects.study import read_config

    preset = read_config(smoke / "config/config.yaml")["presets"]["smoke"]
    preset = {**preset, "basis_check": {"enabled": True, "basis": "dzp"}, "ccs": {**preset["ccs"], "charges": "hirshfeld"}}
    (smoke / "checked.yaml").write_text(yaml.safe_dump({"presets": {"checked": preset}}))
    shutil.copytree(smoke / "results/smoke", smoke / "results/checked")
    for made in ("tables", "ccs"):  # copies carry no snakemake metadata: remove what the new settings change
        shutil.rmtree(smoke / "results/checked" / made)
    args = ("--configfile", "config/config.yaml", "checked.yaml", "--config", "preset=checked", "--")
    result = snakemake(smoke, *args, "results/checked/tables/comparison.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rule relax:" not in result.stdout + result.stderr
    root = smoke / "results/checked"
    energies = pd.read_csv(root / "tables/basis_energies.csv")
    assert {"relative_energy_eV_sz(dzp)", "relative_energy_eV_dzp", "change_relative_energy_eV"} <= set(energies.columns)
    relaxations = {p.parent.name: RelaxResult.read(p) for p in (root / "relax").glob("*/result.json")}
    for sid, relaxation in relaxations.items():
        check = json.loads((root / f"basis_check/{sid}.json").read_text())
        assert check["fingerprint"] != relaxation.fingerprint and check["dft"]["basis"] == "dzp"
        assert check["spin_state"] == relaxation.spin_state and check["scf_iterations"] > 0
    frag = pd.read_csv(root / "tables/basis_fragmentation.csv")
    assert frag["counterpoise_correction_eV_dzp"].notna().all()
    compare = pd.read_csv(root / "tables/comparison.csv", keep_default_na=False)
    assert compare["quantity"].str.contains("isomer order, basis check dzp vs sz\\(dzp\\)").sum() == 3  # Ag4Hg, Ag4Au, Ag4
    ccs = pd.read_csv(root / "tables/ccs.csv")
    assert set(ccs["charge_model"]) == {"Hirshfeld (GPAW)"} and (ccs["ccs_A2"] > 50).all()
    for sid in ccs["structure_id"]:
        charges = json.loads((root / f"charges/{sid}.json").read_text())
        assert sum(charges["charges"]) == pytest.approx(relaxations[sid].charge, abs=0.05)


def test_one_isomer_picture_is_a_target_of_its_own(smoke):
    picture = smoke / "results/smoke/figures/vacancy-Hg-kernel.png"
    picture.unlink()
    result = snakemake(smoke, "--quiet", "rules", "--", str(picture.relative_to(smoke)))  # no --config preset=smoke
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout + result.stderr) == {"picture": "1", "total": "1"}
    assert picture.read_bytes()[:4] == b"\x89PNG"


def test_parent_search_relaxes_its_candidates_and_keeps_the_lowest(smoke):
    """The smoke search: the model parent and each basin check's candidate relaxed in the study's box."""
    result = snakemake(smoke, "--config", "preset=smoke", "--", "results/smoke/parent_search.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(smoke / "results/smoke/parent_search.csv")
    candidates = {"model", *(f"basin-{x}-{site}" for x in ("hg", "au") for site in ("centre", "kernel"))}
    assert set(table["candidate"]) == candidates | {"study parent", "paper"} and table["candidate"].iloc[-1] == "paper"
    assert table["lowest"].sum() == 1 and table.loc[0, "lowest"] and table.loc[0, "delta_eV"] == 0.0
    results = {name: RelaxResult.read(smoke / f"results/smoke/relax/parent-search-{name}/result.json")
               for name in candidates}
    results["study parent"] = RelaxResult.read(smoke / "results/smoke/relax/parent/result.json")
    table = table[table["candidate"] != "paper"]
    lowest_energy = min(r.energy for r in results.values())
    for row in table.itertuples():
        assert row.energy_eV == pytest.approx(results[row.candidate].energy)
        assert row.delta_eV == pytest.approx(results[row.candidate].energy - lowest_energy)
    parent = RelaxResult.read(smoke / "results/smoke/relax/parent/result.json")
    assert all(r.box_A == parent.box_A and r.fingerprint == parent.fingerprint for r in results.values())
    basin_start = read(smoke / "results/smoke/relax/parent-search-basin-hg-kernel/start.xyz")
    assert basin_start.get_chemical_formula("metal") == "Ag5H4S4"  # Hg put back to Ag
    chosen = json.loads((smoke / "results/smoke/parent_search/parent.json").read_text())
    assert chosen["candidate"] == min(candidates, key=lambda name: results[name].energy)
    assert len(chosen["parent_search"]) == 7 and "parent" in chosen["verdict"]
    assert read(smoke / "results/smoke/parent_search/parent.xyz").get_chemical_formula("metal") == "Ag5H4S4"

    # While the search runs, --partial tabulates the finished candidates and writes no parent.
    unfinished = smoke / "results/smoke/relax/parent-search-model/result.json"
    unfinished.rename(unfinished.with_suffix(".aside"))
    try:
        out = subprocess.run([str(BIN / "clusterdefects"), "parent-search", "--preset", "smoke", "--partial"], cwd=smoke,
                             capture_output=True, text=True)
    finally:
        unfinished.with_suffix(".aside").rename(unfinished)
    assert out.returncode == 0, out.stderr
    assert f"partial: {len(candidates) - 1} of {len(candidates)} candidates finished" in out.stdout
    partial = pd.read_csv(smoke / "results/smoke/partial/parent_search.csv")
    assert set(partial["candidate"]) == (candidates - {"model"}) | {"study parent", "paper"}


def test_one_isomer_reruns_alone(smoke):
    target = "results/smoke/relax/doped-Hg-centre/result.json"
    stamps = {p: p.stat().st_mtime_ns for p in (smoke / "results/smoke/relax").glob("*/*.json")}
    result = snakemake(smoke, target, "--force")
    assert result.returncode == 0, result.stderr
    changed = sorted(p.parent.name for p, t in stamps.items() if p.stat().st_mtime_ns != t)
    assert changed == ["doped-Hg-centre"]


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


def test_md_of_the_smoke_vacancy_with_both_engines(smoke):
    """config md (smoke): GFN1-xTB and GPAW, an NVE check and a thermostatted run each, and the site analysis."""
    root = smoke / "results/smoke/md"
    summaries = {}
    for engine in ("xtb", "gpaw"):
        run = root / engine / "vacancy-Hg-kernel"
        minimum = json.loads((run / "min/summary.json").read_text())
        assert minimum["fmax"] < 0.5 and minimum["energy_change_eV"] <= 0
        nve = json.loads((run / "nve/summary.json").read_text())
        nvt = json.loads((run / "nvt/summary.json").read_text())
        sites = json.loads((run / "sites.json").read_text())
        assert nve["steps"] == 4 and nvt["steps"] == 6 and nvt["frames"] == 4
        assert nve["fingerprint"]["engine"] == engine and "etot_change_eV" in nve["nve_drift"]
        assert sites["frames"] == 4 and sites["start_empty"] == "kernel"
        assert (run / "nvt/rg.png").read_bytes()[:4] == b"\x89PNG"
        summaries[engine] = nvt
    assert summaries["gpaw"]["fingerprint"]["dft_fingerprint"] and "dft_fingerprint" not in summaries["xtb"]["fingerprint"]
    assert summaries["gpaw"]["s_per_step"] > 0
    placed = json.loads((root / "xtb/vacancy-Hg-kernel/snapshot.json").read_text())  # its last frame, by GPAW
    assert {r["structure_id"] for r in placed["static_isomers"]} == {"vacancy-Hg-centre", "vacancy-Hg-kernel"}
    static = RelaxResult.read(smoke / "results/smoke/relax/vacancy-Hg-kernel/result.json")
    assert placed["fingerprint"] == static.fingerprint and "lowest static isomer" in placed["verdict"]


def test_the_study_page_is_made_from_its_tables(smoke):
    """results/<preset>/README.md: the comparison, each table and the MD runs as the tables say, the figures linked."""
    page = (smoke / "results/smoke/README.md").read_text()
    energies = pd.read_csv(smoke / "results/smoke/tables/relative_energies.csv")
    row = energies[energies["structure_id"] == "doped-Hg-centre"].iloc[0]
    assert f"| doped-Hg-centre | centre |  | {row['relative_energy_eV']:.4f} |" in page
    compare = pd.read_csv(smoke / "results/smoke/tables/comparison.csv", keep_default_na=False)
    assert compare["computed"].iloc[0] in page
    sites = json.loads((smoke / "results/smoke/md/xtb/vacancy-Hg-kernel/sites.json").read_text())
    assert f"| xtb | vacancy-Hg-kernel | {sites['time_fs'] / 1000:.4f} |" in page
    for image in ("energy_levels", "gallery", "vacancy-Hg-kernel"):
        assert f"(figures/{image}.png)" in page and (smoke / f"results/smoke/figures/{image}.png").is_file()
