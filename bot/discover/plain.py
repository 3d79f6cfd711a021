"""What is left out (test fixtures, golden files), which folders hold alternatives (examples,
samples, docs, tutorials), and the plain targets: the YAML files no other target reads."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.discover.repo import MANIFEST_SUFFIXES, Repo
from bot.targets import Cluster, Options, Source, SourceKind, Target, Tool


@lru_cache(maxsize=16)
def folder_pattern(names: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    """Matches a path with a folder of one of these names (a quick test before splitting it)."""
    alternatives = "|".join(re.escape(n) for n in names) or "(?!)"
    return re.compile(rf"(?:^|/)(?:{alternatives})/", re.MULTILINE | (re.IGNORECASE if ignore_case else 0))


def fixture_reason(path: str, options: Options) -> str:
    if "expected" not in path and not folder_pattern(options.fixture_folders, False).search(path):
        return ""
    parts = path.split("/")
    hit = next((p for p in parts[:-1] if p in options.fixture_folders), None)
    if hit is not None:
        return f"test fixture (in a {hit}/ folder)"
    if "expected" in parts[:-1] or re.match(r"expected[\w.-]*\.ya?ml$", parts[-1]):
        return "expected output of a build (golden file)"
    return ""


def alternatives_folder(path: str, options: Options) -> str | None:
    """The examples/samples/docs/tutorials folder `path` is in, if any."""
    if not folder_pattern(options.alternative_folders, True).search(path):
        return None
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() in options.alternative_folders:
            return "/".join(parts[:i + 1])
    return None


def plain_targets(repo: Repo, targets: list[Target], as_read: bool = False) -> list[Target]:
    """YAML files no target reads: one "repository" target, and one per alternatives folder.
    `as_read`: a plain repository, every YAML file read as it is (kustomization and chart folders too)."""
    built = {t.root for t in targets if any(s.tool is not Tool.PLAIN for s in t.sources)}
    if not as_read:
        built |= set(repo.kustomization_dirs) | set(repo.chart_dirs)
    read = {i for t in targets for i in t.inputs if not i.endswith("/")}
    read_folders = tuple(i for t in targets for i in t.inputs if i.endswith("/") or i == "")
    groups: dict[str, list[str]] = {}
    apart = folder_pattern(repo.options.alternative_folders, True).search("\n".join(repo.paths)) is not None
    for path in sorted(repo.paths):
        if not path.endswith(MANIFEST_SUFFIXES) or path in read or path.startswith(read_folders):
            continue
        if built and any(_under(path, f) for f in built):
            continue
        groups.setdefault((alternatives_folder(path, repo.options) if apart else None) or "", []).append(path)
    out = []
    for folder, files in sorted(groups.items()):
        name = folder or "repository"
        out.append(Target(name, Cluster(name), SourceKind.PLAIN, folder,
                          (Source(Tool.PLAIN, folder, files=tuple(files)),), None, "", tuple(files), (), bool(folder)))
    return out


def _under(path: str, folder: str) -> bool:
    """Whether `path` is in `folder` or below it ("" is the root folder: only files directly in it)."""
    return path.startswith(folder + "/") if folder else "/" not in path

