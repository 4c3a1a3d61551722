# Collision cross sections in N2 (trajectory method) of the relaxed structures, with the ion's partial
# charges from one GPAW SCF (Hirshfeld) where the config asks for them.


rule charges:
    input:
        structure="results/{preset}/relax/{sid}/relaxed.xyz",
        relaxation="results/{preset}/relax/{sid}/result.json",
        box=lambda w: study(w).box_source("parent"),
    output:
        "results/{preset}/charges/{sid}.json",
    log:
        "results/{preset}/logs/charges-{sid}.log",
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
        settings=lambda w: study(w).dft_args(),
        box=lambda w: study(w).box_flag("parent"),
    shell:
        "clusterdefects gpaw --ranks {resources.tasks} --mpi '{resources.mpi}' singlepoint -- {input.structure} "
        "-o {output} --relaxation {input.relaxation} --settings {params.settings} {params.box} > {log} 2>&1"


rule ccs:
    input:
        unpack(lambda w: study(w).ccs_inputs(w.sid)),
    output:
        "results/{preset}/ccs/{sid}.json",
    log:
        "results/{preset}/logs/ccs-{sid}.log",
    conda:
        "../../envs/gpaw.yaml"
    threads: lambda w: study(w).ccs["threads"]
    resources:
        runtime=60,
    params:
        args=lambda w: study(w).ccs_args(w.sid),
    shell:
        "NUMBA_NUM_THREADS={threads} clusterdefects ccs {input.structure} {params.args} -o {output} > {log} 2>&1"
