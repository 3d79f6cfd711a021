"""Make before break for routes: what a route change needs in place before it, and what it must let
go of before that goes.

A route (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute) needs, for each listener it attaches to, the
Gateway (or ListenerSet) that offers the listener and, when the listener picks namespaces by label,
the route's Namespace; for each backendRef with weight, the Service, and for one in another namespace
the ReferenceGrant that allows it. The plan applies what a changed route starts to need before the
route, and changes the route before what it stops needing is removed or narrowed. A dependency both
needed anew and let go (a listener renamed while the route follows it: the API server refuses two
listeners with one port, protocol and hostname, so the Gateway cannot hold both names at once) is
bridged by a transition version of the route that names both listeners.

The wait commands use the status the Gateway API defines: a Gateway's or ListenerSet's `Programmed`
condition (`kubectl wait --for=condition=...` also checks its observedGeneration), a route's
`Accepted` condition for one parent (gateway-api `apis/v1/shared_types.go` RouteParentStatus).
ReferenceGrants and Namespaces have no status.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from shlex import quote

from bot.gatewayapi import hostnames as hn
from bot.gatewayapi.attachment import Served, evaluate
from bot.gatewayapi.backends import SERVICE_LIKE, checks_grants
from bot.gatewayapi.grants import allowing
from bot.gatewayapi.kinds import GATEWAY, GROUP, LISTENER_SET, NAMESPACE, ROUTE_KINDS, SERVICE, label
from bot.gatewayapi.objects import BackendRef, ParentRef, listener_set_parent, listeners, route
from bot.gatewayapi.snapshot import Evaluation, Snapshot
from bot.resource import Key, Resource
from bot.values import as_dict, as_list


@dataclass(frozen=True)
class Needs:
    """What one route change relies on: keys of the objects whose head state it needs and the base
    lacks (`make`), and of those whose base state it used and that the change takes away (`release`)."""

    make: frozenset[Key] = frozenset()
    release: frozenset[Key] = frozenset()
    hosts_before: frozenset[str] = frozenset()  # hostnames it served at the base
    hosts_after: frozenset[str] = frozenset()  # hostnames it serves at the head
    parents_after: tuple[Key, ...] = ()  # Gateways (and ListenerSets) it attaches to at the head


def needs(before: Resource | None, after: Resource | None, ev: Evaluation) -> Needs:
    """What a change of one route (`before` at the base, `after` at the head; either may be None) relies on."""
    if ev.before is None or ev.base is None:
        return Needs()
    make: set[Key] = set()
    release: set[Key] = set()
    served_after = _served(after, ev) if after is not None else ()
    served_before = _served(before, ev.before) if before is not None else ()
    if after is not None:
        had = set(_served(after, ev.before))  # the new route as the base would take it
        for s in served_after:
            if s not in had:
                make |= _providers(s, after.namespace, ev.head)
        make |= _backend_deps(after, ev.head, ev.base)
    if before is not None:
        kept = set(_served(before, ev))  # the old route as the head takes it
        for s in served_before:
            if s not in kept:
                release |= _providers(s, before.namespace, ev.base)
        release |= _backend_deps(before, ev.base, ev.head)
    parents = tuple(dict.fromkeys(key for s in served_after for key in _gateways(s, ev.head)))
    return Needs(frozenset(make), frozenset(release), frozenset(s.host for s in served_before),
                 frozenset(s.host for s in served_after), parents)


def _served(res: Resource, ev: Evaluation) -> tuple[Served, ...]:
    return tuple(s for r in evaluate(res, ev) if r.attached for s in r.served)


def _gateways(s: Served, snap: Snapshot) -> Iterator[Key]:
    if s.parent[0] == LISTENER_SET:
        ls = snap.get(*s.parent)
        parent = listener_set_parent(ls) if ls is not None else None
        if parent is not None:
            yield parent
    if s.parent[0] in (GATEWAY, LISTENER_SET):
        yield s.parent


def _providers(s: Served, route_ns: str, snap: Snapshot) -> set[Key]:
    """The objects that make a route served on one listener (or Service): its Gateway or ListenerSet (and
    the Gateway of that ListenerSet), the Service of a mesh route, and the route's Namespace when the
    listener picks namespaces by label."""
    out = set(_gateways(s, snap)) | ({s.parent} if s.parent[0] not in (GATEWAY, LISTENER_SET) else set())
    owner = snap.get(*s.parent)
    if owner is not None and s.listener:
        lst = next((x for x in listeners(owner) if x.name == s.listener), None)
        if lst is not None and lst.allowed_from == "Selector":
            out.add((NAMESPACE, "", route_ns))
    return out


def _backends(res: Resource) -> list[BackendRef]:
    r = route(res)
    return [b for rule in r.rules if rule.total_weight > 0 for b in rule.backends if b.weight > 0]


def _grants(res: Resource, ref: BackendRef, snap: Snapshot) -> list[Resource]:
    return allowing(snap.grants(), res.kind, res.namespace, ref.group, ref.kind, ref.namespace, ref.name)


def _backend_deps(res: Resource, have: Snapshot, lack: Snapshot) -> set[Key]:
    """The Services and ReferenceGrants the route's backendRefs find in `have` and not in `lack`: what the
    change brings (have = head) or takes away (have = base)."""
    out: set[Key] = set()
    grants_checked = checks_grants(route(res))
    for ref in _backends(res):
        key = (SERVICE, ref.namespace, ref.name)
        if (ref.group, ref.kind) in SERVICE_LIKE and have.get(*key) is not None and lack.get(*key) is None:
            out.add(key)
        if ref.cross_namespace and grants_checked and not _grants(res, ref, lack):
            out |= {g.key for g in _grants(res, ref, have)}
    return out


def kept_parent_refs(before: Resource, after: Resource, through: set[Key]) -> list[object]:
    """The parentRefs (as written at the base) that the head drops and that attach through one of
    `through` (Gateways, ListenerSets): what a transition version of the route keeps."""
    now = {_key(p) for p in route(after).parents}
    raw = as_list(before.spec.get("parentRefs"))
    out: list[object] = []
    for p in route(before).parents:
        target = p.target
        if _key(p) in now or target is None or p.index >= len(raw):
            continue
        if target in through or (target[0] == LISTENER_SET and any(k[0] == GATEWAY for k in through)):
            out.append(raw[p.index])
    return out


def _key(p: ParentRef) -> tuple[object, ...]:
    return (p.group, p.kind, p.namespace, p.name, p.section, p.port)


# ---- waits ------------------------------------------------------------------------------------

_STATUSLESS = ("ReferenceGrant", NAMESPACE, "GatewayClass")


def has_status(kind: str) -> bool:
    """Whether the Gateway API (or Kubernetes) writes a status for this kind that a wait can read."""
    return kind not in _STATUSLESS


def wait_command(res: Resource, parent: dict[str, object] | None = None) -> str:
    """The command that waits until the controller has taken this version of a Gateway API object."""
    written = res.kind.lower() if res.kind != GATEWAY else "gateway"
    resource = f"{quote(f'{written}.{GROUP}/{res.name}')} -n {quote(res.namespace)}"
    if res.kind in ROUTE_KINDS:
        ref = as_dict(parent) if parent is not None else {}
        field_name, value = ("sectionName", ref["sectionName"]) if ref.get("sectionName") else ("name", ref.get("name"))
        path = (f'{{.status.parents[?(@.parentRef.{field_name}=="{value}")]'
                '.conditions[?(@.type=="Accepted")].status}')
        condition = f"--for=jsonpath='{path}'=True" if "'" not in path else quote(f"--for=jsonpath={path}=True")
        return f"kubectl wait {condition} {resource}"
    return f"kubectl wait --for=condition=Programmed {resource}"


def awaited_parent(before: Resource | None, after: Resource, kept: list[object]) -> dict[str, object] | None:
    """The parentRef a wait on a route watches: one the transition keeps, else the first the change adds,
    else the first."""
    if kept:
        return as_dict(kept[0])
    raw = [as_dict(x) for x in as_list(after.spec.get("parentRefs"))]
    old = {_key(p) for p in route(before).parents} if before is not None else set()
    new = [raw[p.index] for p in route(after).parents if _key(p) not in old and p.index < len(raw)]
    return new[0] if new else (raw[0] if raw else None)


def serves(host: str, hosts: frozenset[str]) -> bool:
    """Whether one of a route's hostnames covers `host` (a VirtualService host)."""
    return any(hn.covers(h, host.lower()) for h in hosts)


def address_note(gw: Resource, hosts: str, before: str, qualify: bool) -> str:
    """A plan note: traffic moves to a Gateway Istio deploys with a Service (and address) of its own, so
    clients must be pointed there before the old way in goes."""
    command = (f"kubectl get gateway.{GROUP} {quote(gw.name)} -n {quote(gw.namespace)} "
               "-o jsonpath='{.status.addresses[*].value}'")
    return f"{label(gw, qualify)} has its own address ({command}); point DNS for {hosts} at it before {before}"

