"""One deploy target at one revision, as the review reads it: its plain files as written, its rendered
output traced to the files the author edited, or why it could not be read.

helm and kustomize run only through `bot.buildtools` (a temporary export, a clean environment, a time
limit, no network unless the base revision's config allows remote bases). Namespace-less output gets
the namespace the controller would give it: the release namespace (Helm), the destination namespace
(Argo CD) or, when the target names none, the configured default namespace.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from bot import buildtools, rendered
from bot.config import Config
from bot.flux_substitute import substitute
from bot.inputs import kustomization_file
from bot.load import RenderedDocument, SourceFile
from bot.targets import RenderSettings, Source, Target, Tool

_VARIABLE = re.compile(r"\$\{[^{}]*\}")


@dataclass(frozen=True)
class Tools:
    """The renderers found on this machine and the render settings (from the base revision's config)."""

    renderers: buildtools.Renderers
    settings: RenderSettings


@dataclass(frozen=True)
class Output:
    """What one target holds at one revision. `skipped` (not rendered: a tool is missing, a remote base,
    values that are not in the repository) and `error` (the renderer failed: its first lines) exclude
    the rest."""

    files: tuple[SourceFile, ...] = ()
    documents: tuple[RenderedDocument, ...] = ()
    error: str | None = None
    skipped: str | None = None
    renders: int = 0  # helm and kustomize runs
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


def find_tools(settings: RenderSettings) -> Tools:
    return Tools(buildtools.find_renderers(), settings)


def describe_tools(tools: Tools) -> tuple[str, ...]:
    """One line per renderer: its version and where it is, or how to install it."""
    out = []
    for tool in (Tool.HELM, Tool.KUSTOMIZE):
        found = tools.renderers.get(tool)
        out.append(f"{tool.value} {found.version} ({' '.join(found.argv)})" if found
                   else buildtools.INSTALL_HINTS[tool])
    return tuple(out)


def renders(target: Target) -> bool:
    """Whether reading the target runs helm or kustomize."""
    return any(s.tool is not Tool.PLAIN for s in target.sources)


def needed(target: Target, paths: Collection[str]) -> set[str]:
    """The repository files rendering the target needs: every input of its rendered sources (a folder
    input is everything below it; "" is the whole repository)."""
    if not renders(target):
        return set()
    if "" in target.inputs:
        return set(paths)
    folders = tuple(i for i in target.inputs if i.endswith("/"))
    files = {i for i in target.inputs if i and not i.endswith("/")}
    return {p for p in paths if p in files or p.startswith(folders)}


def read_target(target: Target, files: Mapping[str, bytes], plain: Mapping[str, SourceFile], config: Config,
                tools: Tools | None) -> Output:
    """The target at one revision. `files` holds what `needed` names; `plain` are the manifest files a
    review reads, by path (config `paths` and `exclude` applied; an unchanged file that holds none of
    our kinds may be missing); `tools` may be None only when the target renders nothing."""
    if not target.sources:
        return Output(skipped=target.unresolved[0] if target.unresolved else "nothing in this repository to read")
    # Remote bases are decided when rendering (render.allow-remote), substituteFrom variables by
    # whether the output uses them; anything else that cannot be read offline leaves the target
    # unreviewed rather than reviewed with parts missing.
    blocking = [u for u in target.unresolved if not u.startswith(("remote ", "postBuild.substituteFrom"))]
    if blocking:
        return Output(skipped=blocking[0])
    out_files: list[SourceFile] = []
    documents: list[RenderedDocument] = []
    count, seconds = 0, 0.0
    for source in target.sources:
        if source.tool is Tool.PLAIN:
            out_files += [replace(plain[path], target=target.name, cluster=target.cluster.name,
                                  namespace=target.namespace or "")
                          for path in source.files if path in plain]
            continue
        if tools is None:
            raise ValueError(f"target {target.name} renders: renderers are needed")
        result = _render(target, source, files, config, tools)
        count += result.renders
        seconds += result.seconds
        if not result.ok:
            return Output(error=result.error, skipped=result.skipped, renders=count, seconds=seconds)
        documents += result.documents
    return Output(tuple(out_files), tuple(documents), renders=count, seconds=seconds)


def _render(target: Target, source: Source, files: Mapping[str, bytes], config: Config, tools: Tools) -> Output:
    namespace = source.namespace or target.namespace or config.default_namespace
    result = buildtools.render(source, files, tools.renderers, namespace, tools.settings.timeout,
                               tools.settings.allow_remote)
    ran = 0 if result.skipped else 1
    if result.skipped is not None:
        return Output(skipped=result.skipped)
    if result.error is not None:
        return Output(error=result.error, renders=ran, seconds=result.seconds)
    output = result.output
    if source.tool is Tool.KUSTOMIZE:
        output, problem = substitute(output, dict(source.substitutions))
        left = _VARIABLE.search(output) if source.substitute_from else None
        if source.substitute_from and (problem is not None or left is not None):
            return Output(skipped=f"uses variables from postBuild.substituteFrom {', '.join(source.substitute_from)}, "
                                  "which are not read offline", renders=ran, seconds=result.seconds)
        if problem is not None:
            return Output(error=f"post-build substitution: {problem}", renders=ran, seconds=result.seconds)
        docs = rendered.from_kustomize(output, source.path, files, result.origin_added)
    else:
        docs = rendered.from_helm(output, source.path, files, files.keys())
    # Helm fills the release namespace in at install; Argo CD the destination namespace (kustomize and
    # directory sources); otherwise namespace-less objects get the configured default namespace.
    fill = namespace if source.tool is Tool.HELM else target.namespace
    fallback = target.defined_in or _kustomization_or_chart(source, files)
    return Output(documents=tuple(
        RenderedDocument(rendered.fill_namespace(d.text, fill) if fill else d.text, d.source or fallback, d.line,
                         target.name, target.cluster.name)
        for d in docs), renders=ran, seconds=result.seconds)


def _kustomization_or_chart(source: Source, files: Mapping[str, bytes]) -> str:
    """The file to point at for output that cannot be traced (a remote base, generated objects)."""
    if source.tool is Tool.HELM:
        return posixpath.join(source.path, "Chart.yaml") if source.path else "Chart.yaml"
    return kustomization_file(source.path, files) or source.path or "."
