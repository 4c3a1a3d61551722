# clusterdefects: dopant and vacancy isomers of ligand-protected metal clusters.
#   snakemake --cores 2                          the default study (config/config.yaml)
#   snakemake -n                                 show the whole DAG
#   snakemake results/screen/relax/doped-Hg-crown/result.json  one isomer (and what it needs)
#   snakemake --config preset=smoke              the tiny test cluster, end to end in minutes
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


validate(config, "config/schema.yaml")

# The package beside this Snakefile. Rules run its `clusterdefects` command (and `gpaw`) from the
# environment of the Python running snakemake, activated or not (`.venv/bin/snakemake` alone works);
# with --sdm conda, the rule's env (envs/gpaw.yaml) comes first on PATH.
sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))
from clusterdefects import ids  # noqa: E402
from clusterdefects.errors import InputError  # noqa: E402
from clusterdefects.parent_search import NAME_PATTERN  # noqa: E402
from clusterdefects.study import load_study, use_own_commands  # noqa: E402
from clusterdefects.tables import TABLES  # noqa: E402

use_own_commands()

try:
    STUDY = load_study(config)
except InputError as err:
    raise WorkflowError(str(err)) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/structures.smk"
include: "workflow/rules/dft.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/ccs.smk"
include: "workflow/rules/md.smk"


if config.get("remake_shipped_parent"):

    include: "workflow/rules/ship.smk"


rule all:
    default_target: True
    input:
        STUDY.targets(),
