"""Committed files dated by their last commit, so that Snakemake sees the order results were made in.

Git does not keep modification times: a fresh clone writes every file at checkout time, in no
particular order. Snakemake reruns a job whose input is newer than its output, so a clone of a
repository that ships finished results (``results/screen``) would redo hours of relaxations. Setting
each committed, unmodified file's time to that of the last commit that changed it restores the order
in which inputs and results were committed; files changed since keep their own (newer) times.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _git(repo: Path, *args: str) -> str:
    """``git`` in ``repo``, paths printed as they are (not quoted, whatever their characters)."""
    command = ["git", "-C", str(repo), "-c", "core.quotePath=false", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def last_commit_times(repo: Path) -> dict[str, int]:
    """Each path that any commit touched -> the committer time (Unix s) of the newest such commit."""
    times: dict[str, int] = {}
    when = 0
    for line in _git(repo, "log", "--format=%x00%ct", "--name-only", "--no-renames").splitlines():
        if line.startswith("\0"):
            when = int(line[1:])
        elif line and line not in times:
            times[line] = when
    return times


def unchanged_tracked(repo: Path) -> set[str]:
    """Tracked paths whose working-tree file is as committed (no staged or unstaged change)."""
    tracked = set(_git(repo, "ls-files", "-z").split("\0")) - {""}
    entries = _git(repo, "status", "--porcelain", "-z", "--no-renames").split("\0")
    changed = {entry[3:] for entry in entries if entry}
    return tracked - changed


def restore_commit_times(repo: Path) -> int:
    """Date every unchanged tracked file of ``repo`` by its last commit; the number of files dated.
    Not a git work tree (an unpacked archive, say): nothing to do, 0."""
    try:
        times, files = last_commit_times(repo), unchanged_tracked(repo)
    except (OSError, subprocess.CalledProcessError):
        return 0
    dated = 0
    for path in files & times.keys():
        target = repo / path
        if target.is_file() and not target.is_symlink():
            os.utime(target, (times[path], times[path]))
            dated += 1
    return dated
