"""The order between Istio changes: edges from what a VirtualService starts to use to the route, from
the route to what it stops using, from a route to a Gateway change that stops serving its hosts,
and from a renamed or moved DestinationRule to the old one."""

from __future__ import annotations

from bot.context import Context
from bot.istio.delegation import delegate_refs
from bot.istio.gateway_hosts import read_server_hosts, unserved_hosts
from bot.mesh import Mesh
from bot.resource import Key, Resource
from bot.views import vs_destinations, vs_gateways

Node = tuple[Key, str]  # (resource key, phase: "" | "transition")


def istio_edges(ctx: Context) -> tuple[set[tuple[Node, Node]], set[Key]]:
    """The edges between changed Istio resources, and the DestinationRules applied twice: they gain a
    subset a route needs and lose one a route leaves, so a transition version keeps both first."""
    if ctx.base is None:
        return set(), set()
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
    return edges, both


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
