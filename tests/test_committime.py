"""restore-times: committed files dated by their last commit (a hand-made repository)."""

import os
import subprocess
from pathlib import Path

from clusterdefects.committime import restore_commit_times


def commit(repo: Path, when: int, **files: str) -> None:
    for name, text in files.items():
        (repo / name).write_text(text)
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{when} +0000", "GIT_AUTHOR_DATE": f"@{when} +0000"}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                   check=True, env=env)


def test_a_fresh_clone_gets_its_files_dated_by_their_last_commit(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    commit(repo, 1_000_000, **{"input.xyz": "a", "result.json": "r1"})
    commit(repo, 2_000_000, **{"result.json": "r2", "edited.txt": "e", "edited by hand.txt": "e", "données.xyz": "d"})
    names = ("input.xyz", "result.json", "edited.txt", "edited by hand.txt", "données.xyz")  # git quotes the last two
    for name in names:  # as a checkout leaves them: all just written
        os.utime(repo / name, (3_000_000, 3_000_000))
    for name in ("edited.txt", "edited by hand.txt"):
        (repo / name).write_text("changed since")  # keeps its own (newer) time
    (repo / "untracked.txt").write_text("u")

    assert restore_commit_times(repo) == 3
    assert (repo / "input.xyz").stat().st_mtime == 1_000_000  # older than the result made from it
    assert (repo / "result.json").stat().st_mtime == 2_000_000
    assert (repo / "edited.txt").stat().st_mtime > 3_000_000
    assert (repo / "edited by hand.txt").stat().st_mtime > 3_000_000
    assert (repo / "données.xyz").stat().st_mtime == 2_000_000
    assert restore_commit_times(tmp_path / "not-a-repo") == 0
