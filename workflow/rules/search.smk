# The parent search (`snakemake results/<preset>/parent_search.csv`): candidate parents made from the
# model parent and from the study's basin checks (each doped isomer with its dopant put back), all relaxed
# to the end by the `relax` rule in the study's box; the table and the lowest candidate, ready to ship.


localrules:
    search_start,
    parent_search,


rule search_start:
    input:
        unpack(lambda w: study(w).search_start_inputs(w.name)),
    output:
        "results/{preset}/relax/parent-search-{name}/start.xyz",
    log:
        "results/{preset}/logs/search_start-{name}.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects search-start {input.source} --sites {input.sites} --name {wildcards.name} -o {output} "
        "> {log} 2>&1"


rule parent_search:
    input:
        candidates=lambda w: study(w).search_files(),
        sites="results/{preset}/sites.csv",
    output:
        table="results/{preset}/parent_search.csv",
        md="results/{preset}/parent_search.md",
        parent="results/{preset}/parent_search/parent.xyz",
        provenance="results/{preset}/parent_search/parent.json",
    log:
        "results/{preset}/logs/parent_search.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        study=lambda w: study(w).cli_json(),
    shell:
        "clusterdefects parent-search --study {params.study} > {log} 2>&1"
