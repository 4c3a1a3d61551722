"""Atomic file writes: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ase import Atoms
from ase.io import write


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: str | Path, write_to: Callable[[Path], None]) -> Path:
    """Call ``write_to(tmp)`` then rename ``tmp`` to ``path``, so ``path`` is never half-written.

    The file gets the permissions of any new file (0666 less the umask), not mkstemp's private 0600,
    so colleagues and the group on a cluster can read the results."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write_to(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_xyz(path: str | Path, atoms: Atoms) -> Path:
    """Write extended XYZ (with ``atoms.info`` in the comment line) atomically."""
    return write_atomically(path, lambda tmp: write(tmp, atoms, format="extxyz", parallel=False))


def write_json(path: str | Path, data: Any) -> Path:
    """Write pretty JSON atomically."""
    return write_atomically(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def read_json(path: str | Path, what: str = "result") -> Any:
    """Read a JSON file this workflow wrote; a missing or broken one is an error naming it."""
    from .errors import InputError

    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, f"{what} not found", "run the step that makes it first") from None
    except json.JSONDecodeError as err:
        raise InputError(path, f"broken {what} file ({err})", "delete it and rerun that step") from None


def write_text(path: str | Path, text: str) -> Path:
    """Write text atomically."""
    return write_atomically(path, lambda tmp: tmp.write_text(text))
