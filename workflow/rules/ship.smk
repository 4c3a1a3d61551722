# Remakes a preset's shipped relaxed parent (structures/<system>.<preset>-relaxed.xyz and its .json
# provenance) from the system's own file. Included only with --config remake_shipped_parent=true, so a
# normal run treats the shipped file as a source and never relaxes the parent from scratch.


localrules:
    ship_parent,


rule ship_parent:
    input:
        xyz="results/{preset}/relax/parent-model/relaxed.xyz",
        result="results/{preset}/relax/parent-model/result.json",
        source=lambda w: study(w).system["parent"],
    output:
        xyz="structures/{system}.{preset}-relaxed.xyz",
        provenance="structures/{system}.{preset}-relaxed.json",
    log:
        "results/{preset}/logs/ship_parent-{system}.log",
    conda:
        "../../envs/gpaw.yaml"
    shell:
        "clusterdefects ship-parent {input.xyz} --result {input.result} --source {input.source} "
        "-o {output.xyz} --provenance {output.provenance} > {log} 2>&1"
