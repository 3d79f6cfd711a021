"""Argo CD: one target per Application whose sources are paths of this repository, each source
read as Argo CD would build it (kustomize, helm or a plain directory)."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import yaml

from bot.discover.objects import Object
from bot.discover.plain import alternatives_folder
from bot.discover.repo import MANIFEST_SUFFIXES, Repo, as_list, as_map, as_strs, clean_path, is_local
from bot.inputs import Closure, chart_closure, join, kustomization_closure, kustomization_file, outside, unique
from bot.targets import Cluster, HelmParameter, KustomizeEdits, Source, SourceKind, Target, Tool

IN_CLUSTER = "https://kubernetes.default.svc"  # Argo CD's name for it: in-cluster


def argocd_targets(repo: Repo, objects: list[Object]) -> list[Target]:
    """The Applications among `objects`; ApplicationSets are noted, not expanded."""
    out = []
    for app in objects:
        if app.kind == "ApplicationSet" and app.api == "argoproj.io":
            repo.notes.append(f"{app.path}: ApplicationSet {app.name} is not expanded; "
                              "its Applications are not reviewed")
        if app.kind != "Application" or app.api != "argoproj.io":
            continue
        target = _application(repo, app)
        if target is not None:
            out.append(target)
    return out


def _application(repo: Repo, app: Object) -> Target | None:
    spec = app.spec
    listed = spec.get("sources")
    raw_sources = [as_map(s) for s in listed] if isinstance(listed, list) else [as_map(spec.get("source"))]
    destination = as_map(spec.get("destination"))
    server, cluster_name = str(destination.get("server") or ""), str(destination.get("name") or "")
    notes: list[str] = []
    if server and cluster_name:
        notes.append("destination has both name and server; Argo CD refuses it")
    cluster = Cluster(cluster_name or ("in-cluster" if server in ("", IN_CLUSTER) else server), server)
    namespace = str(destination.get("namespace") or "") or None
    refs = {str(s["ref"]): s for s in raw_sources if s.get("ref")}
    sources: list[Source] = []
    inputs: list[str] = [app.path]
    unresolved: list[str] = []
    for raw in raw_sources:
        url = str(raw.get("repoURL") or "")
        if raw.get("chart"):
            unresolved.append(f"chart {raw['chart']} from {url} is not fetched")
            continue
        if raw.get("path") is None and raw.get("ref"):
            continue  # only a `$ref` for value files
        path = clean_path(str(raw.get("path") or ""))
        if not is_local(repo, url, path):
            unresolved.append(f"source {url} {path} is not in this repository".replace("  ", " "))
            continue
        source, closure, cannot = _argocd_source(repo, app, raw, path, namespace, refs)
        if source is None:
            unresolved.append(f"source {path or '.'}: {closure.problems[0]}")
            continue
        sources.append(source)
        inputs += [*closure.inputs, *_argocd_source_files(repo, path, app.name)]
        unresolved += [*cannot, *(f"remote {r} is not fetched" for r in closure.remote)]
        notes += list(closure.problems)
    if not sources and not unresolved:
        return None
    root = sources[0].path if sources else ""
    return Target(app.name, cluster, SourceKind.ARGOCD, root, tuple(sources), namespace, app.path,
                  unique(inputs), tuple(unresolved), alternatives_folder(app.path, repo.options) is not None,
                  tuple(notes))


def _argocd_source(repo: Repo, app: Object, raw: dict[str, Any], path: str, namespace: str | None,
                   refs: Mapping[str, dict[str, Any]]) -> tuple[Source | None, Closure, list[str]]:
    """One source: the tool (explicit block first, else kustomization file, else Chart.yaml, else a
    directory: argo-cd `reposerver/repository/repository.go` `GetAppSourceType`,
    `util/app/discovery/discovery.go`)."""
    blocks = [k for k in ("helm", "kustomize", "directory", "plugin") if raw.get(k) is not None]
    if len(blocks) > 1:
        return None, Closure(problems=(f"multiple application sources defined: {', '.join(blocks)}",)), []
    kind = blocks[0] if blocks else (
        "kustomize" if kustomization_file(path, repo.paths) else
        "helm" if join(path, "Chart.yaml") in repo.paths else "directory")
    if kind == "plugin":
        return None, Closure(problems=("config management plugins are not run",)), []
    if kind == "kustomize":
        k = as_map(raw.get("kustomize"))
        edits = KustomizeEdits(
            namespace=str(k.get("namespace") or ""), name_prefix=str(k.get("namePrefix") or ""),
            name_suffix=str(k.get("nameSuffix") or ""),
            components=tuple(c for c in as_strs(k.get("components"))
                             if not k.get("ignoreMissingComponents") or join(path, c) in repo.folders),
            patches=tuple(json.dumps(p, sort_keys=True) for p in as_list(k.get("patches")) if isinstance(p, dict)),
            images=tuple(as_strs(k.get("images"))),
            labels=tuple(sorted((str(a), str(b)) for a, b in as_map(k.get("commonLabels")).items())),
            annotations=tuple(sorted((str(a), str(b)) for a, b in as_map(k.get("commonAnnotations")).items())))
        closure = kustomization_closure(path, repo.paths, repo.texts)
        # components Argo CD adds are read whole (kustomize edit add component)
        components = tuple(join(path, c) for c in edits.components)
        return Source(Tool.KUSTOMIZE, path, edits=edits), replace(closure, folders=closure.folders + components), []
    if kind == "helm":
        h = as_map(raw.get("helm"))
        values_files, problems = _value_files(repo, path, as_strs(h.get("valueFiles")), refs,
                                              bool(h.get("ignoreMissingValueFiles")))
        values: tuple[str, ...] = ()
        if isinstance(h.get("valuesObject"), dict):
            values = (yaml.safe_dump(h["valuesObject"], sort_keys=False),)
        elif isinstance(h.get("values"), str) and h["values"].strip():
            values = (h["values"],)
        parameters = tuple(HelmParameter(str(p.get("name")), str(p.get("value", "")), bool(p.get("forceString")))
                           for p in as_list(h.get("parameters")) if isinstance(p, dict) and p.get("name"))
        source = Source(Tool.HELM, path, namespace=str(h.get("namespace") or namespace or ""),
                        release=str(h.get("releaseName") or app.name), values_files=values_files, values=values,
                        parameters=parameters, include_crds=not h.get("skipCrds"), skip_tests=bool(h.get("skipTests")))
        return source, chart_closure(path, values_files, repo.paths, repo.texts), problems
    d = as_map(raw.get("directory"))
    files = _directory_files(repo, path, bool(d.get("recurse")), str(d.get("include") or ""),
                             str(d.get("exclude") or ""))
    return (Source(Tool.PLAIN, path, files=files, recurse=bool(d.get("recurse")),
                   include=_braces(str(d.get("include") or "")), exclude=_braces(str(d.get("exclude") or ""))),
            Closure(files=files), [])


def _argocd_source_files(repo: Repo, path: str, app: str) -> list[str]:
    """`.argocd-source.yaml` and `.argocd-source-<app>.yaml` are merged into the source
    (argo-cd `reposerver/repository/repository.go` `mergeSourceParameters`)."""
    return [p for p in (join(path, ".argocd-source.yaml"), join(path, f".argocd-source-{app}.yaml")) if p in repo.paths]


def _value_files(repo: Repo, path: str, entries: list[str], refs: Mapping[str, dict[str, Any]],
                 ignore_missing: bool) -> tuple[tuple[str, ...], list[str]]:
    """Value files as repository paths, and those that cannot be used: relative to the chart, or
    `$ref/...` from the root of the referenced source's repository; globs expand in lexical order,
    explicit entries win; none may leave the repository (argo-cd docs/user-guide/helm.md,
    `util/io/path/resolved.go` `ResolveValueFilePathOrUrl`)."""
    resolved: list[str] = []
    problems: list[str] = []
    for entry in entries:
        if entry.startswith("$"):
            ref, _, rest = entry[1:].partition("/")
            source = refs.get(ref)
            if source is None or not is_local(repo, str(source.get("repoURL") or ""), ""):
                problems.append(f"value file {entry} is not in this repository")
                continue
            target = join("", rest)
        else:
            target = join(path, entry)
        if outside(target) or "://" in entry:
            problems.append(f"value file {entry} is outside the repository")
        else:
            resolved.append(target)
    explicit = {r for r in resolved if not any(c in r for c in "*?[")}
    out: list[str] = []
    for r in resolved:
        if r not in explicit:
            out += sorted(p for p in repo.paths if fnmatch.fnmatchcase(p, r) and p not in explicit)
        elif r in repo.paths or not ignore_missing:
            out.append(r)
    return unique(out), problems


def _directory_files(repo: Repo, path: str, recurse: bool, include: str, exclude: str) -> tuple[str, ...]:
    """The files of a directory source: .yaml/.yml/.json in the folder (below it with `recurse`),
    `exclude` first, then `include` (gobwas globs with `{a,b}`; argo-cd docs/user-guide/directory.md)."""
    out = []
    prefix = path + "/" if path else ""
    for p in sorted(repo.paths):
        if not p.startswith(prefix) or not p.endswith((*MANIFEST_SUFFIXES, ".json")):
            continue
        rel = p[len(prefix):]
        if not recurse and "/" in rel:
            continue
        if exclude and any(fnmatch.fnmatchcase(rel, g) for g in _braces(exclude)):
            continue
        if include and not any(fnmatch.fnmatchcase(rel, g) for g in _braces(include)):
            continue
        out.append(p)
    return tuple(out)


def _braces(glob: str) -> tuple[str, ...]:
    """`{a,b}` alternation expanded into plain globs."""
    if not glob:
        return ()
    found = re.search(r"\{([^{}]*)\}", glob)
    if found is None:
        return (glob,)
    return tuple(g for option in found.group(1).split(",")
                 for g in _braces(glob[:found.start()] + option + glob[found.end():]))

