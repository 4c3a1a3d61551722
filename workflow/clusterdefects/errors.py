"""The one error type a user sees for bad input: it names the file, the problem and the fix."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: ``str(err)`` is one line, '<file>: <problem>. Fix: <fix>'."""

    def __init__(self, path: str | Path | None, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = path, problem, fix
        where = f"{path}: " if path is not None else ""
        super().__init__(f"{where}{problem}. Fix: {fix}")
