# Shared wildcard constraints and helpers: every rule works for any preset in the config.


wildcard_constraints:
    preset="[A-Za-z0-9_]+",
    system="[A-Za-z0-9_]+",
    dopant=ids.ELEMENT,
    site=ids.SITE,
    parent_id="parent(-model)?",
    name=NAME_PATTERN,
    sid=ids.PATTERN,
    isomer=ids.ISOMER_PATTERN,


def study(wildcards):
    return load_study(config, wildcards.preset)
