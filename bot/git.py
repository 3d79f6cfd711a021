"""The only module that runs git. Reads trees and blobs from the object store; never touches the
work tree."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, cast

from bot.errors import BotError


@dataclass(frozen=True)
class Entry:
    path: str
    blob: str
    mode: str


def _git(repo: str, *args: str, input: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", repo, *args], input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise BotError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _translate(args, message[-1] if message else f"git {args[0]} failed")
    return proc.stdout


def _translate(args: tuple[str, ...], message: str) -> BotError:
    if "not a git repository" in message:
        return BotError(f"not a git repository: pass --repo DIR or run inside a clone ({message})")
    if "dubious ownership" in message:
        return BotError(f"git refuses the repository ({message}); run: git config --global --add safe.directory <dir>")
    return BotError(f"git {' '.join(args[:2])}: {message}")


def toplevel(repo: str) -> str:
    """Where to run git: the top of the work tree, or the git folder of a bare clone (only objects are
    read, so no work tree is needed)."""
    if _git(repo, "rev-parse", "--is-inside-work-tree").decode().strip() == "true":
        return _git(repo, "rev-parse", "--show-toplevel").decode().strip()
    return _git(repo, "rev-parse", "--absolute-git-dir").decode().strip()


def has_work_tree(root: str) -> bool:
    return _git(root, "rev-parse", "--is-inside-work-tree").decode().strip() == "true"


def remote_urls(repo: str) -> list[str]:
    """The URLs of the repository's remotes, in config order (none: an empty list)."""
    try:
        raw = _git(repo, "config", "--get-regexp", r"^remote\..*\.url$")
    except BotError:
        return []  # git config exits 1 when nothing matches
    return [line.split(" ", 1)[1] for line in raw.decode("utf-8", "replace").splitlines() if " " in line]


def resolve(repo: str, rev: str) -> str:
    """The commit id of `rev`, with a message that says what to fetch when it is missing."""
    if rev.startswith("-"):
        raise BotError(f"invalid revision {rev!r}")
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except BotError:
        if not _git(repo, "rev-list", "-n", "1", "--all").strip():
            raise BotError(f"the repository {repo} has no commits yet: commit the manifests first") from None
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").decode().strip() == "true"
        hint = " (this clone is shallow: fetch it, or check out with fetch-depth: 0)" if shallow else ""
        raise BotError(f"unknown revision {rev!r}: it is not in this clone{hint}") from None


def merge_base(repo: str, base: str, head: str) -> str:
    try:
        return _git(repo, "merge-base", base, head).decode().strip()
    except BotError:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").decode().strip() == "true"
        if shallow:
            raise BotError(
                f"no merge-base of {base[:12]} and {head[:12]} in this shallow clone: fetch more history "
                "(actions/checkout with fetch-depth: 0) or fetch the merge-base commit"
            ) from None
        raise BotError(f"{base[:12]} and {head[:12]} have no common ancestor") from None


def list_tree(repo: str, commit: str) -> list[Entry]:
    out = []
    raw = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
    for record in raw.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        out.append(Entry(path.decode("utf-8", "surrogateescape"), blob, mode if kind == "blob" else kind))
    return out


def read_file(repo: str, commit: str, path: str, max_bytes: int = 1 << 20) -> bytes | None:
    """A file's contents at `commit`, by its path from the root (None: no such regular file).

    A file over `max_bytes` is an error: settings and templates are small, and a pull request decides
    what its head holds."""
    path = path.removeprefix("./")
    for record in _git(repo, "ls-tree", "-z", "--full-tree", commit, "--", path).split(b"\0"):
        meta, _, name = record.partition(b"\t")
        if not record or name.decode("utf-8", "surrogateescape") != path:
            continue
        mode, kind, blob = meta.decode().split(" ")
        if kind != "blob" or mode not in ("100644", "100755"):
            return None
        if int(_git(repo, "cat-file", "-s", blob)) > max_bytes:
            raise BotError(f"{path} is larger than {max_bytes // 1024} KiB")
        return _git(repo, "cat-file", "blob", blob)
    return None


def read_blobs(repo: str, blobs: list[str], keep: Callable[[str, bytes], bool] | None = None) -> dict[str, bytes]:
    """Contents of many blobs from one `git cat-file --batch` stream, read blob by blob.

    `keep(blob, data)` False drops a blob as soon as it is read: the repository is never held in
    memory whole, only what is kept.
    """
    if not blobs:
        return {}
    out: dict[str, bytes] = {}
    with tempfile.TemporaryFile() as ids:  # a file, not a pipe: git writes while we are still asking
        ids.write("".join(b + "\n" for b in blobs).encode())
        ids.seek(0)
        try:
            proc = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"], stdin=ids,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise BotError("git is not installed or not on PATH") from None
        stdout, stderr = cast(IO[bytes], proc.stdout), cast(IO[bytes], proc.stderr)  # both piped above
        with proc:
            for _ in blobs:
                parts = stdout.readline().split()
                if len(parts) < 3 or parts[1] == b"missing":
                    proc.kill()
                    name = parts[0].decode() if parts else "?"
                    message = stderr.read().decode("utf-8", "replace").strip().splitlines()
                    if not parts and message:
                        raise _translate(("cat-file", "--batch"), message[-1])
                    raise BotError(f"git object {name} is missing from this clone")
                data = stdout.read(int(parts[2]))
                stdout.read(1)  # the newline after each object
                blob = parts[0].decode()
                if keep is None or keep(blob, data):
                    out[blob] = data
    return out


def has_commit(repo: str, sha: str) -> bool:
    try:
        _git(repo, "cat-file", "-e", f"{sha}^{{commit}}")
        return True
    except BotError:
        return False


def fetch(repo: str, remote: str, shas: list[str]) -> None:
    """Fetch just these commits (depth 1): enough to read their trees."""
    _git(repo, "-c", "protocol.version=2", "fetch", "--no-tags", "--depth=1", "--quiet", remote, *shas)


def trust(repo: str) -> None:
    """A container action has its own HOME, so the runner's safe.directory does not reach it."""
    subprocess.run(["git", "config", "--global", "--add", "safe.directory", repo], capture_output=True, check=False)
