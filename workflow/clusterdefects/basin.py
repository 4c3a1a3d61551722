"""Basin check of a study's parent: ``gpaw python -m clusterdefects.basin DOPED OUTDIR ...``.

A doped isomer can relax into a basin its parent never visited (for Ag29(BDT)12 the crowns widen, and
the parent with the dopant put back to Ag was found 0.30 eV lower). So each relaxed doped isomer, with
its dopant put back to the host and the parent's charge, is evaluated at the parent's settings: one SCF,
then, if it is within ``window`` eV of the parent, a short relaxation (``steps``). ``basin.json`` says
whether it is lower than the parent by more than ``TOLERANCE``: then the parent is not the lowest
minimum found, and the tables say so.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ase import Atoms
from ase.io import read

from .dft import DFTSettings
from .errors import InputError
from .results import RelaxResult

#: A candidate lower than the parent by more than this (eV) means the parent is not the lowest minimum.
TOLERANCE = 0.02
#: Candidates within this much (eV) above the parent after one SCF get a short relaxation.
WINDOW = 0.1
SHORT_STEPS = 10


def host_back(doped: Atoms, charge: int) -> Atoms:
    """The doped isomer with its dopant put back to the host element, at the parent's charge."""
    if "site_index" not in doped.info or "host" not in doped.info:
        raise InputError(None, "not a doped isomer written by this workflow (no site_index/host)",
                         "give a doped isomer's relaxed.xyz")
    candidate = doped.copy()
    index = int(doped.info["site_index"])
    candidate[index].symbol = doped.info["host"]
    sid = doped.info.get("structure_id", "doped")
    candidate.info = {"structure_id": f"basin-{sid}", "kind": "parent", "charge": charge, "from": sid}
    return candidate


def verdict(energy: float, parent_energy: float) -> dict[str, Any]:
    """How a candidate compares with the parent."""
    delta = energy - parent_energy
    return {"energy": energy, "parent_energy": parent_energy, "delta_eV": delta, "lower_than_parent": delta < -TOLERANCE}


def check_basin(doped_path: Path, outdir: Path, parent_result: RelaxResult, dft: DFTSettings, relax: Any,
                spin: str, box_from: Path | None, window: float = WINDOW, steps: int = SHORT_STEPS) -> dict[str, Any]:
    """One SCF of the candidate, then a short relaxation if it is within ``window`` of the parent."""
    from .fileio import write_json, write_xyz
    from .mpi import on_rank0, say
    from .relax import relax_structure

    if dft.fingerprint() != parent_result.fingerprint:
        raise InputError(parent_result.path, "the parent was relaxed with other settings than this check",
                         "rerun the parent with the study's settings")
    candidate = host_back(read(doped_path), int(parent_result.charge))
    start = outdir / "start.xyz"
    on_rank0(lambda: write_xyz(start, candidate))
    # The check evaluates the structure as it is (no displacement: that is the parent search's job).
    first = relax_structure(start, outdir, dft, replace(relax, steps=0, displace=0.0), spin, box_from=box_from)
    result, relaxed = first, False
    if first.energy - parent_result.energy <= window and not first.converged:
        result = relax_structure(start, outdir, dft, replace(relax, steps=steps, displace=0.0), spin, box_from=box_from)
        relaxed = True
    summary = {"candidate": candidate.info["structure_id"], "from": candidate.info["from"],
               **verdict(result.energy, parent_result.energy), "first_scf_energy": first.energy,
               "relaxed": relaxed, "steps": result.steps, "fmax": result.fmax, "converged": result.converged,
               "fingerprint": result.fingerprint, "window_eV": window, "tolerance_eV": TOLERANCE}
    if summary["fingerprint"] != parent_result.fingerprint:  # the SCF ladder's smearing rung was needed
        raise InputError(outdir / "result.json", "the check needed smearing: its energy is not comparable",
                         "check the structure, or raise dft.maxiter")
    on_rank0(lambda: write_json(outdir / "basin.json", summary))
    say(f"{summary['candidate']}: E - E(parent) = {summary['delta_eV']:+.4f} eV"
        + ("  LOWER THAN THE PARENT: remake the parent from it" if summary["lower_than_parent"] else ""))
    return summary


def main(argv: list[str] | None = None) -> int:
    from .mpi import exit_status
    from .relax import RelaxSettings, SCFFailure

    p = argparse.ArgumentParser(prog="clusterdefects.basin", description=__doc__.splitlines()[0])
    p.add_argument("doped", type=Path, help="relaxed.xyz of a doped isomer")
    p.add_argument("outdir", type=Path)
    p.add_argument("--parent-result", type=Path, required=True)
    p.add_argument("--settings", required=True, help="JSON: {dft: {...}, relax: {...}, spin: policy}")
    p.add_argument("--box-from", type=Path)
    args = p.parse_args(argv)
    cfg = json.loads(args.settings)
    return exit_status("clusterdefects.basin", args.doped, lambda: check_basin(
        args.doped, args.outdir, RelaxResult.read(args.parent_result), DFTSettings.from_config(cfg.get("dft", {})),
        RelaxSettings.from_config(cfg.get("relax", {})), cfg.get("spin", "paired"), args.box_from), (InputError, SCFFailure))


if __name__ == "__main__":
    sys.exit(main())
