# Parent structure -> symmetry-distinct sites -> doped isomers (from the relaxed parent)
# -> vacancy isomers (from the relaxed doped isomers). Each rule calls one `clusterdefects` command.


localrules:
    parent,
    sites,
    doped_start,
    vacancy_start,
    atom_start,


rule parent:
    # `parent`: the study's parent (from the shipped relaxed parent where the preset says so);
    # `parent-model`: always from the system's own file, to remake the shipped one (ship.smk).
    input:
        lambda w: study(w).parent_source(w.parent_id),
    output:
        xyz="results/{preset}/relax/{parent_id}/start.xyz",
        report="results/{preset}/{parent_id}.json",
    log:
        "results/{preset}/logs/{parent_id}.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        args=lambda w: study(w).parent_args(),
    shell:
        "clusterdefects parent {input} -o {output.xyz} --report {output.report} {params.args} > {log} 2>&1"


rule sites:
    input:
        "results/{preset}/relax/parent/start.xyz",
    output:
        "results/{preset}/sites.csv",
    log:
        "results/{preset}/logs/sites.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        args=lambda w: study(w).sites_args(),
    shell:
        "clusterdefects sites {input} --csv {output} {params.args} > {log} 2>&1"


rule doped_start:
    input:
        parent="results/{preset}/relax/parent/relaxed.xyz",
        result="results/{preset}/relax/parent/result.json",
        sites="results/{preset}/sites.csv",
    output:
        "results/{preset}/relax/doped-{dopant}-{site}/start.xyz",
    log:
        "results/{preset}/logs/doped-{dopant}-{site}.start.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        charge=lambda w: study(w).charge("doped", w.dopant),
        flags=lambda w: f"{study(w).odd_flag()} {study(w).unconverged_flag()}",
    shell:
        "clusterdefects dope {input.parent} --parent-result {input.result} --sites {input.sites} "
        "--site {wildcards.site} --dopant {wildcards.dopant} --charge={params.charge} {params.flags} "
        "-o {output} > {log} 2>&1"


rule vacancy_start:
    input:
        doped="results/{preset}/relax/doped-{dopant}-{site}/relaxed.xyz",
        result="results/{preset}/relax/doped-{dopant}-{site}/result.json",
    output:
        "results/{preset}/relax/vacancy-{dopant}-{site}/start.xyz",
    log:
        "results/{preset}/logs/vacancy-{dopant}-{site}.start.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        charge=lambda w: study(w).charge("vacancy", w.dopant),
        flags=lambda w: f"{study(w).odd_flag()} {study(w).unconverged_flag()}",
    shell:
        "clusterdefects vacancy {input.doped} --doped-result {input.result} --dopant {wildcards.dopant} "
        "--charge={params.charge} {params.flags} -o {output} > {log} 2>&1"


rule atom_start:
    output:
        "results/{preset}/relax/atom-{dopant}/start.xyz",
    log:
        "results/{preset}/logs/atom-{dopant}.start.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects atom {wildcards.dopant} -o {output} > {log} 2>&1"
