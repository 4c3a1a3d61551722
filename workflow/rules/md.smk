# Molecular dynamics of the structures the config lists (config `md`), per engine: xtb (GFN1-xTB, tblite) or
# gpaw (the study's settings, under MPI). The engine's own minimum (min/), an NVE check of the time step (nve/),
# the thermostatted run (nvt/), and the site analysis of that run (the empty site over time, migrations, Rg).
# A killed run goes on from its last frame.


rule md:
    input:
        start="results/{preset}/md/{engine}/{sid}/min/minimized.xyz",
        box=lambda w: study(w).box_source("parent") if w.engine == "gpaw" else [],
        nve=lambda w: study(w).md_nve_check(w.engine, w.sid, w.ensemble),
    output:
        summary="results/{preset}/md/{engine}/{sid}/{ensemble}/summary.json",
        final="results/{preset}/md/{engine}/{sid}/{ensemble}/final.xyz",
    log:
        "results/{preset}/logs/md-{engine}-{sid}-{ensemble}.log",
    wildcard_constraints:
        engine="xtb|gpaw",
        ensemble="nve|nvt",
    conda:
        "../../envs/gpaw.yaml"
    threads: lambda w: study(w).md_resources(w.engine)["threads"]
    resources:
        tasks=lambda w: study(w).md_resources(w.engine)["tasks"],
        cpus_per_task=lambda w: study(w).md_resources(w.engine)["cpus_per_task"],
        mem_mb=lambda w: study(w).resources()["mem_mb"],
        runtime=lambda w: study(w).resources()["runtime"],
        mpi=lambda w: study(w).md_resources(w.engine)["mpi"],
    params:
        command=lambda w: study(w).md_command(w.engine),
        args=lambda w: study(w).md_args(w.engine),
        ensemble=lambda w: w.ensemble,
        outdir=lambda w, output: str(Path(output[0]).parent),
        nve=lambda w, input: f"--nve-check {input.nve}" if input.nve else "",
    shell:
        "{params.command} {input.start} {params.outdir} --ensemble {params.ensemble} {params.args} {params.nve} "
        "> {log} 2>&1"


use rule md as md_min with:
    input:
        start=lambda w: study(w).md_start(w.sid),
        box=lambda w: study(w).box_source("parent") if w.engine == "gpaw" else [],
    output:
        summary="results/{preset}/md/{engine}/{sid}/min/summary.json",
        minimized="results/{preset}/md/{engine}/{sid}/min/minimized.xyz",
    log:
        "results/{preset}/logs/md-{engine}-{sid}-min.log",
    params:
        command=lambda w: study(w).md_command(w.engine),
        args=lambda w: study(w).md_args(w.engine, "min"),
        ensemble="min",
        outdir=lambda w, output: str(Path(output[0]).parent),
        nve="",


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


rule md_snapshot:
    # The last frame of the thermostatted run, relaxed with GPAW at the study's settings (box, spin policy of
    # its kind): a structure MD found gets an energy beside the static isomers.
    input:
        start="results/{preset}/md/{engine}/{sid}/nvt/final.xyz",
        box=lambda w: study(w).box_source(w.sid),
    output:
        result="results/{preset}/md/{engine}/{sid}/snapshot/result.json",
        xyz="results/{preset}/md/{engine}/{sid}/snapshot/relaxed.xyz",
    log:
        "results/{preset}/logs/md_snapshot-{engine}-{sid}.log",
    wildcard_constraints:
        engine="xtb|gpaw",
    priority: 1
    conda:
        "../../envs/gpaw.yaml"
    threads: lambda w: study(w).resources()["tasks"]
    resources:
        tasks=lambda w: study(w).resources()["tasks"],
        cpus_per_task=lambda w: study(w).resources()["cpus_per_task"],
        mem_mb=lambda w: study(w).resources()["mem_mb"],
        runtime=lambda w: study(w).resources()["runtime"],
        mpi=lambda w: study(w).resources()["mpi"],
    params:
        settings=lambda w: study(w).relax_args(w.sid),
        box=lambda w: study(w).box_flag(w.sid),
        outdir=lambda w, output: str(Path(output.result).parent),
    shell:
        "clusterdefects gpaw --ranks {resources.tasks} --mpi '{resources.mpi}' relax -- {input.start} {params.outdir} "
        "--settings {params.settings} {params.box} > {log} 2>&1"


rule md_snapshot_energy:
    input:
        snapshot="results/{preset}/md/{engine}/{sid}/snapshot/result.json",
        static=lambda w: study(w).static_isomers(w.sid),
    output:
        "results/{preset}/md/{engine}/{sid}/snapshot.json",
    log:
        "results/{preset}/logs/md_snapshot_energy-{engine}-{sid}.log",
    wildcard_constraints:
        engine="xtb|gpaw",
    conda:
        "../../envs/gpaw.yaml"
    params:
        unconverged=lambda w: study(w).unconverged_flag(),
    shell:
        "clusterdefects md-snapshot {input.snapshot} --static {input.static} {params.unconverged} -o {output} "
        "> {log} 2>&1"
