"""Without controller objects: leaf kustomizations (not a base or component of another) and
application charts (not a subchart, not a library), one chart target per environment values file."""

from __future__ import annotations

import posixpath
import re

from bot.discover.plain import alternatives_folder
from bot.discover.repo import MANIFEST_SUFFIXES, Repo, cluster_from_path
from bot.inputs import chart_closure, join, kustomization_closure, kustomization_file, named_files, parse_kustomization
from bot.targets import Cluster, Source, SourceKind, Target, Tool

_VALUES_ENV = re.compile(r"^values[-_.](?P<env>[A-Za-z0-9][\w.-]*)\.ya?ml$")


def kustomization_targets(repo: Repo) -> list[Target]:
    """Each kustomization that no other names as a resource or component, outside application charts."""
    folders = repo.kustomization_dirs
    used: set[str] = set()
    components: set[str] = set()
    for folder in folders:
        parsed = parse_kustomization(repo.texts.get(kustomization_file(folder, repo.paths) or "", b""))
        if isinstance(parsed, str):
            continue
        if parsed.get("kind") == "Component":
            components.add(folder)
        resources, comps, _ = named_files(parsed)
        used.update(join(folder, e) for e in [*resources, *comps])
    out = []
    charts = repo.application_charts
    for folder in folders:
        if folder in used or folder in components or any(folder.startswith(c + "/") for c in charts):
            continue
        closure = kustomization_closure(folder, repo.paths, repo.texts)
        name = folder or "."
        out.append(Target(name, cluster_from_path(folder + "/x") or Cluster(name), SourceKind.KUSTOMIZE, folder,
                          (Source(Tool.KUSTOMIZE, folder),), None, kustomization_file(folder, repo.paths) or "",
                          closure.inputs, tuple(f"remote {r} is not fetched" for r in closure.remote),
                          alternatives_folder(folder + "/x", repo.options) is not None, closure.problems))
    return out


def chart_targets(repo: Repo) -> list[Target]:
    """Each application chart with its default values, or, when it has environment value files
    (`values-prod.yaml`, `values.prod.yaml`, `values/prod.yaml`), one target per environment with
    `values.yaml` first and that file after it, in a cluster named for the environment."""
    out = []
    for chart in repo.application_charts:
        meta = parse_kustomization(repo.texts.get(join(chart, "Chart.yaml"), b""))
        release = str(meta.get("name") if isinstance(meta, dict) and meta.get("name") else posixpath.basename(chart))
        alternatives = alternatives_folder(chart + "/x", repo.options) is not None
        envs: list[tuple[str, str]] = []
        for p in sorted(repo.paths):
            rel = p[len(chart) + 1:] if chart else p
            if chart and not p.startswith(chart + "/"):
                continue
            found = _VALUES_ENV.match(rel)
            if found:
                envs.append((found.group("env").rsplit(".", 1)[0], p))
            elif rel.startswith("values/") and rel.count("/") == 1 and rel.endswith(MANIFEST_SUFFIXES):
                envs.append((posixpath.splitext(posixpath.basename(rel))[0], p))
        name = chart or "."
        if not envs:
            closure = chart_closure(chart, (), repo.paths, repo.texts)
            out.append(Target(name, cluster_from_path(chart + "/x") or Cluster(name), SourceKind.HELM, chart,
                              (Source(Tool.HELM, chart, release=release),), None, join(chart, "Chart.yaml"),
                              closure.inputs, (), alternatives, closure.problems))
            continue
        for env, values in envs:
            closure = chart_closure(chart, (values,), repo.paths, repo.texts)
            out.append(Target(f"{name}@{env}", Cluster(env), SourceKind.HELM, chart,
                              (Source(Tool.HELM, chart, release=release, values_files=(values,)),), None,
                              join(chart, "Chart.yaml"), closure.inputs, (), alternatives, closure.problems))
    return out

