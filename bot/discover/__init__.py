"""Find a repository's deploy targets from its files. Pure: paths and file texts in, targets out.

Order (docs: the reference of how Argo CD, Flux, Helm and Kustomize decide what is rendered):
1. Controller objects: Argo CD Applications and Flux Kustomizations/HelmReleases whose source is a
   path of this repository.
2. Without any: leaf kustomizations (not a base or component of another) and application charts
   (not a subchart, not a library), one target per environment values file.
3. Every other YAML file is one plain "repository" target; folders of examples, samples, docs and
   tutorials are plain targets of their own, marked as alternatives. Test fixtures and golden
   outputs are left out.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import yaml

from bot import globs, kustomize_edit
from bot.inputs import (
    KUSTOMIZATION_FILES,
    Closure,
    chart_closure,
    folders_of,
    join,
    kustomization_closure,
    kustomization_file,
    named_files,
    outside,
    parse_kustomization,
    read_documents,
    unique,
)
from bot.targets import (
    Cluster,
    Discovery,
    HelmParameter,
    KustomizeEdits,
    Options,
    Source,
    SourceKind,
    Target,
    Tool,
)

if TYPE_CHECKING:
    from bot.targets_config import TargetSpec

# the folder names that name a cluster or environment: the next segment is its name
CLUSTER_FOLDERS = ("clusters", "cluster", "envs", "environments", "overlays")
IN_CLUSTER = "https://kubernetes.default.svc"  # Argo CD's name for it: in-cluster
MANIFEST_SUFFIXES = (".yaml", ".yml")
_VALUES_ENV = re.compile(r"^values[-_.](?P<env>[A-Za-z0-9][\w.-]*)\.ya?ml$")


@dataclass
class _Repo:
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


def keep_for_discovery(path: str, data: bytes) -> bool:
    """Whether discovery needs this file's text: kustomizations, charts, controller objects."""
    name = path.rpartition("/")[2]
    if name in KUSTOMIZATION_FILES or name == "Chart.yaml":
        return True
    return path.endswith(MANIFEST_SUFFIXES) and (b"argoproj.io" in data or b"toolkit.fluxcd.io" in data)


def discover(paths: Collection[str], texts: Mapping[str, bytes], options: Options | None = None) -> Discovery:
    """The targets of one revision. `texts` holds at least the files `keep_for_discovery` keeps.

    Test fixtures and golden outputs are left out only where the repository has rendered targets
    (Argo CD or Flux objects, kustomizations, charts): a plain repository is read as it is, fixtures
    included, with only its folders of alternatives apart.
    """
    options = options or Options()
    every = frozenset(p for p in paths if not p.startswith(".git/"))
    # one look at all the paths at once: most repositories have no fixture folder at all
    joined = "\n".join(every)
    if "expected" in joined or _folder_pattern(options.fixture_folders, False).search(joined):
        reasons = {p: _fixture_reason(p, options) for p in every}
    else:
        reasons = dict.fromkeys(every, "")
    kept = frozenset(p for p, why in reasons.items() if not why)
    repo = _Repo(kept, texts, options)
    objects = list(_objects(repo))
    targets = _argocd(repo, objects) + _flux(repo, objects)
    if not targets:
        targets = _leaf_kustomizations(repo) + _charts(repo)
    if not targets:
        plain = _Repo(every, texts, options, notes=repo.notes)
        return Discovery(tuple(_plain(plain, [], as_read=True)), (), tuple(repo.notes))
    left_out = tuple((p, why) for p, why in sorted(reasons.items()) if why)
    targets += _plain(repo, targets)
    return Discovery(tuple(targets), left_out, tuple(repo.notes))


_KINDS = {Tool.PLAIN: SourceKind.PLAIN, Tool.KUSTOMIZE: SourceKind.KUSTOMIZE, Tool.HELM: SourceKind.HELM}


def configured(specs: Collection[TargetSpec], paths: Collection[str], texts: Mapping[str, bytes],
               options: Options | None = None) -> Discovery:
    """The targets a `targets:` config section names, with their inputs in this revision. YAML files
    no configured target reads form the plain target `repository` (folders of alternatives apart),
    as in discovery; fixtures are left out of it when a configured target renders."""
    options = options or Options()
    all_paths = frozenset(p for p in paths if not p.startswith(".git/"))
    out = []
    for spec in specs:
        if spec.tool is Tool.PLAIN:
            files = tuple(sorted(p for p in all_paths if globs.match(p, spec.globs)))
            source = Source(Tool.PLAIN, "", files=files, include=spec.globs)
            closure = Closure(files=files)
        elif spec.tool is Tool.KUSTOMIZE:
            source = Source(Tool.KUSTOMIZE, spec.path)
            closure = kustomization_closure(spec.path, all_paths, texts)
        else:
            source = Source(Tool.HELM, spec.path, namespace=spec.namespace or "", release=spec.release,
                            values_files=spec.values_files, values=spec.values)
            closure = chart_closure(spec.path, spec.values_files, all_paths, texts)
        kind = _KINDS[spec.tool]
        defined = (kustomization_file(spec.path, all_paths) if spec.tool is Tool.KUSTOMIZE
                   else join(spec.path, "Chart.yaml") if spec.tool is Tool.HELM else None)
        out.append(Target(spec.name, Cluster(spec.cluster), kind, spec.path, (source,), spec.namespace,
                          defined or "", closure.inputs, tuple(f"remote {r} is not fetched" for r in closure.remote),
                          False, closure.problems))
    rendered = any(spec.tool is not Tool.PLAIN for spec in specs)
    reasons = {p: _fixture_reason(p, options) if rendered else "" for p in all_paths}
    kept = frozenset(p for p, why in reasons.items() if not why)
    taken = {(t.name, t.cluster) for t in out}
    for leftover in _plain(_Repo(kept, texts, options), out):
        if (leftover.name, leftover.cluster) in taken:
            leftover = replace(leftover, name=f"{leftover.name} (not configured)")
        out.append(leftover)
    return Discovery(tuple(out), tuple((p, why) for p, why in sorted(reasons.items()) if why))


# --- what is left out, and what holds alternatives

@lru_cache(maxsize=16)
def _folder_pattern(names: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    """Matches a path with a folder of one of these names (a quick test before splitting it)."""
    alternatives = "|".join(re.escape(n) for n in names) or "(?!)"
    return re.compile(rf"(?:^|/)(?:{alternatives})/", re.MULTILINE | (re.IGNORECASE if ignore_case else 0))


def _fixture_reason(path: str, options: Options) -> str:
    if "expected" not in path and not _folder_pattern(options.fixture_folders, False).search(path):
        return ""
    parts = path.split("/")
    hit = next((p for p in parts[:-1] if p in options.fixture_folders), None)
    if hit is not None:
        return f"test fixture (in a {hit}/ folder)"
    if "expected" in parts[:-1] or re.match(r"expected[\w.-]*\.ya?ml$", parts[-1]):
        return "expected output of a build (golden file)"
    return ""


def _alternatives(path: str, options: Options) -> str | None:
    """The examples/samples/docs/tutorials folder `path` is in, if any."""
    if not _folder_pattern(options.alternative_folders, True).search(path):
        return None
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() in options.alternative_folders:
            return "/".join(parts[:i + 1])
    return None


# --- controller objects

@dataclass(frozen=True)
class _Object:
    path: str
    kind: str
    api: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(_map(self.body.get("metadata")).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(_map(self.body.get("metadata")).get("namespace") or "")

    @property
    def spec(self) -> dict[str, Any]:
        return _map(self.body.get("spec"))


def _objects(repo: _Repo) -> Iterator[_Object]:
    charts = _chart_folders(repo)
    for path in sorted(repo.texts):
        if path not in repo.paths or not path.endswith(MANIFEST_SUFFIXES):
            continue
        if any(path.startswith((c + "/templates/", c + "/charts/")) for c in charts):
            continue
        data = repo.texts[path]
        if b"argoproj.io" not in data and b"toolkit.fluxcd.io" not in data:
            continue
        docs, problem = read_documents(data)
        if problem is not None:
            repo.notes.append(f"{path}: {problem}; controller objects in it are not read")
            continue
        for doc in docs:
            if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and isinstance(doc.get("apiVersion"), str):
                yield _Object(path, doc["kind"], doc["apiVersion"].split("/")[0], doc)


# --- Argo CD

def _argocd(repo: _Repo, objects: list[_Object]) -> list[Target]:
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


def _application(repo: _Repo, app: _Object) -> Target | None:
    spec = app.spec
    listed = spec.get("sources")
    raw_sources = [_map(s) for s in listed] if isinstance(listed, list) else [_map(spec.get("source"))]
    destination = _map(spec.get("destination"))
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
        path = _clean(str(raw.get("path") or ""))
        if not _local(repo, url, path):
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
                  unique(inputs), tuple(unresolved), _alternatives(app.path, repo.options) is not None, tuple(notes))


def _argocd_source(repo: _Repo, app: _Object, raw: dict[str, Any], path: str, namespace: str | None,
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
        k = _map(raw.get("kustomize"))
        edits = KustomizeEdits(
            namespace=str(k.get("namespace") or ""), name_prefix=str(k.get("namePrefix") or ""),
            name_suffix=str(k.get("nameSuffix") or ""),
            components=tuple(c for c in _strs(k.get("components"))
                             if not k.get("ignoreMissingComponents") or join(path, c) in repo.folders),
            patches=tuple(json.dumps(p, sort_keys=True) for p in _list(k.get("patches")) if isinstance(p, dict)),
            images=tuple(_strs(k.get("images"))),
            labels=tuple(sorted((str(a), str(b)) for a, b in _map(k.get("commonLabels")).items())),
            annotations=tuple(sorted((str(a), str(b)) for a, b in _map(k.get("commonAnnotations")).items())))
        closure = kustomization_closure(path, repo.paths, repo.texts)
        # components Argo CD adds are read whole (kustomize edit add component)
        components = tuple(join(path, c) for c in edits.components)
        return Source(Tool.KUSTOMIZE, path, edits=edits), replace(closure, folders=closure.folders + components), []
    if kind == "helm":
        h = _map(raw.get("helm"))
        values_files, problems = _value_files(repo, path, _strs(h.get("valueFiles")), refs,
                                              bool(h.get("ignoreMissingValueFiles")))
        values: tuple[str, ...] = ()
        if isinstance(h.get("valuesObject"), dict):
            values = (yaml.safe_dump(h["valuesObject"], sort_keys=False),)
        elif isinstance(h.get("values"), str) and h["values"].strip():
            values = (h["values"],)
        parameters = tuple(HelmParameter(str(p.get("name")), str(p.get("value", "")), bool(p.get("forceString")))
                           for p in _list(h.get("parameters")) if isinstance(p, dict) and p.get("name"))
        source = Source(Tool.HELM, path, namespace=str(h.get("namespace") or namespace or ""),
                        release=str(h.get("releaseName") or app.name), values_files=values_files, values=values,
                        parameters=parameters, include_crds=not h.get("skipCrds"), skip_tests=bool(h.get("skipTests")))
        return source, chart_closure(path, values_files, repo.paths, repo.texts), problems
    d = _map(raw.get("directory"))
    files = _directory_files(repo, path, bool(d.get("recurse")), str(d.get("include") or ""),
                             str(d.get("exclude") or ""))
    return (Source(Tool.PLAIN, path, files=files, recurse=bool(d.get("recurse")),
                   include=_braces(str(d.get("include") or "")), exclude=_braces(str(d.get("exclude") or ""))),
            Closure(files=files), [])


def _argocd_source_files(repo: _Repo, path: str, app: str) -> list[str]:
    """`.argocd-source.yaml` and `.argocd-source-<app>.yaml` are merged into the source
    (argo-cd `reposerver/repository/repository.go` `mergeSourceParameters`)."""
    return [p for p in (join(path, ".argocd-source.yaml"), join(path, f".argocd-source-{app}.yaml")) if p in repo.paths]


def _value_files(repo: _Repo, path: str, entries: list[str], refs: Mapping[str, dict[str, Any]],
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
            if source is None or not _local(repo, str(source.get("repoURL") or ""), ""):
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


def _directory_files(repo: _Repo, path: str, recurse: bool, include: str, exclude: str) -> tuple[str, ...]:
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


# --- Flux

def _flux(repo: _Repo, objects: list[_Object]) -> list[Target]:
    git_repos = {(o.namespace, o.name): o for o in objects
                 if o.kind == "GitRepository" and o.api == "source.toolkit.fluxcd.io"}
    kustomizations = [o for o in objects if o.kind == "Kustomization" and o.api == "kustomize.toolkit.fluxcd.io"]
    releases = [o for o in objects if o.kind == "HelmRelease" and o.api == "helm.toolkit.fluxcd.io"]
    if not kustomizations and not releases:
        return []
    built: dict[int, tuple[Source, Closure]] = {}
    for index, ks in enumerate(kustomizations):
        local = _flux_source_local(repo, ks, ks.spec, git_repos)
        path = _clean(str(ks.spec.get("path") or ""))
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
        unresolved += [f"postBuild.substituteFrom {_map(s).get('kind')}/{_map(s).get('name')} is not read offline"
                       for s in _list(_map(ks.spec.get("postBuild")).get("substituteFrom"))]
        reached = _remote_cluster(ks) or clusters.get(ks.path, [_cluster_from_path(ks.path) or Cluster(ks.name)])
        for cluster in reached:
            name = ks.name if len(reached) <= 1 else f"{ks.name}@{cluster.name}"
            out.append(Target(name, cluster, SourceKind.FLUX_KUSTOMIZATION, source.path, (source,),
                              source.edits.namespace or None, ks.path, unique([ks.path, *closure.inputs]),
                              tuple(unresolved), _alternatives(ks.path, repo.options) is not None,
                              tuple(closure.problems)))
    for hr in releases:
        out += _helm_release(repo, hr, git_repos, clusters)
    return out


def _flux_source_local(repo: _Repo, obj: _Object, spec: Mapping[str, Any],
                       git_repos: Mapping[tuple[str, str], _Object]) -> bool:
    ref = _map(spec.get("sourceRef"))
    if ref.get("kind", "GitRepository") != "GitRepository":
        return False
    git_repo = git_repos.get((str(ref.get("namespace") or obj.namespace), str(ref.get("name") or "")))
    url = str(git_repo.spec.get("url") or "") if git_repo else ""
    # a GitRepository not in the repository (bootstrapped elsewhere) counts as this one when no URL is known
    return _local(repo, url, "") if url else not repo.options.repo_urls


def _flux_kustomization_source(repo: _Repo, ks: _Object, path: str) -> tuple[Source, Closure]:
    spec = ks.spec
    edits = KustomizeEdits(
        namespace=str(spec.get("targetNamespace") or ""), name_prefix=str(spec.get("namePrefix") or ""),
        name_suffix=str(spec.get("nameSuffix") or ""), components=tuple(_strs(spec.get("components"))),
        patches=tuple(json.dumps(p, sort_keys=True) for p in _list(spec.get("patches")) if isinstance(p, dict)),
        images=tuple(_flux_image(i) for i in _list(spec.get("images")) if isinstance(i, dict) and i.get("name")))
    substitute = _map(_map(spec.get("postBuild")).get("substitute"))
    generate = kustomization_file(path, repo.paths) is None
    substitute_from = tuple(f"{_map(s).get('kind')}/{_map(s).get('name')}"
                            for s in _list(_map(spec.get("postBuild")).get("substituteFrom")))
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


def _flux_clusters(repo: _Repo, kustomizations: list[_Object], built: Mapping[int, tuple[Source, Closure]]
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
        cluster = _cluster_from_path(source.path + "/x") or Cluster(posixpath.basename(source.path) or ks.name)
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


def _remote_cluster(obj: _Object) -> list[Cluster]:
    """`spec.kubeConfig` applies the object's output to another cluster, named here by the Secret
    or ConfigMap that describes it (kustomize-controller docs/spec/v1/kustomizations.md,
    "KubeConfig (Remote clusters)")."""
    config = _map(obj.spec.get("kubeConfig"))
    for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
        name = _map(config.get(key)).get("name")
        if name:
            return [Cluster(f"kubeconfig {kind} {obj.namespace}/{name}")]
    return []


def _closure_reads(closure: Closure, path: str) -> bool:
    return path in closure.files or any(path.startswith(f + "/") for f in closure.folders)


def _helm_release(repo: _Repo, hr: _Object, git_repos: Mapping[tuple[str, str], _Object],
                  clusters: Mapping[str, list[Cluster]]) -> list[Target]:
    """A HelmRelease whose chart is a path of this repository (helm-controller
    `api/v2/helmrelease_types.go` `HelmChartTemplateSpec`, `GetReleaseName`, `GetReleaseNamespace`)."""
    chart_spec = _map(_map(hr.spec.get("chart")).get("spec"))
    chart = str(chart_spec.get("chart") or "")
    if not chart or not _flux_source_local(repo, hr, chart_spec, git_repos) or "/" not in chart:
        repo.notes.append(f"{hr.path}: HelmRelease {hr.name} uses a chart that is not a path of this repository; "
                          "not reviewed")
        return []
    path = _clean(chart)
    namespace = str(hr.spec.get("targetNamespace") or hr.namespace or "") or None
    target_ns = str(hr.spec.get("targetNamespace") or "")
    release = str(hr.spec.get("releaseName") or (f"{target_ns}-{hr.name}" if target_ns else hr.name))
    if len(release) > 53:  # helm-controller internal/release/name.go ShortenName
        release = release[:40] + "-" + hashlib.sha256(release.encode()).hexdigest()[:12]
    values_files = tuple(join("", _clean(v)) for v in _strs(chart_spec.get("valuesFiles")))
    values = (yaml.safe_dump(hr.spec["values"], sort_keys=False),) if isinstance(hr.spec.get("values"), dict) else ()
    unresolved = [f"valuesFrom {_map(v).get('kind')}/{_map(v).get('name')} is not read offline"
                  for v in _list(hr.spec.get("valuesFrom"))]
    # valuesFiles replace the chart's values.yaml (source-controller docs/spec/v1/helmcharts.md, "Values files")
    source = Source(Tool.HELM, path, namespace=namespace or "", release=release, values_files=values_files,
                    chart_values=not values_files, values=values, include_crds=True)
    closure = chart_closure(path, values_files, repo.paths, repo.texts)
    reached = _remote_cluster(hr) or clusters.get(hr.path, [_cluster_from_path(hr.path) or Cluster(hr.name)])
    return [Target(hr.name if len(reached) == 1 else f"{hr.name}@{cluster.name}", cluster, SourceKind.FLUX_HELMRELEASE,
                   path, (source,), namespace, hr.path,
                   unique([hr.path, *closure.inputs]), tuple(unresolved),
                   _alternatives(hr.path, repo.options) is not None, tuple(closure.problems))
            for cluster in reached]


# --- without controller objects

def _leaf_kustomizations(repo: _Repo) -> list[Target]:
    folders = _kustomization_folders(repo)
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
    charts = _chart_folders(repo)
    for folder in folders:
        if folder in used or folder in components or any(folder.startswith(c + "/") for c in charts):
            continue
        closure = kustomization_closure(folder, repo.paths, repo.texts)
        name = folder or "."
        out.append(Target(name, _cluster_from_path(folder + "/x") or Cluster(name), SourceKind.KUSTOMIZE, folder,
                          (Source(Tool.KUSTOMIZE, folder),), None, kustomization_file(folder, repo.paths) or "",
                          closure.inputs, tuple(f"remote {r} is not fetched" for r in closure.remote),
                          _alternatives(folder + "/x", repo.options) is not None, closure.problems))
    return out


def _kustomization_folders(repo: _Repo) -> list[str]:
    return repo.kustomization_dirs


def _chart_folders(repo: _Repo) -> list[str]:
    """Folders holding a Chart.yaml that are charts of their own: not a subchart under another
    chart's `charts/`, not a `file://` dependency, not `type: library`."""
    charts = repo.chart_dirs
    dependencies: set[str] = set()
    library: set[str] = set()
    for chart in charts:
        meta = parse_kustomization(repo.texts.get(join(chart, "Chart.yaml"), b""))
        if isinstance(meta, str):
            continue
        if meta.get("type") == "library":
            library.add(chart)
        for dep in _list(meta.get("dependencies")):
            repository = _map(dep).get("repository")
            if isinstance(repository, str) and repository.startswith("file://"):
                dependencies.add(join(chart, repository[len("file://"):]))
    return [c for c in charts if c not in dependencies and c not in library
            and not any(c.startswith(o + "/charts/") for o in charts if o != c)]


def _charts(repo: _Repo) -> list[Target]:
    """Each application chart with its default values, or, when it has environment value files
    (`values-prod.yaml`, `values.prod.yaml`, `values/prod.yaml`), one target per environment with
    `values.yaml` first and that file after it, in a cluster named for the environment."""
    out = []
    for chart in _chart_folders(repo):
        meta = parse_kustomization(repo.texts.get(join(chart, "Chart.yaml"), b""))
        release = str(meta.get("name") if isinstance(meta, dict) and meta.get("name") else posixpath.basename(chart))
        alternatives = _alternatives(chart + "/x", repo.options) is not None
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
            out.append(Target(name, _cluster_from_path(chart + "/x") or Cluster(name), SourceKind.HELM, chart,
                              (Source(Tool.HELM, chart, release=release),), None, join(chart, "Chart.yaml"),
                              closure.inputs, (), alternatives, closure.problems))
            continue
        for env, values in envs:
            closure = chart_closure(chart, (values,), repo.paths, repo.texts)
            out.append(Target(f"{name}@{env}", Cluster(env), SourceKind.HELM, chart,
                              (Source(Tool.HELM, chart, release=release, values_files=(values,)),), None,
                              join(chart, "Chart.yaml"), closure.inputs, (), alternatives, closure.problems))
    return out


def _plain(repo: _Repo, targets: list[Target], as_read: bool = False) -> list[Target]:
    """YAML files no target reads: one "repository" target, and one per alternatives folder.
    `as_read`: a plain repository, every YAML file read as it is (kustomization and chart folders too)."""
    built = {t.root for t in targets if any(s.tool is not Tool.PLAIN for s in t.sources)}
    if not as_read:
        built |= set(repo.kustomization_dirs) | set(repo.chart_dirs)
    read = {i for t in targets for i in t.inputs if not i.endswith("/")}
    read_folders = tuple(i for t in targets for i in t.inputs if i.endswith("/") or i == "")
    groups: dict[str, list[str]] = {}
    apart = _folder_pattern(repo.options.alternative_folders, True).search("\n".join(repo.paths)) is not None
    for path in sorted(repo.paths):
        if not path.endswith(MANIFEST_SUFFIXES) or path in read or path.startswith(read_folders):
            continue
        if built and any(_under(path, f) for f in built):
            continue
        groups.setdefault((_alternatives(path, repo.options) if apart else None) or "", []).append(path)
    out = []
    for folder, files in sorted(groups.items()):
        name = folder or "repository"
        out.append(Target(name, Cluster(name), SourceKind.PLAIN, folder,
                          (Source(Tool.PLAIN, folder, files=tuple(files)),), None, "", tuple(files), (), bool(folder)))
    return out


# --- small helpers

def _under(path: str, folder: str) -> bool:
    """Whether `path` is in `folder` or below it ("" is the root folder: only files directly in it)."""
    return path.startswith(folder + "/") if folder else "/" not in path


def _cluster_from_path(path: str) -> Cluster | None:
    """The folder after `clusters/`, `envs/`, `environments/` or `overlays/` in a path, as a cluster."""
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part in CLUSTER_FOLDERS and i + 1 < len(parts) - 1:
            return Cluster(parts[i + 1])
    return None


def _local(repo: _Repo, url: str, path: str) -> bool:
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


def _clean(path: str) -> str:
    path = posixpath.normpath(path.strip()) if path.strip() else ""
    return "" if path in (".", "/") else path.lstrip("/")


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strs(value: Any) -> list[str]:
    return [str(v) for v in _list(value) if isinstance(v, (str, int, float))]


