# Tables, database, figures and report of one preset, from the relaxed structures.


localrules:
    analyse,
    figures,
    picture,


rule analyse:
    input:
        results=lambda w: study(w).result_files(),
        counterpoise=lambda w: study(w).counterpoise_files(),
        basins=lambda w: study(w).basin_files(),
        ccs=lambda w: study(w).ccs_files(),
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
                    "ccs",
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
    params:
        study=lambda w: study(w).cli_json(),
    shell:
        "clusterdefects analyse --study {params.study} > {log} 2>&1"


rule figures:
    input:
        relative="results/{preset}/tables/relative_energies.csv",
        fragmentation="results/{preset}/tables/fragmentation_energies.csv",
    output:
        levels=report(
            "results/{preset}/figures/energy_levels.png",
            caption="../report/energy_levels.rst",
            category="Figures",
        ),
        heatmap=report(
            "results/{preset}/figures/fragmentation.png",
            caption="../report/fragmentation.rst",
            category="Figures",
        ),
    log:
        "results/{preset}/logs/figures.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects figures {input.relative} {input.fragmentation} --levels {output.levels} "
        "--heatmap {output.heatmap} --title '{wildcards.preset} preset' > {log} 2>&1"


rule picture:
    # One picture per doped or vacancy isomer; a vacancy's start says where its empty site was.
    input:
        relaxed="results/{preset}/relax/{isomer}/relaxed.xyz",
        start="results/{preset}/relax/{isomer}/start.xyz",
    output:
        report(
            "results/{preset}/figures/{isomer}.png",
            caption="../report/isomers.rst",
            category="Isomers",
        ),
    log:
        "results/{preset}/logs/picture-{isomer}.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects picture {input.relaxed} --start {input.start} -o {output} "
        "--title '{wildcards.isomer} ({wildcards.preset})' > {log} 2>&1"
