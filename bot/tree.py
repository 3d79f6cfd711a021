"""Collect the manifest files of one revision, from git objects or from a folder."""

from __future__ import annotations

import hashlib
import os

from bot import git, globs
from bot.config import Config
from bot.errors import BotError
from bot.findings import Skipped
from bot.load import SourceFile
from bot.reading.split import may_matter

MAX_FILE_BYTES = 8 * 1024 * 1024


def wanted(path: str, config: Config, only: tuple[str, ...] = ()) -> bool:
    if not globs.match(path, config.paths) or globs.match(path, config.exclude):
        return False
    return not only or any(path == p or path.startswith(p.rstrip("/") + "/") for p in only)


def from_git(repo: str, commits: list[str], config: Config, only: tuple[str, ...] = ()
             ) -> tuple[list[list[SourceFile]], list[Skipped]]:
    """The files of each commit; a blob shared by several commits is read once."""
    skipped: list[Skipped] = []
    listings = []
    verdicts: dict[str, bool] = {}  # most paths are in every commit: match each once
    for commit in commits:
        entries = []
        for entry in git.list_tree(repo, commit):
            ok = verdicts.get(entry.path)
            if ok is None:
                ok = verdicts[entry.path] = wanted(entry.path, config, only)
            if not ok:
                continue
            if entry.mode == "120000":
                skipped.append(Skipped(entry.path, "symbolic link, not followed"))
            elif entry.mode in ("100644", "100755"):
                entries.append(entry)
        listings.append(entries)
    # A path whose blob differs between the commits is read whole (a diff parses it entirely);
    # any other blob is kept only if it may hold one of our resources or deserves a skip note.
    versions: dict[str, set[str]] = {}
    for entries in listings:
        for e in entries:
            versions.setdefault(e.path, set()).add(e.blob)
    present = [{e.path for e in entries} for entries in listings]
    changed = {blob for path, blobs in versions.items()
               if len(blobs) > 1 or not all(path in p for p in present) for blob in blobs}

    def keep(blob: str, data: bytes) -> bool:
        return blob in changed or len(data) > MAX_FILE_BYTES or may_matter(data)

    blobs = git.read_blobs(repo, sorted({e.blob for entries in listings for e in entries}), keep)
    files = []
    for entries in listings:
        kept = []
        for e in entries:
            data = blobs.get(e.blob)
            if data is None:
                continue  # nothing of ours in it, and unchanged
            if len(data) > MAX_FILE_BYTES:
                skipped.append(Skipped(e.path, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
            else:
                kept.append(SourceFile(e.path, data, e.blob))
        files.append(kept)
    return files, list(dict.fromkeys(skipped))


def from_dir(root: str, config: Config, only: tuple[str, ...] = ()) -> tuple[list[SourceFile], list[Skipped]]:
    if not os.path.isdir(root):
        raise BotError(f"{root}: no such directory")
    root_real = os.path.realpath(root)
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(names):
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if not wanted(rel, config, only):
                continue
            if os.path.islink(full):
                target = os.path.realpath(full)
                if not target.startswith(root_real + os.sep):
                    skipped.append(Skipped(rel, "symbolic link pointing outside the tree, not followed"))
                    continue
            try:
                if os.path.getsize(full) > MAX_FILE_BYTES:
                    skipped.append(Skipped(rel, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
                    continue
                with open(full, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                skipped.append(Skipped(rel, f"unreadable ({exc.strerror})"))
                continue
            files.append(SourceFile(rel, data, hashlib.sha1(data, usedforsecurity=False).hexdigest()))
    return files, skipped
