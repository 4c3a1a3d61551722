# Tables, database, figures and report of one preset, from the relaxed structures.


localrules:
    analyse,
    figures,


rule analyse:
    input:
        results=lambda w: study(w).result_files(),
        counterpoise=lambda w: study(w).counterpoise_files(),
        basins=lambda w: study(w).basin_files(),
        sites="results/{preset}/sites.csv",
    output:
        tables=report(
            expand(
                "results/{{preset}}/tables/{name}.csv",
                name=[
                    "relative_energies",
                    "fragmentation_energies",
                    "bond_lengths",
                    "geometry",
                    "connectivity",
                    "basin_check",
                    "comparison",
                ],
            ),
            caption="../report/tables.rst",
            category="Tables",
        ),
        db="results/{preset}/structures.db",
    log:
        "results/{preset}/logs/analyse.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects analyse --preset {wildcards.preset} > {log} 2>&1"


rule figures:
    input:
        "results/{preset}/tables/relative_energies.csv",
        "results/{preset}/tables/fragmentation_energies.csv",
    output:
        levels=report(
            "results/{preset}/figures/energy_levels.png",
            caption="../report/energy_levels.rst",
            category="Figures",
        ),
        frag=report(
            "results/{preset}/figures/fragmentation.png",
            caption="../report/fragmentation.rst",
            category="Figures",
        ),
        isomers=report(
            expand(
                "results/{{preset}}/figures/{sid}.png",
                sid=STUDY.doped_ids() + STUDY.vacancy_ids(),
            ),
            caption="../report/isomers.rst",
            category="Isomers",
        ),
    log:
        "results/{preset}/logs/figures.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        ids=lambda w: " ".join(study(w).doped_ids() + study(w).vacancy_ids()),
    shell:
        "clusterdefects figures --preset {wildcards.preset} {params.ids} > {log} 2>&1"
