# Parent structure -> symmetry-distinct sites -> doped isomers -> vacancy isomers.
# Each rule calls one `clusterdefects` command; the logic lives in the package.


localrules:
    parent,
    sites,
    doped_start,
    vacancy_start,
    atom_start,


rule parent:
    input:
        lambda w: study(w).system["parent"],
    output:
        xyz="results/{preset}/relax/parent/start.xyz",
        report="results/{preset}/parent.json",
    log:
        "results/{preset}/logs/parent.log",
    params:
        args=lambda w: study(w).parent_args(),
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects parent {input} -o {output.xyz} --report {output.report} {params.args} > {log} 2>&1"


rule sites:
    input:
        "results/{preset}/relax/parent/start.xyz",
    output:
        "results/{preset}/sites.csv",
    log:
        "results/{preset}/logs/sites.log",
    params:
        args=lambda w: study(w).sites_args(),
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects sites {input} --csv {output} {params.args} > {log} 2>&1"


rule doped_start:
    input:
        parent="results/{preset}/relax/parent/start.xyz",
        sites="results/{preset}/sites.csv",
    output:
        "results/{preset}/relax/doped-{dopant}-{site}/start.xyz",
    log:
        "results/{preset}/logs/doped-{dopant}-{site}.start.log",
    params:
        charge=lambda w: study(w).system["charges"]["doped"],
        odd=lambda w: study(w).odd_flag(),
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects dope {input.parent} --sites {input.sites} --site {wildcards.site} "
        "--dopant {wildcards.dopant} --charge={params.charge} {params.odd} -o {output} > {log} 2>&1"


rule vacancy_start:
    input:
        "results/{preset}/relax/doped-{dopant}-{site}/start.xyz",
    output:
        "results/{preset}/relax/vacancy-{dopant}-{site}/start.xyz",
    log:
        "results/{preset}/logs/vacancy-{dopant}-{site}.start.log",
    params:
        charge=lambda w: study(w).system["charges"]["vacancy"],
        odd=lambda w: study(w).odd_flag(),
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects vacancy {input} --dopant {wildcards.dopant} --charge={params.charge} {params.odd} "
        "-o {output} > {log} 2>&1"


rule atom_start:
    output:
        "results/{preset}/relax/atom-{dopant}/start.xyz",
    log:
        "results/{preset}/logs/atom-{dopant}.start.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects atom {wildcards.dopant} -o {output} > {log} 2>&1"
