"""`istio-pr-bot targets`: the deploy targets of one revision, their sources, inputs and clusters, so a
user can check discovery before trusting a review built on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.render.summary import plural, short_rev
from bot.targets import Discovery, Source, Target, Tool

MAX_INPUTS = 12  # per target in the text listing; the JSON listing has them all


@dataclass(frozen=True)
class Listing:
    revision: str
    found: Discovery
    plain: bool  # the repository is read as one plain tree (no rendered targets, no alternatives)
    tools: tuple[str, ...]  # one line per renderer: version and place, or how to install it


def describe_source(source: Source, target: Target) -> str:
    """A source as the command that renders it, or the files it reads."""
    if source.tool is Tool.PLAIN:
        where = f" in {source.path}/" if source.path else ""
        how = "" if source.recurse else " (this folder only)"
        return f"plain files{where}{how}: {plural(len(source.files), 'file')}"
    if source.tool is Tool.KUSTOMIZE:
        parts = [f"kustomize build {source.path or '.'}"]
        edits = source.edits
        parts += [f"namespace {edits.namespace}"] if edits.namespace else []
        parts += [f"name prefix {edits.name_prefix}"] if edits.name_prefix else []
        parts += [f"name suffix {edits.name_suffix}"] if edits.name_suffix else []
        parts += [f"components {', '.join(edits.components)}"] if edits.components else []
        parts += [plural(len(edits.patches), "patch").replace("patchs", "patches")] if edits.patches else []
        parts += [plural(len(edits.images), "image")] if edits.images else []
        parts += ["kustomization generated as Flux does"] if source.generate_kustomization else []
        parts += [f"substitutes {', '.join(k for k, _ in source.substitutions)}"] if source.substitutions else []
        return "; ".join(parts)
    namespace = source.namespace or target.namespace or "the default namespace"
    parts = [f"helm template {source.release or 'release-name'} {source.path or '.'} --namespace {namespace}"]
    parts += [f"values {', '.join(source.values_files)}"] if source.values_files else []
    parts += ["without the chart's values.yaml"] if not source.chart_values else []
    parts += [plural(len(source.values), "inline values document")] if source.values else []
    parts += [f"--set {', '.join(p.name for p in source.parameters)}"] if source.parameters else []
    return "; ".join(parts)


def render_text(listing: Listing) -> str:
    found = listing.found
    head = f"istio-pr-bot targets at {short_rev(listing.revision)}"
    if listing.plain:
        files = sum(len(s.files) for t in found.targets for s in t.sources)
        lines = [f"{head}: a plain repository, read as one tree ({plural(files, 'YAML file')}): no Argo CD or Flux "
                 "objects, kustomizations, charts or folders of alternatives were found"]
        return "\n".join([*lines, *_notes(found)]) + "\n"
    clusters = sorted({t.cluster.name for t in found.targets})
    lines = [f"{head}: {plural(len(found.targets), 'target')} in {plural(len(clusters), 'cluster')}"]
    for cluster in clusters:
        lines += ["", f"cluster {cluster}"]
        for target in (t for t in found.targets if t.cluster.name == cluster):
            lines += _target_lines(target)
    lines += _notes(found)
    lines += ["", "Renderers:", *(f"  {line}" for line in listing.tools)]
    return "\n".join(lines) + "\n"


def _target_lines(target: Target) -> list[str]:
    flags = ", alternatives: its files are not applied together" if target.alternatives else ""
    where = f", defined in {target.defined_in}" if target.defined_in else ""
    out = [f"  {target.name} ({target.kind.value}{flags}){where}"]
    if target.cluster.server:
        out.append(f"    server: {target.cluster.server}")
    out += [f"    source: {describe_source(s, target)}" for s in target.sources]
    if target.namespace:
        out.append(f"    namespace: {target.namespace} (for objects without one)")
    inputs = [i or "(the whole repository)" for i in target.inputs]
    more = len(inputs) - MAX_INPUTS
    shown = ", ".join(inputs[:MAX_INPUTS]) + (f" and {more} more" if more > 0 else "")
    out.append(f"    inputs: {shown or 'none'}")
    out += [f"    not reviewed offline: {u}" for u in target.unresolved]
    out += [f"    note: {n}" for n in target.notes]
    return out


def _notes(found: Discovery) -> list[str]:
    out = []
    if found.left_out:
        out += ["", f"Left out (test fixtures and golden outputs; config discovery.fixtures): "
                    f"{plural(len(found.left_out), 'file')}"]
        out += [f"  {path}: {why}" for path, why in found.left_out]
    if found.notes:
        out += ["", "Notes:", *(f"  {note}" for note in found.notes)]
    return out


def as_dict(listing: Listing) -> dict[str, Any]:
    return {
        "revision": listing.revision,
        "plain": listing.plain,
        "targets": [{
            "name": t.name, "cluster": t.cluster.name, "server": t.cluster.server or None, "kind": t.kind.value,
            "defined_in": t.defined_in or None, "namespace": t.namespace, "alternatives": t.alternatives,
            "sources": [describe_source(s, t) for s in t.sources], "inputs": list(t.inputs),
            "unresolved": list(t.unresolved), "notes": list(t.notes),
        } for t in listing.found.targets],
        "left_out": [{"file": path, "reason": why} for path, why in listing.found.left_out],
        "notes": list(listing.found.notes),
        "renderers": list(listing.tools),
    }


def render_json(listing: Listing) -> str:
    return json.dumps(as_dict(listing), indent=2, ensure_ascii=False) + "\n"
