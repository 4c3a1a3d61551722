# clusterdefects: dopant and vacancy isomers of ligand-protected metal clusters.
#   snakemake --cores 2                          the default study (config/config.yaml)
#   snakemake -n                                 show the whole DAG
#   snakemake results/screen/relax/doped-Hg-crown/start.xyz    one isomer
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

configfile: "config/config.yaml"


validate(config, "config/schema.yaml")

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))
from clusterdefects.study import load_study  # noqa: E402

STUDY = load_study(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/structures.smk"


rule all:
    input:
        STUDY.targets(),
    default_target: True
