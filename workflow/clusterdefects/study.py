"""The study a config describes: which system, which preset, which structures and targets."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from dataclasses import dataclass
from typing import Any

from .dft import DFTSettings, basis_label, check_basis, plain_basis
from .elements import doped_charge
from .errors import InputError
from .ids import StructureId, kind_of

CONFIG_FILE = "config/config.yaml"
#: Structure id of the parent relaxed from the system's own file, when the shipped start is remade.
MODEL_PARENT = str(StructureId("parent", tag="model"))


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, dictionaries merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def use_own_commands(environ: dict[str, str] | os._Environ = os.environ, python: str = sys.executable) -> None:
    """Put the bin folder of the Python running snakemake first on PATH, so rules find this
    environment's ``clusterdefects`` and ``gpaw`` whether or not it was activated."""
    own = str(Path(python).parent)
    if environ.get("PATH", "").split(os.pathsep)[0] != own:
        environ["PATH"] = os.pathsep.join([own, environ.get("PATH", "")])


@dataclass(frozen=True)
class Study:
    """One preset of one system: names its structures and the files that make them."""

    preset: str
    system_name: str
    system: dict[str, Any]
    settings: dict[str, Any]

    @property
    def results(self) -> str:
        return f"results/{self.preset}"

    def charge(self, kind: str, dopant: str) -> int:
        """Net charge of a doped or vacancy isomer of ``dopant``: the config's number (one for all dopants, or
        one per dopant), or `auto`: the parent's superatom electron count kept (``elements.doped_charge``);
        a vacancy (the neutral dopant atom removed) keeps its doped isomer's charge."""
        value = self.system["charges"].get(kind, "auto")
        if isinstance(value, dict):
            value = value.get(dopant, "auto")
        if value != "auto":
            return int(value)
        if kind == "vacancy":
            return self.charge("doped", dopant)
        try:
            return doped_charge(int(self.system["charges"]["parent"]), self.system["host"], dopant)
        except ValueError as err:
            raise InputError(CONFIG_FILE, f"cannot choose the charge of the {dopant}-doped cluster: {err}",
                             f"give it in systems.{self.system_name}.charges.doped: {{{dopant}: <charge>}}") from None

    def doped_ids(self, dopants: list[str] | None = None) -> list[str]:
        """The doped isomers of ``dopants`` (default: every dopant of the system), one per site."""
        chosen = self.system["dopants"] if dopants is None else dopants
        return [str(StructureId("doped", d, s)) for d in chosen for s in self.system["sites"]]

    def vacancy_dopants(self) -> list[str]:
        """The dopants whose vacancy isomers (and so dopant-loss energies) the study computes: config
        ``systems.<name>.vacancy_dopants`` (default: every dopant). They are the expensive part of a scan."""
        return self._chosen_dopants("vacancy_dopants")

    def _chosen_dopants(self, key: str) -> list[str]:
        """The dopants a system setting lists (default: every dopant), in the order of ``dopants``."""
        chosen = self.system.get(key, self.system["dopants"])
        unknown = sorted(set(chosen) - set(self.system["dopants"]))
        if unknown:
            raise InputError(CONFIG_FILE, f"systems.{self.system_name}.{key} names {unknown}, not dopants",
                             f"choose from dopants {self.system['dopants']}")
        return [d for d in self.system["dopants"] if d in chosen]

    def vacancy_ids(self) -> list[str]:
        return [str(StructureId("vacancy", d, s)) for d in self.vacancy_dopants() for s in self.system["sites"]]

    def loss_doped_ids(self) -> list[str]:
        """The doped isomers whose dopant-loss energy the study computes (their dopant has vacancy isomers)."""
        return self.doped_ids(self.vacancy_dopants())

    def atom_ids(self) -> list[str]:
        return [str(StructureId("atom", d)) for d in self.system["dopants"]]

    def structure_ids(self) -> list[str]:
        """Every structure of the study: parent, doped and vacancy isomers, free dopant atoms."""
        return ["parent", *self.doped_ids(), *self.vacancy_ids(), *self.atom_ids()]

    def finished_groups(self, finished: set[str]) -> list[str]:
        """The ids a partial analysis may use: parent and atoms, and each whole set of isomers.

        Relative energies compare a composition's isomers with its lowest one, so a set of doped or
        vacancy isomers (one dopant, every site) counts only once each of its isomers (and the parent) is finished.
        """
        if "parent" not in finished:
            return []
        sites = self.system["sites"]
        groups = [["parent"], *([str(StructureId("doped", d, s)) for s in sites] for d in self.system["dopants"]),
                  *([str(StructureId("vacancy", d, s)) for s in sites] for d in self.vacancy_dopants()),
                  *([a] for a in self.atom_ids())]
        return [sid for group in groups if set(group) <= finished for sid in group]

    def search_ids(self) -> list[str]:
        """The parent-search candidates: those the system lists (``systems.<name>.parent_search``) and one
        per doped isomer of ``systems.<name>.parent_search_dopants`` (default: every dopant) with its dopant
        put back."""
        from .parent_search import basin_name, candidate_id

        doped = self.doped_ids(self._chosen_dopants("parent_search_dopants"))
        names = [*self.system.get("parent_search", ["model"]), *map(basin_name, doped)]
        return [candidate_id(name) for name in names]

    def search_start_inputs(self, name: str) -> dict[str, str]:
        """What a candidate's start is made from: the model parent, or where a basin check left its isomer."""
        from .parent_search import doped_of

        source = (f"{self.results}/basin_check/{doped_of(name)}/relaxed.xyz" if name.startswith("basin-")
                  else f"{self.results}/relax/{MODEL_PARENT}/start.xyz")
        return {"source": source, "sites": f"{self.results}/sites.csv"}

    def search_files(self) -> list[str]:
        return [f"{self.results}/relax/{sid}/result.json" for sid in self.search_ids()]

    def result_files(self) -> list[str]:
        return [f"{self.results}/relax/{sid}/result.json" for sid in self.structure_ids()]

    def counterpoise_files(self) -> list[str]:
        """One counterpoise correction per doped isomer (its dopant-loss energy's basis-set superposition)."""
        return [f"{self.results}/counterpoise/{sid}.json" for sid in self.loss_doped_ids()]

    def basin_files(self) -> list[str]:
        """One basin check per doped isomer: it with the dopant put back to the host, against the parent."""
        return [f"{self.results}/basin_check/{sid}/basin.json" for sid in self.doped_ids()]

    @property
    def ccs(self) -> dict[str, Any]:
        """The cross-section settings (config `ccs`; off where a config has none)."""
        return {"enabled": False, "charges": "hirshfeld", "temperature": 298.0, "target_error": 0.01, "seed": 0,
                "threads": 1, **self.settings.get("ccs", {})}

    @property
    def basis_check(self) -> dict[str, Any]:
        """The basis-check settings (config `basis_check`; off where a config has none)."""
        return {"enabled": False, "basis": "dzp", "dopants": "all", **self.settings.get("basis_check", {})}

    def basis_check_ids(self) -> list[str]:
        """The structures the basis check recomputes: the parent and every structure of the dopants in
        ``basis_check.dopants`` (``all``: every dopant of the study)."""
        chosen = self.basis_check["dopants"]
        dopants = self.system["dopants"] if chosen == "all" else chosen
        unknown = sorted(set(dopants) - set(self.system["dopants"]))
        if unknown:
            raise InputError(CONFIG_FILE, f"basis_check.dopants names {unknown}, not dopants of this study",
                             f"choose from {self.system['dopants']} or all")
        return [sid for sid in self.structure_ids() if StructureId.parse(sid).dopant in (None, *dopants)]

    def basis_check_files(self) -> list[str]:
        """One single point at the check basis per checked structure, and one counterpoise set per checked
        doped isomer whose dopant-loss energy the study computes."""
        if not self.basis_check["enabled"]:
            return []
        ids = self.basis_check_ids()
        return ([f"{self.results}/basis_check/{sid}.json" for sid in ids]
                + [f"{self.results}/basis_check/counterpoise/{sid}.json" for sid in self.loss_doped_ids() if sid in ids])

    def check_dft_args(self) -> str:
        """The --settings JSON of a basis-check single point: the study's DFT settings at the check basis."""
        return shlex.quote(json.dumps({"dft": {**self.settings["dft"], "basis": self.basis_check["basis"]}},
                                      separators=(",", ":")))

    def ccs_ids(self) -> list[str]:
        """The structures that get a collision cross section: the parent and every isomer (not free atoms)."""
        return ["parent", *self.doped_ids(), *self.vacancy_ids()] if self.ccs["enabled"] else []

    def ccs_files(self) -> list[str]:
        return [f"{self.results}/ccs/{sid}.json" for sid in self.ccs_ids()]

    def ccs_inputs(self, sid: str) -> dict[str, str]:
        """What one cross section needs: the relaxed structure, and its Hirshfeld charges if configured."""
        inputs = {"structure": f"{self.results}/relax/{sid}/relaxed.xyz"}
        if self.ccs["charges"] == "hirshfeld":
            inputs["charges"] = f"{self.results}/charges/{sid}.json"
        return inputs

    def ccs_args(self, sid: str) -> str:
        """The options of `clusterdefects ccs` for one structure (its charges flag follows ccs_inputs)."""
        c = self.ccs
        charges = f"--charges {self.results}/charges/{sid}.json" if c["charges"] == "hirshfeld" else "--uniform"
        return (f"{charges} --temperature {c['temperature']} --target-error {c['target_error']} --seed {c['seed']} "
                f"--structure-id {sid}")

    @property
    def md(self) -> dict[str, Any]:
        """The molecular-dynamics settings (config `md`; off where a config has none)."""
        return {"enabled": False, "engines": ["xtb"], "structures": [], "start": "relaxed", "threads": 1,
                "snapshot": False, **self.settings.get("md", {})}

    def md_runs(self) -> list[tuple[str, str]]:
        """(engine, structure id) of every MD run the config asks for."""
        if not self.md["enabled"]:
            return []
        unknown = sorted(set(self.md["structures"]) - set(self.structure_ids()))
        if unknown:
            raise InputError(CONFIG_FILE, f"md.structures names {unknown}, not structures of this study",
                             f"choose from {self.structure_ids()}")
        return [(engine, sid) for engine in self.md["engines"] for sid in self.md["structures"]]

    def md_snapshot(self, sid: str) -> bool:
        """Whether the MD runs of ``sid`` end with a snapshot (md.snapshot: true for every run, or a list of
        structures; a GPAW relaxation of the last frame costs as much as a static isomer)."""
        chosen = self.md["snapshot"]
        if isinstance(chosen, bool):
            return chosen
        if isinstance(chosen, str):
            raise InputError(CONFIG_FILE, f"md.snapshot is {chosen!r}", f"write a list: [{chosen}], or true or false")
        unknown = sorted(set(chosen) - set(self.md["structures"]))
        if unknown:
            raise InputError(CONFIG_FILE, f"md.snapshot names {unknown}, not structures of md.structures",
                             f"choose from {self.md['structures']}, or write true (every run) or false")
        return sid in chosen

    def md_files(self) -> list[str]:
        """Per run: the NVE check and the site analysis of the thermostatted run (which needs the run), and the
        snapshot where asked for."""
        return [f"{self.results}/md/{engine}/{sid}/{name}" for engine, sid in self.md_runs()
                for name in ["nve/summary.json", "sites.json", *(["snapshot.json"] if self.md_snapshot(sid) else [])]]

    def static_isomers(self, sid: str) -> list[str]:
        """result.json of every static isomer of the same kind and dopant as ``sid`` (one composition)."""
        s = StructureId.parse(sid)
        ids = self.doped_ids() if s.kind == "doped" else self.vacancy_ids() if s.kind == "vacancy" else [sid]
        return [f"{self.results}/relax/{i}/result.json" for i in ids if i == sid or StructureId.parse(i).dopant == s.dopant]

    def md_start(self, sid: str) -> str:
        """Where an MD run starts: the relaxed structure, or (md.start: start) the structure as made."""
        return f"{self.results}/relax/{sid}/{'relaxed' if self.md['start'] == 'relaxed' else 'start'}.xyz"

    def md_template(self, sid: str) -> str:
        """The site template of an MD run: a vacancy's relaxed doped isomer (its empty site included), else the start."""
        sid_ = StructureId.parse(sid)
        return f"{self.results}/relax/{sid_.doped()}/relaxed.xyz" if sid_.kind == "vacancy" else self.md_start(sid)

    def md_resources(self, engine: str) -> dict[str, Any]:
        """Cores of one MD job: GPAW's MPI ranks (one core each), or xTB's threads in one task. ``mpi`` is set
        for GPAW only (None drops the resource): the SLURM executor starts an MPI job's command as it is, and
        wraps any other in ``srun -n1``."""
        if engine == "gpaw":
            r = self.resources()
            return {"threads": r["tasks"], "tasks": r["tasks"], "cpus_per_task": 1, "mpi": r["mpi"]}
        return {"threads": self.md["threads"], "tasks": 1, "cpus_per_task": self.md["threads"], "mpi": None}

    def md_command(self, engine: str) -> str:
        """The command line of one MD run up to its arguments: GPAW under MPI, xTB on md.threads threads."""
        if engine == "gpaw":
            r = self.resources()
            return f"clusterdefects gpaw --ranks {r['tasks']} --mpi '{r['mpi']}' md --"
        return f"OMP_NUM_THREADS={self.md['threads']} clusterdefects md"

    def md_config(self, engine: str, ensemble: str = "nvt") -> dict[str, Any]:
        """The settings of one MD stage: ``md`` (the minimisation gets only what it uses, so that a longer
        or hotter run does not redo it) and, for GPAW, the study's ``dft``."""
        md = {k: v for k, v in self.md.items() if k not in ("enabled", "engines", "structures", "start", "threads", "snapshot")}
        if ensemble == "min":
            from .md import MIN_KEYS

            md = {k: v for k, v in md.items() if k in MIN_KEYS}
        return {"md": md, **({"dft": self.settings["dft"]} if engine == "gpaw" else {})}

    def md_nve_check(self, engine: str, sid: str, ensemble: str) -> list[str]:
        """An NVT run's extra input: the NVE check it must pass first (none for the other stages)."""
        return [f"{self.results}/md/{engine}/{sid}/nve/summary.json"] if ensemble == "nvt" else []

    def md_args(self, engine: str, ensemble: str = "nvt") -> str:
        """--settings JSON of an MD stage and, for GPAW, its box, shell-quoted."""
        cfg = json.dumps(self.md_config(engine, ensemble), separators=(",", ":"))
        box = f" {self.box_flag('parent')}" if engine == "gpaw" else ""
        return f"--engine {engine} --settings {shlex.quote(cfg)}{box}"

    def dft_args(self) -> str:
        """The --settings JSON (DFT settings only) of a single-point command, shell-quoted."""
        return shlex.quote(json.dumps({"dft": self.settings["dft"]}, separators=(",", ":")))

    def isomer_structure_files(self) -> list[str]:
        """relaxed.xyz and start.xyz of every doped and vacancy isomer."""
        return [f"{self.results}/relax/{sid}/{name}.xyz" for sid in (*self.doped_ids(), *self.vacancy_ids())
                for name in ("relaxed", "start")]

    def viewer_files(self) -> list[str]:
        return [f"{self.results}/viewer/{sid}.html" for sid in ("parent", *self.doped_ids(), *self.vacancy_ids())]

    def figure_files(self) -> list[str]:
        """The study's figures: energy levels, fragmentation map, dopant scan, gallery, one picture per isomer."""
        return [f"{self.results}/figures/{name}.png" for name in
                ("energy_levels", "fragmentation", "dopant_scan", "gallery", *self.doped_ids(), *self.vacancy_ids())]

    def targets(self) -> list[str]:
        """What `snakemake` (rule all) makes for this study."""
        return [f"{self.results}/sites.csv", f"{self.results}/energies.csv", *self.result_files(), *self.ccs_files(),
                f"{self.results}/tables/comparison.csv", f"{self.results}/structures.db", *self.figure_files(),
                *self.viewer_files(), *self.md_files(), f"{self.results}/README.md"]

    def to_json(self) -> str:
        """The resolved study (after every --config/--configfile override) for a command line."""
        return json.dumps({"preset": self.preset, "system_name": self.system_name, "system": self.system,
                           "settings": self.settings}, separators=(",", ":"))

    def cli_json(self) -> str:
        """``to_json``, shell-quoted: what a rule passes as ``--study``."""
        return shlex.quote(self.to_json())

    @classmethod
    def from_json(cls, text: str) -> Study:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as err:
            raise InputError(None, f"not a study's JSON ({err})", "pass what Study.to_json wrote (the rules do)") from None

    def resources(self) -> dict[str, Any]:
        return self.settings["resources"]

    def spin_policy(self, sid: str) -> str:
        """The spin policy (paired, polarized, lowest) a structure is relaxed with."""
        return self.settings["spin"][kind_of(sid)]

    def relax_args(self, sid: str) -> str:
        """The --settings JSON of `clusterdefects.relax` for one structure, shell-quoted."""
        cfg = {"dft": self.settings["dft"], "relax": self.settings["relax"],
               "spin": self.spin_policy(sid),
               "meta": {"preset": self.preset, "system": self.system_name, "kind": kind_of(sid)}}
        return shlex.quote(json.dumps(cfg, separators=(",", ":")))

    def shipped_parent(self) -> str:
        """Where this preset's relaxed parent ships (with its provenance beside it, as .json)."""
        return f"structures/{self.system_name}.{self.preset}-relaxed.xyz"

    def parent_source(self, parent_id: str = "parent") -> str:
        """The file a parent starts from: the shipped relaxed parent where the preset uses one
        (``shipped_parent: true``), else the system's own file (always so for ``parent-model``)."""
        if parent_id == "parent" and self.settings.get("shipped_parent"):
            return self.shipped_parent()
        return self.system["parent"]

    def hessian_flag(self, sid: str) -> str:
        """A vacancy's relaxation starts with the final BFGS Hessian of the doped isomer it is made from."""
        vacancy = StructureId.parse(sid)
        if vacancy.kind != "vacancy":
            return ""
        return f"--hessian-from {self.results}/relax/{vacancy.doped()}"

    def box_source(self, sid: str) -> list[str]:
        """Parent, doped and vacancy isomers share the box of the parent's start (one grid per study)."""
        if kind_of(sid) == "atom" or sid == MODEL_PARENT:
            return []
        return [f"{self.results}/relax/parent/start.xyz"]

    def box_flag(self, sid: str) -> str:
        return " ".join(f"--box-from {path}" for path in self.box_source(sid))

    def unconverged_flag(self) -> str:
        return "--allow-unconverged" if self.settings.get("allow_unconverged") else ""

    def parent_args(self) -> str:
        """Command-line flags of `clusterdefects parent` for this system."""
        s = self.system
        flags = ["--host", s["host"], "--formula", s["formula"], "--charge", str(s["charges"]["parent"])]
        if s.get("strip_donors"):
            flags += ["--strip-donors", ",".join(s["strip_donors"])]
        if s.get("allow_odd_electrons"):
            flags.append("--allow-odd-electrons")
        return shlex.join(flags)

    def sites_args(self) -> str:
        """Command-line flags of `clusterdefects sites` for this system."""
        s = self.system
        flags = ["--expect", ",".join(s["sites"])]
        if s.get("paper_labels"):
            flags += ["--paper-labels", ",".join(f"{k}={v}" for k, v in s["paper_labels"].items())]
        return shlex.join(flags)

    def odd_flag(self) -> str:
        return "--allow-odd-electrons" if self.system.get("allow_odd_electrons") else ""


def read_config(*paths: str | Path) -> dict[str, Any]:
    """The configuration as Snakemake resolves ``--configfile A B``: the files laid over each other in
    order, dictionaries merged key by key (default: the workflow's own ``config/config.yaml``)."""
    import yaml

    config: dict[str, Any] = {}
    for path in paths or (CONFIG_FILE,):
        try:
            config = deep_merge(config, yaml.safe_load(Path(path).read_text()) or {})
        except FileNotFoundError:
            raise InputError(path, "config file not found", "run from the workflow's folder, or give the file's path") from None
        except yaml.YAMLError as err:
            raise InputError(path, f"not valid YAML ({err})", "fix the file (snakemake --lint shows where)") from None
    return config


def load_study(config: dict[str, Any], preset: str | None = None) -> Study:
    """Resolve a preset (default: config['preset']) to its system; unknown names are refused clearly."""
    preset = preset or config["preset"]
    presets = config.get("presets", {})
    if preset not in presets:
        raise InputError(CONFIG_FILE, f"unknown preset {preset!r} (presets: {', '.join(presets)})",
                         "pick one of them with --config preset=NAME, or add it under presets:")
    name = presets[preset]["system"]
    systems = config.get("systems", {})
    if name not in systems:
        raise InputError(CONFIG_FILE, f"preset {preset!r} names unknown system {name!r}",
                         f"use one of: {', '.join(systems)}")
    settings = deep_merge(config.get("defaults", {}), {k: v for k, v in presets[preset].items()
                                                       if k not in ("system", "description")})
    dft = settings["dft"] = dict(settings.get("dft", {}))  # a copy: the config itself is left as given
    basis = dft.get("basis", DFTSettings.basis)
    check_basis(basis, "dft.basis")
    dft["basis"] = plain_basis(basis)  # one spelling: one fingerprint, one rule parameter
    study = Study(preset=preset, system_name=name, system=systems[name], settings=settings)
    if study.basis_check["enabled"]:
        check_basis(study.basis_check["basis"], "basis_check.basis")
        if plain_basis(study.basis_check["basis"]) == dft["basis"]:
            raise InputError(CONFIG_FILE, f"basis_check.basis is the preset's own basis ({basis_label(dft['basis'])}): "
                             "the check would repeat the relaxations' SCF",
                             "set basis_check.basis to a larger basis (dzp), or basis_check.enabled: false")
    for dopant in study.system["dopants"]:  # a charge that cannot be chosen is refused now, not after the parent
        study.charge("doped", dopant)
    return study
