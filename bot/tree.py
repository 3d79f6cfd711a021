"""Collect the files of one or more revisions, from git objects or from folders.

`from_git`/`from_dir` give the manifest files a plain review reads. `GitTrees`/`DirTrees` list every
file of each revision once and read blobs on demand: the manifest files and the files deploy-target
discovery needs come from one pass (`collect`), the inputs of the targets a change touches from a
second one (`read`). Git objects only: the work tree is never read or touched.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from bot import git
from bot.config import Config
from bot.discover import keep_for_discovery
from bot.errors import BotError
from bot.findings import Skipped
from bot.load import SourceFile
from bot.reading.split import may_matter

MAX_FILE_BYTES = 8 * 1024 * 1024
LINK_SKIP = "symbolic link, not followed"


def wanted(path: str, config: Config, only: tuple[str, ...] = ()) -> bool:
    if not config.reads(path):
        return False
    return not only or any(path == p or path.startswith(p.rstrip("/") + "/") for p in only)


@dataclass(frozen=True)
class Listing:
    """Every file of one revision: regular files by path (with their blob id, or a content hash in
    a folder), and the symbolic links that are never followed."""

    files: Mapping[str, str]
    links: frozenset[str] = frozenset()


@dataclass
class Collected:
    """Per revision: the manifest files a plain review reads (`files`, as `from_git` gives them) and
    the texts discovery reads; the skip notes of all of them."""

    files: list[list[SourceFile]]
    skipped: list[Skipped]
    texts: list[dict[str, bytes]] = field(default_factory=list)


class GitTrees:
    """The trees of some commits of a repository (a bare clone works: only objects are read)."""

    def __init__(self, repo: str, commits: list[str]) -> None:
        self.repo = repo
        self.commits = commits
        self.entries = [git.list_tree(repo, commit) for commit in commits]
        self.listings = [Listing({e.path: e.blob for e in entries if e.mode in ("100644", "100755")},
                                 frozenset(e.path for e in entries if e.mode == "120000"))
                         for entries in self.entries]

    def collect(self, config: Config, only: tuple[str, ...] = (), discovery: bool = True) -> Collected:
        """The manifest files of each commit (a blob shared by several commits is read once) and, with
        `discovery`, the texts discovery needs, in one pass over the object store."""
        skipped: list[Skipped] = []
        listings = []
        verdicts: dict[str, bool] = {}  # most paths are in every commit: match each once
        for entries in self.entries:
            kept = []
            for entry in entries:
                ok = verdicts.get(entry.path)
                if ok is None:
                    ok = verdicts[entry.path] = wanted(entry.path, config, only)
                if not ok:
                    continue
                if entry.mode == "120000":
                    skipped.append(Skipped(entry.path, LINK_SKIP))
                elif entry.mode in ("100644", "100755"):
                    kept.append(entry)
            listings.append(kept)
        # A path whose blob differs between the commits is read whole (a diff parses it entirely);
        # any other blob is kept only if it may hold one of our resources or deserves a skip note.
        versions: dict[str, set[str]] = {}
        for kept in listings:
            for e in kept:
                versions.setdefault(e.path, set()).add(e.blob)
        present = [{e.path for e in kept} for kept in listings]
        changed = {blob for path, blobs in versions.items()
                   if len(blobs) > 1 or not all(path in p for p in present) for blob in blobs}
        manifests = {e.blob for kept in listings for e in kept}
        candidates: dict[str, list[tuple[int, str]]] = {}  # blob -> (side, path) discovery may need it for
        if discovery:
            for side, listing in enumerate(self.listings):
                for path, blob in listing.files.items():
                    if _may_describe_targets(path):
                        candidates.setdefault(blob, []).append((side, path))

        reviewed: set[str] = set()  # blobs kept for the review
        described: set[str] = set()  # blobs kept for discovery

        def keep(blob: str, data: bytes) -> bool:
            places = candidates.get(blob)
            if places is not None and any(keep_for_discovery(path, data) for _, path in places):
                described.add(blob)
            if blob in manifests and (blob in changed or len(data) > MAX_FILE_BYTES or may_matter(data)):
                reviewed.add(blob)
                return True
            return blob in described

        blobs = git.read_blobs(self.repo, sorted(manifests | candidates.keys()), keep)
        files = []
        for kept in listings:
            out = []
            for e in kept:
                data = blobs.get(e.blob)
                if data is None or e.blob not in reviewed:
                    continue  # nothing of ours in it, and unchanged
                if len(data) > MAX_FILE_BYTES:
                    skipped.append(Skipped(e.path, f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
                else:
                    out.append(SourceFile(e.path, data, e.blob))
            files.append(out)
        texts: list[dict[str, bytes]] = [{} for _ in self.listings] if discovery else []
        for blob in described:
            for side, path in candidates[blob]:
                texts[side][path] = blobs[blob]
        return Collected(files, list(dict.fromkeys(skipped)), texts)

    def read(self, side: int, paths: Collection[str]) -> dict[str, bytes]:
        """The contents of these files of one commit (symbolic links are not files here)."""
        listing = self.listings[side].files
        chosen = {p: listing[p] for p in paths if p in listing}
        blobs = git.read_blobs(self.repo, sorted(set(chosen.values())))
        return {p: blobs[b] for p, b in chosen.items()}


class DirTrees:
    """Folders holding one revision each (a symbolic link is followed only inside its folder)."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.listings = [_walk(root) for root in roots]

    def collect(self, config: Config, only: tuple[str, ...] = (), discovery: bool = True) -> Collected:
        files: list[list[SourceFile]] = []
        skipped: list[Skipped] = []
        for root in self.roots:
            found, notes = from_dir(root, config, only)
            files.append(found)
            skipped = notes  # the last folder's: only the head's skipped files concern a change
        texts = []
        if discovery:
            for side, listing in enumerate(self.listings):
                chosen = [p for p in listing.files if _may_describe_targets(p)]
                read = self.read(side, chosen)
                texts.append({p: data for p, data in read.items() if keep_for_discovery(p, data)})
        return Collected(files, skipped, texts)

    def read(self, side: int, paths: Collection[str]) -> dict[str, bytes]:
        out = {}
        listing = self.listings[side].files
        for path in paths:
            if path not in listing:
                continue
            try:
                with open(os.path.join(self.roots[side], path), "rb") as fh:
                    out[path] = fh.read()
            except OSError:
                continue  # gone since it was listed: the render says what is missing
        return out


Trees = GitTrees | DirTrees


def _may_describe_targets(path: str) -> bool:
    """Whether discovery could need the text of `path` (its name, before reading it)."""
    return path.endswith((".yaml", ".yml", "/Kustomization")) or path == "Kustomization"


def _walk(root: str) -> Listing:
    if not os.path.isdir(root):
        raise BotError(f"{root}: no such directory")
    root_real = os.path.realpath(root)
    files: dict[str, str] = {}
    links: set[str] = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(names):
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if os.path.islink(full) and not os.path.realpath(full).startswith(root_real + os.sep):
                links.add(rel)
                continue
            try:
                files[rel] = _hash_file(full)
            except OSError:
                continue
    return Listing(files, frozenset(links))


def _hash_file(path: str) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def from_git(repo: str, commits: list[str], config: Config, only: tuple[str, ...] = ()
             ) -> tuple[list[list[SourceFile]], list[Skipped]]:
    """The manifest files of each commit; a blob shared by several commits is read once."""
    collected = GitTrees(repo, commits).collect(config, only, discovery=False)
    return collected.files, collected.skipped


def from_dir(root: str, config: Config, only: tuple[str, ...] = ()) -> tuple[list[SourceFile], list[Skipped]]:
    if not os.path.isdir(root):
        raise BotError(f"{root}: {'not a directory' if os.path.exists(root) else 'no such directory'}")
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

