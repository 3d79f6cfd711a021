"""Find a repository's deploy targets from its files. Pure: paths and file texts in, targets out.

Order (docs: the reference of how Argo CD, Flux, Helm and Kustomize decide what is rendered):
1. Controller objects: Argo CD Applications and Flux Kustomizations/HelmReleases whose source is a
   path of this repository.
2. Without any: leaf kustomizations (not a base or component of another) and application charts
   (not a subchart, not a library), one target per environment values file.
3. Every other YAML file is one plain "repository" target; folders of examples, samples, docs and
   tutorials are plain targets of their own, marked as alternatives. Test fixtures and golden
   outputs are left out.

Modules, each importing only those listed before it: `repo` (the repository view, shared helpers),
`plain` (fixtures left out, folders of alternatives, plain targets), `leaves` (leaf kustomizations,
application charts), `objects` (controller objects), `argocd` (Applications), `flux`
(Kustomizations, HelmReleases, the clusters that apply them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from bot import globs
from bot.discover.argocd import argocd_targets
from bot.discover.flux import flux_targets
from bot.discover.leaves import chart_targets, kustomization_targets
from bot.discover.objects import controller_objects
from bot.discover.plain import fixture_reason, folder_pattern, plain_targets
from bot.discover.repo import MANIFEST_SUFFIXES, Repo
from bot.inputs import KUSTOMIZATION_FILES, Closure, chart_closure, join, kustomization_closure, kustomization_file
from bot.targets import Cluster, Discovery, Options, Source, SourceKind, Target, Tool

if TYPE_CHECKING:
    from bot.targets_config import TargetSpec

__all__ = ["Discovery", "Options", "configured", "discover", "keep_for_discovery"]


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
    if "expected" in joined or folder_pattern(options.fixture_folders, False).search(joined):
        reasons = {p: fixture_reason(p, options) for p in every}
    else:
        reasons = dict.fromkeys(every, "")
    kept = frozenset(p for p, why in reasons.items() if not why)
    repo = Repo(kept, texts, options)
    objects = list(controller_objects(repo))
    targets = argocd_targets(repo, objects) + flux_targets(repo, objects)
    if not targets:
        targets = kustomization_targets(repo) + chart_targets(repo)
    if not targets:
        plain = Repo(every, texts, options, notes=repo.notes)
        return Discovery(tuple(plain_targets(plain, [], as_read=True)), (), tuple(repo.notes))
    left_out = tuple((p, why) for p, why in sorted(reasons.items()) if why)
    targets += plain_targets(repo, targets)
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
    reasons = {p: fixture_reason(p, options) if rendered else "" for p in all_paths}
    kept = frozenset(p for p, why in reasons.items() if not why)
    taken = {(t.name, t.cluster) for t in out}
    for leftover in plain_targets(Repo(kept, texts, options), out):
        if (leftover.name, leftover.cluster) in taken:
            leftover = replace(leftover, name=f"{leftover.name} (not configured)")
        out.append(leftover)
    return Discovery(tuple(out), tuple((p, why) for p, why in sorted(reasons.items()) if why))

