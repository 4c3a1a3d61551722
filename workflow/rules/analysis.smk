# Tables, database, figures and report of one preset, from the relaxed structures.


localrules:
    analyse,
    summary,
    figures,
    picture,
    gallery,
    viewer,


rule analyse:
    input:
        results=lambda w: study(w).result_files(),
        counterpoise=lambda w: study(w).counterpoise_files(),
        basins=lambda w: study(w).basin_files(),
        ccs=lambda w: study(w).ccs_files(),
        basis_check=lambda w: study(w).basis_check_files(),
        sites="results/{preset}/sites.csv",
    output:
        tables=report(
            expand(
                "results/{{preset}}/tables/{name}.csv",
                name=TABLES.values(),  # every table `clusterdefects analyse` writes
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


rule summary:
    # The study's results on one page (results/<preset>/README.md): the comparison with the paper, the tables,
    # the MD runs and the figures, all read from the files above.
    input:
        tables=expand("results/{{preset}}/tables/{name}.csv", name=TABLES.values()),
        energies="results/{preset}/energies.csv",
        figures=lambda w: study(w).figure_files(),
        md=lambda w: study(w).md_files(),
    output:
        "results/{preset}/README.md",
    log:
        "results/{preset}/logs/summary.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        study=lambda w: study(w).cli_json(),
    shell:
        "clusterdefects summary --study {params.study} > {log} 2>&1"


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
        dopants=report(
            "results/{preset}/figures/dopant_scan.png",
            caption="../report/dopant_scan.rst",
            category="Figures",
        ),
    log:
        "results/{preset}/logs/figures.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        study=lambda w: study(w).cli_json(),
    shell:
        "clusterdefects figures {input.relative} {input.fragmentation} --levels {output.levels} "
        "--heatmap {output.heatmap} --dopants {output.dopants} --title '{wildcards.preset} preset' "
        "--study {params.study} > {log} 2>&1"


rule picture:
    # One rendered picture per doped or vacancy isomer (site classes coloured, ligands faded, its dopant or
    # empty site marked; a vacancy's start says where its empty site was), all along one axis of the parent.
    input:
        relaxed="results/{preset}/relax/{isomer}/relaxed.xyz",
        start="results/{preset}/relax/{isomer}/start.xyz",
        sites="results/{preset}/sites.csv",
        parent="results/{preset}/relax/parent/start.xyz",
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
        "clusterdefects picture {input.relaxed} --start {input.start} --sites {input.sites} --parent {input.parent} "
        "-o {output} --title '{wildcards.isomer} ({wildcards.preset})' > {log} 2>&1"


rule gallery:
    # All isomers of each composition in one row, in the order of their relative energy.
    input:
        relative="results/{preset}/tables/relative_energies.csv",
        structures=lambda w: study(w).isomer_structure_files(),
        sites="results/{preset}/sites.csv",
        parent="results/{preset}/relax/parent/start.xyz",
    output:
        report(
            "results/{preset}/figures/gallery.png",
            caption="../report/gallery.rst",
            category="Figures",
        ),
    log:
        "results/{preset}/logs/gallery.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        relax_dir=lambda w: f"{study(w).results}/relax",
    shell:
        "clusterdefects gallery {input.relative} --relax-dir {params.relax_dir} --sites {input.sites} "
        "--parent {input.parent} --title '{wildcards.preset} preset' -o {output} > {log} 2>&1"


rule viewer:
    # An interactive 3D view (3Dmol.js embedded: no network) of one relaxed structure and its relaxation.
    input:
        relaxed="results/{preset}/relax/{sid}/relaxed.xyz",
        result="results/{preset}/relax/{sid}/result.json",
    output:
        report(
            "results/{preset}/viewer/{sid}.html",
            caption="../report/viewer.rst",
            category="3D viewer",
        ),
    log:
        "results/{preset}/logs/viewer-{sid}.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects viewer {input.relaxed} --result {input.result} -o {output} > {log} 2>&1"
