"""Staged apply plan: make before break.

Dependencies between changed resources decide the order
(https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes):
subsets, Gateways, ServiceEntries and Services a route starts using are applied before the
route; a route stops using something before that thing is removed, and moves off a host before a
Gateway change stops serving it. A DestinationRule renamed or moved is applied under its new name (or
namespace) before the old one is deleted. A DestinationRule that both
gains a subset a route needs and loses one a route leaves is applied twice: first with both
subsets, at the end as written.

Resources an error finding flags are left out, with whatever must follow them: the plan says to
fix those first. Each stage applies repository files as they are where it can (`kubectl apply -f
shop/reviews.yaml`), and generated documents only where it must.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping
from dataclasses import replace
from shlex import quote
from typing import Any

from bot.changes import Change
from bot.context import Context
from bot.findings import Finding, Ref
from bot.istio.delegation import delegate_refs
from bot.istio.gateway_hosts import read_server_hosts, unserved_hosts
from bot.mesh import Mesh
from bot.plan import Plan, Stage, Step
from bot.resource import Key, Resource
from bot.values import as_dict, as_list
from bot.views import vs_destinations, vs_gateways

Node = tuple[Key, str]  # (resource key, phase: "" | "transition")
Entry = tuple[Step, bool, bool]  # (step, ordered against another, awaited by a later stage)


def build_plan(ctx: Context, errors: Collection[Finding] = ()) -> Plan:
    """The stages, leaving out what the `errors` flag (and what must follow it): fix those first."""
    if not ctx.changes or ctx.base is None:
        return Plan(())
    changes = {c.key: c for c in ctx.changes}
    edges: set[tuple[Node, Node]] = set()
    make_edges: set[tuple[Key, Key]] = set()  # DR must precede VS (subset added)
    break_edges: set[tuple[Key, Key]] = set()  # VS must precede DR (subset removed)
    added = {k: [dr.key for dr in drs] for k, drs in ctx.subsets.added.items()}
    removed = {k: [dr.key] for k, dr in ctx.subsets.removed.items()}
    created = {c.key for c in ctx.changes if c.change == "added"}
    deleted = {c.key for c in ctx.changes if c.change == "removed"}
    for change in ctx.changed("VirtualService"):
        before = _uses(change.base)
        after = _uses(change.head)
        for use in after - before:  # what it starts to use must exist first
            for dep in _counterparts(use, added, created, ctx.head):
                if dep[0] == "DestinationRule":
                    make_edges.add((dep, change.key))
                else:
                    edges.add(((dep, ""), (change.key, "")))
        for use in before - after:  # what it stops using may go only afterwards
            for dep in _counterparts(use, removed, deleted, ctx.base):
                if dep[0] == "DestinationRule":
                    break_edges.add((change.key, dep))
                else:
                    edges.add(((change.key, ""), (dep, "")))
    edges |= _unserving_edges(ctx)
    # a renamed or moved DestinationRule: the new one is applied (and awaited) before the old is deleted
    edges |= {((new.key, ""), (old.key, "")) for old, new in ctx.subsets.moves}
    both = {a for a, _ in make_edges} & {b for _, b in break_edges}
    for dr, vs in make_edges:
        edges.add(((dr, "transition" if dr in both else ""), (vs, "")))
    for vs, dr in break_edges:
        edges.add(((vs, ""), (dr, "")))
    for dr in both:
        edges.add(((dr, "transition"), (dr, "")))
    nodes: list[Node] = [(k, "") for k in changes] + [(k, "transition") for k in sorted(both)]
    held = _held(nodes, edges, _flagged(errors, changes))
    nodes = [n for n in nodes if n not in held]
    edges = {(a, b) for a, b in edges if a not in held and b not in held}
    left_out = _left_out(errors, changes, held)
    if not nodes:
        return Plan((), left_out)
    if not edges:
        steps = [_step(changes[k]) for k, _ in nodes]
        return Plan((_whole_files(0, "Apply all changes in one step", steps, None, {}, held, ctx),), left_out)
    levels = _levels(nodes, edges)
    linked = {n for edge in edges for n in edge}
    needed = {a for a, b in edges if levels.get(b, 0) > levels.get(a, 0)}
    count = max(levels.values()) + 1
    stages: list[list[Entry]] = []
    for level in range(count):
        entries: list[Entry] = []
        for node in nodes:
            if levels[node] != level:
                continue
            change = changes[node[0]]
            step = _transition(change) if node[1] else _step(change)
            if node[0] in both and not node[1]:
                step = replace(step, note="final version: drops the old subsets")
            entries.append((step, node in linked, node in needed))
        stages.append(entries)
    last = {node[0]: levels[node] for node in nodes if not node[1]}  # the stage of each final version
    return Plan(tuple(_stage(i, st, i == count - 1, last, held, ctx) for i, st in enumerate(stages)), left_out)


def _flagged(errors: Collection[Finding], changes: Mapping[Key, Change]) -> set[Key]:
    """The changed resources the errors are about: the flagged resource when the change touches it,
    else the changed resources the finding relates it to (a route left pointing at a subset the
    change removes holds back the DestinationRule that removes it); for a file-level error (a
    duplicate key, a document that does not parse), every changed resource written in that file."""
    out: set[Key] = set()
    for f in errors:
        if f.resource.kind == "File":  # a file kubectl would reject or misread holds back what it holds
            out |= {k for k, c in changes.items() if c.head is not None and c.head.file == f.resource.file}
        elif f.resource.key in changes:
            out.add(f.resource.key)
        else:
            out |= {r.key for r in f.related if r.key in changes}
    return out


def _held(nodes: list[Node], edges: set[tuple[Node, Node]], flagged: set[Key]) -> set[Node]:
    """Nodes left out of the stages: the flagged ones and, transitively, whatever must come after them."""
    held = {n for n in nodes if n[0] in flagged}
    after: dict[Node, set[Node]] = {}
    for a, b in edges:
        after.setdefault(a, set()).add(b)
    todo = list(held)
    while todo:
        for nxt in after.get(todo.pop(), ()):
            if nxt not in held:
                held.add(nxt)
                todo.append(nxt)
    return held


def _left_out(errors: Collection[Finding], changes: Mapping[Key, Change], held: set[Node]) -> tuple[Ref, ...]:
    """What the plan leaves out, for the reader: held resources, and files that do not parse."""
    refs = {changes[k].ref() for k, _ in held}
    refs |= {f.resource for f in errors if f.resource.kind == "File"}
    return tuple(sorted(refs, key=lambda r: (r.file, r.line, r.kind, r.name)))


def _unserving_edges(ctx: Context) -> set[tuple[Node, Node]]:
    """A VirtualService change goes before a Gateway change that stops serving hosts it routed
    (`bot.istio.gateway_hosts`): moved off first, the gateway never answers 404 for it."""
    out: set[tuple[Node, Node]] = set()
    vs_changes = [c for c in ctx.changed("VirtualService") if c.base is not None]
    for gw in ctx.changed("Gateway"):
        if gw.base is None or gw.head is None or not vs_changes:
            continue
        before = read_server_hosts(gw.base.namespace, gw.base.spec)
        after = read_server_hosts(gw.head.namespace, gw.head.spec)
        for change in vs_changes:
            vs = change.base
            if vs is not None and any((g.namespace, g.name) == (gw.namespace, gw.name) for g in vs_gateways(vs)) \
                    and unserved_hosts(vs.namespace, vs.spec, before, after):
                out.add(((change.key, ""), (gw.key, "")))
    return out


def _uses(vs: Resource | None) -> set[tuple[str, str]]:
    """What a VirtualService depends on: ("subset", host/subset), ("gateway", ns/name), ("host", host),
    ("delegate", ns/name)."""
    if vs is None:
        return set()
    out = set()
    for d in vs_destinations(vs):
        out.add(("host", d.host))
        if d.subset:
            out.add(("subset", f"{d.host}/{d.subset}"))
    for g in vs_gateways(vs):
        if not g.is_mesh:
            out.add(("gateway", f"{g.namespace}/{g.name}"))
    for ref in delegate_refs(vs.spec, vs.namespace):
        out.add(("delegate", f"{ref.namespace}/{ref.name}"))
    return out


def _counterparts(use: tuple[str, str], subsets: dict[tuple[str, str], list[Key]], changed: set[Key],
                  mesh: Mesh) -> list[Key]:
    """The changed resources that a use depends on.

    `subsets` maps (host, subset) to the DestinationRules the change extends or shrinks with it;
    `changed` holds the keys the change creates (or deletes); `mesh` is the revision where they exist.
    """
    what, value = use
    if what == "subset":
        host, _, subset = value.rpartition("/")
        return subsets.get((host, subset), [])
    if what in ("gateway", "delegate"):
        ns, _, name = value.partition("/")
        key = ("Gateway" if what == "gateway" else "VirtualService", ns, name)
        return [key] if key in changed else []
    return [r.key for r in mesh.host_defined(value) if r.key in changed]


def _levels(nodes: list[Node], edges: set[tuple[Node, Node]]) -> dict[Node, int]:
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


def _step(change: Change) -> Step:
    if change.head is not None:
        return Step("apply", change.head.ref(), change.head.source)
    return Step("delete", change.resource.ref(), change.resource.source)


def _transition(change: Change) -> Step:
    """The DestinationRule as at head plus the subsets it loses: nothing breaks while routes move."""
    base, head = change.base, change.head
    if base is None or head is None:  # a transition is planned only for a modified DestinationRule
        raise ValueError(f"no transition for a change that {change.change} {change.resource.display}")
    keep = [s for s in as_list(base.spec.get("subsets"))
            if as_dict(s).get("name") not in {as_dict(h).get("name") for h in as_list(head.spec.get("subsets"))}]
    names = ", ".join(str(as_dict(s).get("name")) for s in keep)
    return Step("apply", head.ref(), _with_subsets(head, keep),
                note=f"transition version: as at head, still keeping subset {names} until routes have moved")


def _with_subsets(head: Resource, extra: list[Any]) -> str:
    """The head document's text with `extra` subsets appended; comments kept (round-trip YAML)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        doc = yaml.load(head.source) if not head.from_list else None
    except Exception:  # noqa: BLE001 - fall back to a plain dump below
        doc = None
    if not isinstance(doc, dict):
        import yaml as pyyaml

        body = dict(head.body)
        spec = dict(as_dict(body.get("spec")))
        spec["subsets"] = list(as_list(spec.get("subsets"))) + extra
        body["spec"] = spec
        return "---\n" + pyyaml.safe_dump(body, sort_keys=False)
    spec = doc.setdefault("spec", {})
    subsets = spec.get("subsets")
    if not isinstance(subsets, list):
        subsets = spec["subsets"] = []
    subsets.extend(extra)
    out = io.StringIO()
    yaml.dump(doc, out)
    return "---\n" + out.getvalue()


def _phrase(step: Step) -> str:
    name = step.resource.display
    if step.note.startswith("transition"):
        return f"add the new subsets to {name} (old ones kept)"
    if step.note.startswith("final"):
        return f"remove the old subsets from {name}"
    return ("apply " if step.action == "apply" else "delete ") + name


def _stage(index: int, entries: list[Entry], last: bool, stage_of: Mapping[Key, int], held: set[Node],
           ctx: Context) -> Stage:
    steps = [s for s, _, _ in entries]
    ordered = [_phrase(s) for s, linked, _ in entries if linked]
    loose = [s for s, linked, _ in entries if not linked]
    parts = ordered[:3] + ([f"and {len(ordered) - 3} more"] if len(ordered) > 3 else [])
    if loose:
        plural = "s" if len(loose) != 1 else ""
        parts.append(f"{'the ' if ordered else ''}{len(loose)} change{plural} with no ordering hazard")
    title = "; ".join(parts)
    title = title[0].upper() + title[1:]
    wait = None
    if not last:
        awaited = [s.resource for s, _, needed in entries if needed and s.action == "apply"]
        if awaited:
            wait = " && ".join(
                f"istioctl x wait --for=distribution {r.kind} {quote(f'{r.name}.{r.namespace}')}" for r in awaited)
        else:
            wait = "sleep 10  # deletions cannot be waited on: give proxies a few seconds"
    return _whole_files(index, title, steps, wait, stage_of, held, ctx)


def _whole_files(index: int, title: str, steps: list[Step], wait: str | None, stage_of: Mapping[Key, int],
                 held: set[Node], ctx: Context) -> Stage:
    """The stage, applying repository files whole where that applies nothing too early.

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
    files: list[str] = []
    out: list[Step] = []
    for step in steps:
        file = step.resource.file
        keys = changed_in.get(file, [])
        if step.action == "apply" and step.note.startswith("transition"):
            step = replace(step, generated="the transition version")
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
    return Stage(title, tuple(out), wait, (), tuple(files))
