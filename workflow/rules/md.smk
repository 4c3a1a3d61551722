# Molecular dynamics of the structures the config lists (config `md`), per engine: xtb (GFN1-xTB, tblite) or
# gpaw (the study's settings, under MPI). An NVE check of the time step, the thermostatted run, and the site
# analysis of that run (the empty site over time, migrations, Rg). A killed run goes on from its last frame.


rule md:
    input:
        start=lambda w: study(w).md_start(w.sid),
        box=lambda w: study(w).box_source("parent") if w.engine == "gpaw" else [],
    output:
        "results/{preset}/md/{engine}/{sid}/{ensemble}/summary.json",
    log:
        "results/{preset}/logs/md-{engine}-{sid}-{ensemble}.log",
    wildcard_constraints:
        engine="xtb|gpaw",
        ensemble="nve|nvt",
    conda:
        "../../envs/gpaw.yaml"
    threads: lambda w: study(w).resources()["tasks"] if w.engine == "gpaw" else study(w).md["threads"]
    resources:
        tasks=lambda w: study(w).resources()["tasks"] if w.engine == "gpaw" else 1,
        cpus_per_task=lambda w: 1 if w.engine == "gpaw" else study(w).md["threads"],
        mem_mb=lambda w: study(w).resources()["mem_mb"],
        runtime=lambda w: study(w).resources()["runtime"],
    params:
        command=lambda w: study(w).md_command(w.engine),
        args=lambda w: study(w).md_args(w.engine),
        outdir=lambda w, output: str(Path(output[0]).parent),
    shell:
        "{params.command} {input.start} {params.outdir} --ensemble {wildcards.ensemble} {params.args} > {log} 2>&1"


rule md_sites:
    input:
        run="results/{preset}/md/{engine}/{sid}/nvt/summary.json",
        start=lambda w: study(w).md_start(w.sid),
        template=lambda w: study(w).md_template(w.sid),
        sites="results/{preset}/sites.csv",
    output:
        sites="results/{preset}/md/{engine}/{sid}/sites.json",
        rg="results/{preset}/md/{engine}/{sid}/nvt/rg.png",
        role="results/{preset}/md/{engine}/{sid}/nvt/vacancy_role.png",
    log:
        "results/{preset}/logs/md_sites-{engine}-{sid}.log",
    wildcard_constraints:
        engine="xtb|gpaw",
    conda:
        "../../envs/gpaw.yaml"
    params:
        run=lambda w, input: str(Path(input.run).parent),
    shell:
        "clusterdefects md-sites {params.run} --start {input.start} --template {input.template} --sites {input.sites} "
        "-o {output.sites} > {log} 2>&1"
