# Shared wildcard constraints and helpers: every rule works for any preset in the config.


wildcard_constraints:
    preset="[A-Za-z0-9_]+",
    system="[A-Za-z0-9_]+",
    dopant="[A-Z][a-z]?",
    site="[a-z][a-z0-9-]*",
    parent_id="parent(-model)?",
    sid="(parent(-model)?|(doped|vacancy)-[A-Z][a-z]?-[a-z][a-z0-9-]*|atom-[A-Z][a-z]?)",


def study(wildcards):
    return load_study(config, wildcards.preset)
