"""Stages from the ordering graph: its levels, each stage's title and what to wait for before the
next, and the repository files a stage can apply whole."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from shlex import quote

from bot.context import Context
from bot.gatewayapi import rollout
from bot.gatewayapi.kinds import GATEWAY, ROUTE_KINDS
from bot.plan import Stage, Step
from bot.planning.ordering import Node
from bot.resource import Key

Entry = tuple[Step, bool, bool]  # (step, ordered against another, awaited by a later stage)


def levels_of(nodes: list[Node], edges: set[tuple[Node, Node]]) -> dict[Node, int]:
    """Longest-path layering; a cycle (contradictory order) puts its members in the last stage."""
    preds: dict[Node, set[Node]] = {n: set() for n in nodes}
    for a, b in edges:
        if a in preds and b in preds:
            preds[b].add(a)
    levels: dict[Node, int] = {}
    remaining = set(nodes)
    while remaining:
        ready = [n for n in remaining if preds[n] <= levels.keys()]
        if not ready:
            top = max(levels.values(), default=-1) + 1
            for n in remaining:
                levels[n] = top
            break
        for n in ready:
            levels[n] = max((levels[p] + 1 for p in preds[n]), default=0)
            remaining.discard(n)
    return levels


def _phrase(step: Step, qualified: frozenset[str]) -> str:
    name = step.resource.label(qualified)
    route = step.resource.kind in ROUTE_KINDS
    if step.note.startswith("transition"):
        return f"apply {name} naming both the old and the new parents" if route else \
            f"add the new subsets to {name} (old ones kept)"
    if step.note.startswith("final"):
        return f"remove the old parentRefs from {name}" if route else f"remove the old subsets from {name}"
    return ("apply " if step.action == "apply" else "delete ") + name


def _wait_for(step: Step) -> str | None:
    """The command that waits for an applied step; None for a kind that has no status to wait on."""
    if step.wait:
        return step.wait
    r = step.resource
    if not rollout.has_status(r.kind) or r.kind in (GATEWAY, "ListenerSet", *ROUTE_KINDS):
        return None
    return f"istioctl x wait --for=distribution {r.kind} {quote(f'{r.name}.{r.namespace}')}"


def build_stage(index: int, entries: list[Entry], last: bool, stage_of: Mapping[Key, int], held: set[Node],
                ctx: Context, before_deleting: Mapping[Key, list[str]], qualified: frozenset[str]) -> Stage:
    """One stage; `before_deleting` holds what to do before a resource is deleted (or stops serving)."""
    steps = [s for s, _, _ in entries]
    ordered = [_phrase(s, qualified) for s, linked, _ in entries if linked]
    loose = [s for s, linked, _ in entries if not linked]
    parts = ordered[:3] + ([f"and {len(ordered) - 3} more"] if len(ordered) > 3 else [])
    if loose:
        plural = "s" if len(loose) != 1 else ""
        parts.append(f"{'the ' if ordered else ''}{len(loose)} change{plural} with no ordering hazard")
    title = "; ".join(parts)
    title = title[0].upper() + title[1:]
    wait = None
    if not last:
        awaited = [s for s, _, needed in entries if needed and s.action == "apply"]
        if awaited:
            waits = [_wait_for(s) for s in awaited]
            commands = list(dict.fromkeys(w for w in waits if w))
            silent = [s.resource.label(qualified) for s, w in zip(awaited, waits, strict=True) if w is None]
            if silent:  # last: what follows `#` is a comment
                commands.append(f"sleep 10  # {', '.join(silent)}: no status to wait on; give istiod a few seconds")
            wait = " && ".join(commands)
        else:
            wait = "sleep 10  # deletions cannot be waited on: give proxies a few seconds"
    return whole_files(index, title, steps, wait, stage_of, held, ctx, before_deleting)


def whole_files(index: int, title: str, steps: list[Step], wait: str | None, stage_of: Mapping[Key, int],
                held: set[Node], ctx: Context, before_deleting: Mapping[Key, list[str]]) -> Stage:
    """The stage, applying repository files whole where that applies nothing too early, with what to
    do before its deletions (`before_deleting`, by resource).

    A file can be applied as it is in the stage of the last of its changed documents, unless it holds
    a document the plan leaves out: documents of earlier stages are applied again unchanged. Any
    other document of the stage (a transition version, or one document of a file that also holds
    a later stage's) is generated: `stage-N.yaml`.
    """
    held_keys = {k for k, _ in held}
    changed_in: dict[str, list[Key]] = {}
    for change in ctx.changes:
        if change.head is not None:
            changed_in.setdefault(change.head.file, []).append(change.key)
    broken = {p.file for p in ctx.problems}
    rendered = {c.key for c in ctx.changes if c.head is not None and c.head.rendered}
    files: list[str] = []
    out: list[Step] = []
    for step in steps:
        file = step.resource.file
        keys = changed_in.get(file, [])
        if step.action == "apply" and step.note.startswith("transition"):
            step = replace(step, generated="the transition version")
        elif step.action == "apply" and step.resource.key in rendered:
            # helm or kustomize output: the file is a template or an overlay's input, not what is applied
            step = replace(step, generated=f"rendered from {file} by target {step.resource.target}")
        elif step.action == "apply":
            later = sorted({stage_of[k] + 1 for k in keys if stage_of.get(k, index) > index})
            if later:
                word = "stage" if len(later) == 1 else "stages"
                step = replace(step, generated=f"one document of {file}, which also holds documents of "
                                                f"{word} {', '.join(map(str, later))}")
            elif file in broken or any(k in held_keys for k in keys):
                step = replace(step, generated=f"one document of {file}, which also holds documents left out "
                                                "until the errors are fixed")
            elif file not in files:
                files.append(file)
        out.append(step)
    notes = tuple(dict.fromkeys(note for s in steps for note in before_deleting.get(s.resource.key, [])))
    return Stage(title, tuple(out), wait, notes, tuple(files))
