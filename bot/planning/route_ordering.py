"""The order between Gateway API changes (`bot.gatewayapi.rollout`): a route after the Gateway or
listener, Service, ReferenceGrant and Namespace label it starts to need, and before what it stops
needing; the parentRefs a route that follows a renamed listener keeps in its transition version; a
hostname handed between a VirtualService and a route served by the new one first; and what DNS must
follow before a Gateway on another workload takes over."""

from __future__ import annotations

from bot.changes import Change
from bot.context import Context
from bot.gatewayapi import rollout
from bot.gatewayapi.istio import share_workload, workload
from bot.gatewayapi.kinds import GATEWAY, ROUTE_KINDS, label
from bot.gatewayapi.listeners import gateway_renames
from bot.gatewayapi.snapshot import Evaluation
from bot.planning.ordering import Node
from bot.resource import Key, Resource
from bot.views import vs_hosts


class RoutePlan:
    """The Gateway API part of the plan: edges between changed routes and what they need, the parentRefs
    a transition version of a route keeps, the parentRef a wait on a route watches, and notes."""

    def __init__(self) -> None:
        self.edges: set[tuple[Node, Node]] = set()
        self.kept: dict[Key, list[object]] = {}  # route -> base parentRefs its transition version keeps
        self.watched: dict[Node, dict[str, object] | None] = {}  # route step -> the parentRef its wait watches
        self.notes: dict[Key, list[str]] = {}  # a deletion -> what to do before it
        self.moved: set[tuple[Key, Key]] = set()  # (old, new) Gateways whose address change has a note


def route_plan(ctx: Context, changes: dict[Key, Change]) -> RoutePlan:
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

