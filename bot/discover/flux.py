"""Flux: Kustomizations and HelmReleases whose source is this repository, and the clusters that
apply them (the cluster roots `flux bootstrap` writes, or a remote `kubeConfig`)."""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import yaml

from bot import kustomize_edit
from bot.discover.objects import Object
from bot.discover.plain import alternatives_folder
from bot.discover.repo import Repo, as_list, as_map, as_strs, clean_path, cluster_from_path, is_local
from bot.inputs import Closure, chart_closure, join, kustomization_closure, kustomization_file, unique
from bot.targets import Cluster, KustomizeEdits, Source, SourceKind, Target, Tool


def flux_targets(repo: Repo, objects: list[Object]) -> list[Target]:
    """One target per Flux Kustomization and HelmRelease that builds a path of this repository,
    per cluster that applies it."""
    git_repos = {(o.namespace, o.name): o for o in objects
                 if o.kind == "GitRepository" and o.api == "source.toolkit.fluxcd.io"}
    kustomizations = [o for o in objects if o.kind == "Kustomization" and o.api == "kustomize.toolkit.fluxcd.io"]
    releases = [o for o in objects if o.kind == "HelmRelease" and o.api == "helm.toolkit.fluxcd.io"]
    if not kustomizations and not releases:
        return []
    built: dict[int, tuple[Source, Closure]] = {}
    for index, ks in enumerate(kustomizations):
        local = _flux_source_local(repo, ks, ks.spec, git_repos)
        path = clean_path(str(ks.spec.get("path") or ""))
        if local and (path in repo.folders or path == ""):
            built[index] = _flux_kustomization_source(repo, ks, path)
        else:
            repo.notes.append(f"{ks.path}: Kustomization {ks.name} builds {path or '.'} of another source; "
                              "not reviewed")
    clusters = _flux_clusters(repo, kustomizations, built)
    out: list[Target] = []
    for index, (source, closure) in built.items():
        ks = kustomizations[index]
        unresolved = [f"remote {r} is not fetched" for r in closure.remote]
        unresolved += [f"postBuild.substituteFrom {as_map(s).get('kind')}/{as_map(s).get('name')} is not read offline"
                       for s in as_list(as_map(ks.spec.get("postBuild")).get("substituteFrom"))]
        reached = _remote_cluster(ks) or clusters.get(ks.path, [cluster_from_path(ks.path) or Cluster(ks.name)])
        for cluster in reached:
            name = ks.name if len(reached) <= 1 else f"{ks.name}@{cluster.name}"
            out.append(Target(name, cluster, SourceKind.FLUX_KUSTOMIZATION, source.path, (source,),
                              source.edits.namespace or None, ks.path, unique([ks.path, *closure.inputs]),
                              tuple(unresolved), alternatives_folder(ks.path, repo.options) is not None,
                              tuple(closure.problems)))
    for hr in releases:
        out += _helm_release(repo, hr, git_repos, clusters)
    return out


def _flux_source_local(repo: Repo, obj: Object, spec: Mapping[str, Any],
                       git_repos: Mapping[tuple[str, str], Object]) -> bool:
    ref = as_map(spec.get("sourceRef"))
    if ref.get("kind", "GitRepository") != "GitRepository":
        return False
    git_repo = git_repos.get((str(ref.get("namespace") or obj.namespace), str(ref.get("name") or "")))
    url = str(git_repo.spec.get("url") or "") if git_repo else ""
    # a GitRepository not in the repository (bootstrapped elsewhere) counts as this one when no URL is known
    return is_local(repo, url, "") if url else not repo.options.repo_urls


def _flux_kustomization_source(repo: Repo, ks: Object, path: str) -> tuple[Source, Closure]:
    spec = ks.spec
    edits = KustomizeEdits(
        namespace=str(spec.get("targetNamespace") or ""), name_prefix=str(spec.get("namePrefix") or ""),
        name_suffix=str(spec.get("nameSuffix") or ""), components=tuple(as_strs(spec.get("components"))),
        patches=tuple(json.dumps(p, sort_keys=True) for p in as_list(spec.get("patches")) if isinstance(p, dict)),
        images=tuple(_flux_image(i) for i in as_list(spec.get("images")) if isinstance(i, dict) and i.get("name")))
    substitute = as_map(as_map(spec.get("postBuild")).get("substitute"))
    generate = kustomization_file(path, repo.paths) is None
    substitute_from = tuple(f"{as_map(s).get('kind')}/{as_map(s).get('name')}"
                            for s in as_list(as_map(spec.get("postBuild")).get("substituteFrom")))
    source = Source(Tool.KUSTOMIZE, path, edits=edits, generate_kustomization=generate,
                    substitutions=tuple(sorted((str(k), str(v).replace("\n", "")) for k, v in substitute.items())),
                    substitute_from=substitute_from)
    if not generate:
        return source, kustomization_closure(path, repo.paths, repo.texts)
    # walk the kustomization Flux would generate; it is not a file of the repository
    kfile = join(path, "kustomization.yaml")
    closure = kustomization_closure(path, repo.paths | {kfile},
                                    {**repo.texts, kfile: kustomize_edit.generated(path, repo.paths)})
    return source, replace(closure, files=tuple(f for f in closure.files if f != kfile))


def _flux_image(image: dict[str, Any]) -> str:
    new = str(image.get("newName") or image["name"])
    if image.get("digest"):
        return f"{image['name']}={new}@{image['digest']}"
    return f"{image['name']}={new}" + (f":{image['newTag']}" if image.get("newTag") else "")


def _flux_clusters(repo: Repo, kustomizations: list[Object], built: Mapping[int, tuple[Source, Closure]]
                   ) -> dict[str, list[Cluster]]:
    """Defining file -> the clusters that apply it. A Kustomization whose build includes its own
    file (as `flux bootstrap --path=clusters/<name>` writes `flux-system`: fluxcd/flux2
    `pkg/manifestgen/sync/sync.go`) is a cluster root; everything reachable from it is that cluster."""
    reads = {kustomizations[i].path: closure for i, (_, closure) in built.items()}
    out: dict[str, list[Cluster]] = {}
    for index, (source, closure) in built.items():
        ks = kustomizations[index]
        if not _closure_reads(closure, ks.path):
            continue
        cluster = cluster_from_path(source.path + "/x") or Cluster(posixpath.basename(source.path) or ks.name)
        queue = [ks.path]
        while queue:
            current = queue.pop()
            if cluster in out.setdefault(current, []):
                continue
            out[current].append(cluster)
            closure_now = reads.get(current)
            if closure_now is None:
                continue
            queue += [o.path for o in kustomizations if _closure_reads(closure_now, o.path)]
    return out


def _remote_cluster(obj: Object) -> list[Cluster]:
    """`spec.kubeConfig` applies the object's output to another cluster, named here by the Secret
    or ConfigMap that describes it (kustomize-controller docs/spec/v1/kustomizations.md,
    "KubeConfig (Remote clusters)")."""
    config = as_map(obj.spec.get("kubeConfig"))
    for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
        name = as_map(config.get(key)).get("name")
        if name:
            return [Cluster(f"kubeconfig {kind} {obj.namespace}/{name}")]
    return []


def _closure_reads(closure: Closure, path: str) -> bool:
    return path in closure.files or any(path.startswith(f + "/") for f in closure.folders)


def _helm_release(repo: Repo, hr: Object, git_repos: Mapping[tuple[str, str], Object],
                  clusters: Mapping[str, list[Cluster]]) -> list[Target]:
    """A HelmRelease whose chart is a path of this repository (helm-controller
    `api/v2/helmrelease_types.go` `HelmChartTemplateSpec`, `GetReleaseName`, `GetReleaseNamespace`)."""
    chart_spec = as_map(as_map(hr.spec.get("chart")).get("spec"))
    chart = str(chart_spec.get("chart") or "")
    if not chart or not _flux_source_local(repo, hr, chart_spec, git_repos) or "/" not in chart:
        repo.notes.append(f"{hr.path}: HelmRelease {hr.name} uses a chart that is not a path of this repository; "
                          "not reviewed")
        return []
    path = clean_path(chart)
    namespace = str(hr.spec.get("targetNamespace") or hr.namespace or "") or None
    target_ns = str(hr.spec.get("targetNamespace") or "")
    release = str(hr.spec.get("releaseName") or (f"{target_ns}-{hr.name}" if target_ns else hr.name))
    if len(release) > 53:  # helm-controller internal/release/name.go ShortenName
        release = release[:40] + "-" + hashlib.sha256(release.encode()).hexdigest()[:12]
    values_files = tuple(join("", clean_path(v)) for v in as_strs(chart_spec.get("valuesFiles")))
    values = (yaml.safe_dump(hr.spec["values"], sort_keys=False),) if isinstance(hr.spec.get("values"), dict) else ()
    unresolved = [f"valuesFrom {as_map(v).get('kind')}/{as_map(v).get('name')} is not read offline"
                  for v in as_list(hr.spec.get("valuesFrom"))]
    # valuesFiles replace the chart's values.yaml (source-controller docs/spec/v1/helmcharts.md, "Values files")
    source = Source(Tool.HELM, path, namespace=namespace or "", release=release, values_files=values_files,
                    chart_values=not values_files, values=values, include_crds=True)
    closure = chart_closure(path, values_files, repo.paths, repo.texts)
    reached = _remote_cluster(hr) or clusters.get(hr.path, [cluster_from_path(hr.path) or Cluster(hr.name)])
    return [Target(hr.name if len(reached) == 1 else f"{hr.name}@{cluster.name}", cluster, SourceKind.FLUX_HELMRELEASE,
                   path, (source,), namespace, hr.path,
                   unique([hr.path, *closure.inputs]), tuple(unresolved),
                   alternatives_folder(hr.path, repo.options) is not None, tuple(closure.problems))
            for cluster in reached]

