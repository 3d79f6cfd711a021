"""Helpers for the target tests: a fixture tree as the mapping the pure modules take."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FIXED = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
         "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
         "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def tree(root: Path) -> dict[str, bytes]:
    """Every file below `root`, by repository path."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            full = Path(folder) / name
            out[full.relative_to(root).as_posix()] = full.read_bytes()
    return dict(sorted(out.items()))


def changed(base: dict[str, bytes], head: dict[str, bytes]) -> set[str]:
    """Paths added, removed or modified between two trees."""
    return {p for p in base.keys() | head.keys() if base.get(p) != head.get(p)}


def run_git(repo: Path, *args: str) -> str:
    env = {**os.environ, **FIXED}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def pull_request(case: Path, into: Path) -> Path:
    """A git repository whose `main` holds `case/base` and whose branch `pr` holds `case/head` (fixed
    identity and dates: the commit ids are the same on every run)."""
    into.mkdir(parents=True)
    run_git(into, "init", "-q", "-b", "main")
    for side, branch in (("base", None), ("head", "pr")):
        if branch:
            run_git(into, "checkout", "-qb", branch)
        for entry in into.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.copytree(case / side, into, dirs_exist_ok=True, copy_function=shutil.copyfile)
        # a file rewritten with the same size and stat can look unchanged to git: hash everything again
        run_git(into, "rm", "-r", "-q", "--cached", "--ignore-unmatch", ".")
        run_git(into, "add", "-A")
        run_git(into, "commit", "-q", "--allow-empty", "-m", side)
    return into
