# One GPAW relaxation per structure (MPI through the `mpi` resource: `auto` is mpiexec here, srun in a
# SLURM job; `clusterdefects gpaw` sets the MPI environment and starts `gpaw python -m clusterdefects.<step>`),
# and the energies of a preset collected once every relaxation is done.


localrules:
    collect,


rule relax:
    input:
        start="results/{preset}/relax/{sid}/start.xyz",
        box=lambda w: study(w).box_source(w.sid),
    output:
        result="results/{preset}/relax/{sid}/result.json",
        xyz="results/{preset}/relax/{sid}/relaxed.xyz",
    log:
        "results/{preset}/logs/relax-{sid}.log",
    priority: 1  # DFT relaxations and single points before the cheap steps that follow them
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
        hessian=lambda w: study(w).hessian_flag(w.sid),
        box=lambda w: study(w).box_flag(w.sid),
        outdir=lambda w, output: str(Path(output.result).parent),
    shell:
        "clusterdefects gpaw --ranks {resources.tasks} --mpi '{resources.mpi}' relax -- {input.start} {params.outdir} "
        "--settings {params.settings} {params.hessian} {params.box} > {log} 2>&1"


rule counterpoise:
    input:
        doped="results/{preset}/relax/doped-{dopant}-{site}/relaxed.xyz",
        vacancy="results/{preset}/relax/vacancy-{dopant}-{site}/result.json",
        atom="results/{preset}/relax/atom-{dopant}/result.json",
        box=lambda w: study(w).box_source("parent"),
    output:
        "results/{preset}/counterpoise/doped-{dopant}-{site}.json",
    log:
        "results/{preset}/logs/counterpoise-doped-{dopant}-{site}.log",
    priority: 1  # DFT relaxations and single points before the cheap steps that follow them
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
        "clusterdefects gpaw --ranks {resources.tasks} --mpi '{resources.mpi}' counterpoise -- {input.doped} -o {output} "
        "--settings {params.settings} --vacancy-result {input.vacancy} --atom-result {input.atom} {params.box} "
        "> {log} 2>&1"


rule basin_check:
    input:
        doped="results/{preset}/relax/doped-{dopant}-{site}/relaxed.xyz",
        parent="results/{preset}/relax/parent/result.json",
        box=lambda w: study(w).box_source("parent"),
    output:
        basin="results/{preset}/basin_check/doped-{dopant}-{site}/basin.json",
        relaxed="results/{preset}/basin_check/doped-{dopant}-{site}/relaxed.xyz",
    log:
        "results/{preset}/logs/basin_check-doped-{dopant}-{site}.log",
    priority: 1  # DFT relaxations and single points before the cheap steps that follow them
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
        settings=lambda w: study(w).relax_args("parent"),
        box=lambda w: study(w).box_flag("parent"),
        outdir=lambda w, output: str(Path(output.basin).parent),
    shell:
        "clusterdefects gpaw --ranks {resources.tasks} --mpi '{resources.mpi}' basin -- {input.doped} {params.outdir} "
        "--parent-result {input.parent} --settings {params.settings} {params.box} > {log} 2>&1"


rule collect:
    input:
        lambda w: study(w).result_files(),
    output:
        "results/{preset}/energies.csv",
    log:
        "results/{preset}/logs/collect.log",
    conda:
        "../../envs/gpaw.yaml"
    params:
        flags=lambda w: study(w).unconverged_flag(),
    shell:
        "clusterdefects collect {input} -o {output} {params.flags} > {log} 2>&1"


rule basis_check:
    # One SCF at the check basis (basis_check.basis) on a relaxed geometry, in its kept spin state and box
    # (and, where the relaxation computed both spin states, the other one at the same geometry).
    input:
        structure="results/{preset}/relax/{sid}/relaxed.xyz",
        relaxation="results/{preset}/relax/{sid}/result.json",
        box=lambda w: study(w).box_source(w.sid),
    output:
        "results/{preset}/basis_check/{sid}.json",
    log:
        "results/{preset}/logs/basis_check-{sid}.log",
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
        settings=lambda w: study(w).check_dft_args(),
        box=lambda w: study(w).box_flag(w.sid),
    shell:
        "clusterdefects gpaw --ranks {resources.tasks} --mpi '{resources.mpi}' singlepoint -- {input.structure} "
        "-o {output} --relaxation {input.relaxation} --settings {params.settings} {params.box} --no-charges "
        "--other-spin > {log} 2>&1"


use rule counterpoise as basis_counterpoise with:
    output:
        "results/{preset}/basis_check/counterpoise/doped-{dopant}-{site}.json",
    log:
        "results/{preset}/logs/basis_counterpoise-doped-{dopant}-{site}.log",
    params:
        settings=lambda w: study(w).check_dft_args(),
        box=lambda w: study(w).box_flag("parent"),
