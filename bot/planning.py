"""Staged apply plan: make before break.

Dependencies between changed resources decide the order
(https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes):
subsets, Gateways, ServiceEntries and Services a route starts using are applied before the
route; a route stops using something before that thing is removed, and moves off a host before a
Gateway change stops serving it. A DestinationRule renamed or moved is applied under its new name (or
namespace) before the old one is deleted. A DestinationRule that both
gains a subset a route needs and loses one a route leaves is applied twice: first with both
subsets, at the end as written.

Gateway API routes the same way (`bot.gatewayapi.rollout`): the Gateway or listener, Service,
ReferenceGrant and Namespace label a route starts to need go first; the route moves off before
they are removed or narrowed. A route that follows a renamed listener is applied twice: first
naming both listeners, at the end as written. A hostname handed from a VirtualService to a route
(or back) is served by the new one before the old one lets go.

Resources an error finding flags are left out, with whatever must follow them: the plan says to
fix those first. Each stage applies repository files as they are where it can (`kubectl apply -f
shop/reviews.yaml`), and generated documents only where it must. A deploy target's helm or
kustomize output is never a repository file as it is: its documents are generated, as rendered.
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
from bot.gatewayapi import rollout
from bot.gatewayapi.istio import share_workload, workload
from bot.gatewayapi.kinds import GATEWAY, ROUTE_KINDS, label
from bot.gatewayapi.listeners import gateway_renames
from bot.gatewayapi.snapshot import Evaluation
from bot.istio.delegation import delegate_refs
from bot.istio.gateway_hosts import read_server_hosts, unserved_hosts
from bot.kinds import qualified_in
from bot.mesh import Mesh
from bot.plan import Plan, Stage, Step
from bot.resource import Key, Resource
from bot.values import as_dict, as_list
from bot.views import vs_destinations, vs_gateways, vs_hosts

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
    routes = _route_plan(ctx, changes)
    edges |= routes.edges
    bridged = both | set(routes.kept)
    nodes: list[Node] = [(k, "") for k in changes] + [(k, "transition") for k in sorted(bridged)]
    held = _held(nodes, edges, _flagged(errors, changes))
    nodes = [n for n in nodes if n not in held]
    edges = {(a, b) for a, b in edges if a not in held and b not in held}
    left_out = _left_out(errors, changes, held)
    if not nodes:
        return Plan((), left_out)
    if not edges:  # a transition version stays one when what follows it is left out
        steps = [_transition(changes[k], routes) if phase else _step(changes[k], routes) for k, phase in nodes]
        return Plan((_whole_files(0, "Apply all changes in one step", steps, None, {}, held, ctx, routes.notes),),
                    left_out)
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
            step = _transition(change, routes) if node[1] else _step(change, routes)
            if node[0] in bridged and not node[1]:
                what = "the old subsets" if node[0] in both else "the parentRefs kept for the move"
                step = replace(step, note=f"final version: drops {what}")
            entries.append((step, node in linked, node in needed))
        stages.append(entries)
    last = {node[0]: levels[node] for node in nodes if not node[1]}  # the stage of each final version
    names = qualified_in(ctx.head.kinds | ctx.base.kinds)
    return Plan(tuple(_stage(i, st, i == count - 1, last, held, ctx, routes.notes, names)
                      for i, st in enumerate(stages)), left_out)


class RoutePlan:
    """The Gateway API part of the plan: edges between changed routes and what they need, the parentRefs
    a transition version of a route keeps, the parentRef a wait on a route watches, and notes."""

    def __init__(self) -> None:
        self.edges: set[tuple[Node, Node]] = set()
        self.kept: dict[Key, list[object]] = {}  # route -> base parentRefs its transition version keeps
        self.watched: dict[Node, dict[str, object] | None] = {}  # route step -> the parentRef its wait watches
        self.notes: dict[Key, list[str]] = {}  # a deletion -> what to do before it
        self.moved: set[tuple[Key, Key]] = set()  # (old, new) Gateways whose address change has a note


def _route_plan(ctx: Context, changes: dict[Key, Change]) -> RoutePlan:
    out = RoutePlan()
    if ctx.base is None or not (ctx.head.gateway_api.used or ctx.base.gateway_api.used):
        return out
    ev = ctx.head.gateway_api.against(ctx.base.gateway_api)
    created = {k for k, c in changes.items() if c.change == "added"}
    deleted = {k for k, c in changes.items() if c.change == "removed"}
    modified = {k for k, c in changes.items() if c.change == "modified"}
    vs_hosts_lost, vs_hosts_gained = _vs_host_changes(ctx)
    for change in (c for c in ctx.changes if c.kind in ROUTE_KINDS):
        node: Node = (change.key, "")
        needs = rollout.needs(change.base, change.head, ev)
        make = needs.make & (created | modified)
        release = needs.release & (deleted | modified)
        bridge = make & release & modified
        kept = (rollout.kept_parent_refs(change.base, change.head, set(bridge))
                if bridge and change.base is not None and change.head is not None else [])
        if kept:
            out.kept[change.key] = kept
            out.edges.add(((change.key, "transition"), node))
        for dep in make:
            out.edges.add(((dep, ""), node))
        for dep in release:
            out.edges.add(((change.key, "transition") if kept and dep in bridge else node, (dep, "")))
        for vs, hosts in vs_hosts_lost.items():  # a hostname handed over: the route serves it first
            moved = sorted(h for h in hosts if rollout.serves(h, needs.hosts_after - needs.hosts_before))
            if moved:
                out.edges.add((node, (vs, "")))
                _address_notes(out, vs, moved, needs.parents_after, ev)
        for vs, hosts in vs_hosts_gained.items():  # and back: the VirtualService serves it first
            if any(rollout.serves(h, needs.hosts_before - needs.hosts_after) for h in hosts):
                out.edges.add(((vs, ""), node))
        if change.head is not None:
            out.watched[node] = rollout.awaited_parent(change.base, change.head, [])
            if kept:
                out.watched[(change.key, "transition")] = rollout.awaited_parent(change.base, change.head, kept)
        _dns_notes(out, change, needs.parents_after, release & deleted, ev)
    for old_key, new in gateway_renames(ev).items():  # a renamed Gateway: the new one first, the old one last
        old = ev.base.get(*old_key) if ev.base is not None else None
        if old is not None and old_key in deleted and new.key in created:
            out.edges.add(((new.key, ""), (old_key, "")))
            _moved_address(out, old, new, "its hostnames", ev)
    return out


def _vs_host_changes(ctx: Context) -> tuple[dict[Key, set[str]], dict[Key, set[str]]]:
    """Hostnames each changed VirtualService stops serving, and starts serving."""
    lost: dict[Key, set[str]] = {}
    gained: dict[Key, set[str]] = {}
    for change in ctx.changed("VirtualService"):
        before = set(vs_hosts(change.base)) if change.base is not None else set()
        after = set(vs_hosts(change.head)) if change.head is not None else set()
        if before - after:
            lost[change.key] = before - after
        if after - before:
            gained[change.key] = after - before
    return lost, gained


def _address_notes(out: RoutePlan, vs: Key, hosts: list[str], now: tuple[Key, ...], ev: Evaluation) -> None:
    """Hostnames a VirtualService hands to a route on a Gateway Istio deploys itself: that Gateway has its
    own Service and address, so DNS must point there before the VirtualService lets go."""
    for gw in (ev.head.get(*k) for k in now if k[0] == GATEWAY):
        if gw is not None and workload(gw).managed:
            note = rollout.address_note(gw, ", ".join(hosts), f"VirtualService {vs[1]}/{vs[2]} stops serving them",
                                        ev.mixed)
            if note not in out.notes.setdefault(vs, []):
                out.notes[vs].append(note)


def _dns_notes(out: RoutePlan, change: Change, now: tuple[Key, ...], gone: frozenset[Key], ev: Evaluation) -> None:
    """A route that moves to another Gateway, whose old Gateway goes."""
    for old in (ev.base.get(*k) for k in gone if k[0] == GATEWAY and ev.base is not None):
        for new in (ev.head.get(*k) for k in now if k[0] == GATEWAY):
            if old is not None and new is not None and new.key != old.key:
                _moved_address(out, old, new, f"the hostnames of {label(change.resource)}", ev)


def _moved_address(out: RoutePlan, old: Resource, new: Resource, hosts: str, ev: Evaluation) -> None:
    """Traffic moves from one Gateway to another on a different workload: DNS must follow first (once)."""
    if share_workload(old, new) or (old.key, new.key) in out.moved:
        return
    out.moved.add((old.key, new.key))
    out.notes.setdefault(old.key, []).append(
        rollout.address_note(new, hosts, f"{label(old, ev.mixed)} is deleted", ev.mixed))


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
    """What the plan leaves out, for the reader: held resources, files that do not parse and deploy
    targets that do not render."""
    refs = {changes[k].ref() for k, _ in held}
    refs |= {f.resource for f in errors if f.resource.kind in ("File", "Target")}  # broken files, unrendered targets
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


def _step(change: Change, routes: RoutePlan) -> Step:
    if change.head is not None:
        return Step("apply", change.head.ref(), change.head.source, wait=_gateway_api_wait(change.head, routes, ""))
    return Step("delete", change.resource.ref(), change.resource.source)


def _gateway_api_wait(res: Resource, routes: RoutePlan, phase: str) -> str:
    """How to wait for a Gateway API object to be taken (empty for other kinds, and kinds without status)."""
    if res.kind in ROUTE_KINDS:
        parent = routes.watched.get((res.key, phase))
        return rollout.wait_command(res, parent) if parent is not None else ""
    if res.kind in (GATEWAY, "ListenerSet"):
        return rollout.wait_command(res)
    return ""


def _transition(change: Change, routes: RoutePlan) -> Step:
    """The DestinationRule as at head plus the subsets it loses, or the route as at head plus the
    parentRefs it drops: nothing breaks while routes (or listeners) move."""
    base, head = change.base, change.head
    if base is None or head is None:  # a transition is planned only for a modified resource
        raise ValueError(f"no transition for a change that {change.change} {change.resource.display}")
    if head.kind in ROUTE_KINDS:
        kept = routes.kept[change.key]
        names = ", ".join(_parent_text(as_dict(p)) for p in kept)
        return Step("apply", head.ref(), _with_items(head, "parentRefs", kept),
                    note=f"transition version: as at head, still naming {names} until the parent has changed",
                    wait=_gateway_api_wait(head, routes, "transition"))
    keep = [s for s in as_list(base.spec.get("subsets"))
            if as_dict(s).get("name") not in {as_dict(h).get("name") for h in as_list(head.spec.get("subsets"))}]
    names = ", ".join(str(as_dict(s).get("name")) for s in keep)
    return Step("apply", head.ref(), _with_items(head, "subsets", keep),
                note=f"transition version: as at head, still keeping subset {names} until routes have moved")


def _parent_text(ref: dict[str, Any]) -> str:
    section = f" listener {ref['sectionName']}" if ref.get("sectionName") else ""
    return f"parentRef {ref.get('name')}{section}"


def _with_items(head: Resource, key: str, extra: list[Any]) -> str:
    """The head document's text with `extra` items appended to `spec.<key>`; comments kept (round-trip YAML)."""
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
        spec[key] = list(as_list(spec.get(key))) + extra
        body["spec"] = spec
        return "---\n" + pyyaml.safe_dump(body, sort_keys=False)
    spec = doc.setdefault("spec", {})
    items = spec.get(key)
    if not isinstance(items, list):
        items = spec[key] = []
    items.extend(extra)
    out = io.StringIO()
    yaml.dump(doc, out)
    return "---\n" + out.getvalue()


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


def _stage(index: int, entries: list[Entry], last: bool, stage_of: Mapping[Key, int], held: set[Node],
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
    return _whole_files(index, title, steps, wait, stage_of, held, ctx, before_deleting)


def _whole_files(index: int, title: str, steps: list[Step], wait: str | None, stage_of: Mapping[Key, int],
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
