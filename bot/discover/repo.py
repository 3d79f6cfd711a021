"""The repository as discovery sees it, and the small helpers every kind of target shares."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot.inputs import KUSTOMIZATION_FILES, folders_of, join, parse_kustomization
from bot.targets import Cluster, Options

# the folder names that name a cluster or environment: the next segment is its name
CLUSTER_FOLDERS = ("clusters", "cluster", "envs", "environments", "overlays")
MANIFEST_SUFFIXES = (".yaml", ".yml")


@dataclass
class Repo:
    """The paths and file texts of one revision, with the notes discovery makes on them."""

    paths: frozenset[str]
    texts: Mapping[str, bytes]
    options: Options
    notes: list[str] = field(default_factory=list)

    @cached_property
    def folders(self) -> frozenset[str]:
        return folders_of(self.paths)

    @cached_property
    def kustomization_dirs(self) -> list[str]:
        return sorted({p.rpartition("/")[0] for p in self.paths
                       if p.endswith(KUSTOMIZATION_FILES) and p.rpartition("/")[2] in KUSTOMIZATION_FILES})

    @cached_property
    def chart_dirs(self) -> list[str]:
        """Every folder holding a Chart.yaml."""
        return sorted(p.rpartition("/")[0] for p in self.paths if p.endswith("Chart.yaml")
                      and p.rpartition("/")[2] == "Chart.yaml")

    @cached_property
    def application_charts(self) -> list[str]:
        """Folders holding a Chart.yaml that are charts of their own: not a subchart under another
        chart's `charts/`, not a `file://` dependency, not `type: library`."""
        charts = self.chart_dirs
        dependencies: set[str] = set()
        library: set[str] = set()
        for chart in charts:
            meta = parse_kustomization(self.texts.get(join(chart, "Chart.yaml"), b""))
            if isinstance(meta, str):
                continue
            if meta.get("type") == "library":
                library.add(chart)
            for dep in as_list(meta.get("dependencies")):
                repository = as_map(dep).get("repository")
                if isinstance(repository, str) and repository.startswith("file://"):
                    dependencies.add(join(chart, repository[len("file://"):]))
        return [c for c in charts if c not in dependencies and c not in library
                and not any(c.startswith(o + "/charts/") for o in charts if o != c)]


def cluster_from_path(path: str) -> Cluster | None:
    """The folder after `clusters/`, `envs/`, `environments/` or `overlays/` in a path, as a cluster."""
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part in CLUSTER_FOLDERS and i + 1 < len(parts) - 1:
            return Cluster(parts[i + 1])
    return None


def is_local(repo: Repo, url: str, path: str) -> bool:
    """Whether a repoURL names this repository: one of `repo_urls`, or, when none are known, any
    URL whose path exists here."""
    if repo.options.repo_urls:
        return _normal_url(url) in {_normal_url(u) for u in repo.options.repo_urls}
    return path == "" or path in repo.folders


def _normal_url(url: str) -> str:
    """`https://github.com/Org/Repo.git`, `git@github.com:org/repo` and `ssh://git@github.com/org/repo`
    all become `github.com/org/repo`."""
    url = url.strip().lower()
    url = re.sub(r"^[a-z+]+://", "", url)
    url = re.sub(r"^[^@/]+@", "", url)
    url = re.sub(r"^([^/:]+):(?!\d)", r"\1/", url)
    return url.rstrip("/").removesuffix(".git")


def clean_path(path: str) -> str:
    path = posixpath.normpath(path.strip()) if path.strip() else ""
    return "" if path in (".", "/") else path.lstrip("/")


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_strs(value: Any) -> list[str]:
    return [str(v) for v in as_list(value) if isinstance(v, (str, int, float))]

