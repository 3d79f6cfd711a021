"""Which listeners take a route, and for which hostnames: the route's status as Istio writes it.

For each parentRef, Istio checks every listener of the parent (istio
`pilot/pkg/config/kube/gateway/conversion.go` referenceAllowed, extractParentReferenceInfo): the
parentRef's `port`, then its `sectionName` (`NoMatchingParent`), then the hostnames together with the
namespaces the listener allows (`NoMatchingListenerHostname`, or `NotAllowedByListeners` when a
hostname matches but the namespace is not allowed), then the route kind (`NotAllowedByListeners`). The
route is Accepted by the parent when any listener takes it; otherwise the status shows the most telling
reason, NotAllowedByListeners over NoMatchingListenerHostname over NoMatchingParent
(`conditions.go` createRouteStatus). A parentRef to a Gateway that does not exist gets no status at all.

A parentRef to a Service (or an Istio ServiceEntry) is a mesh (GAMMA) route: it attaches when the
Service exists (`parent service not found` otherwise) and applies to traffic for the Service's host.

The hostnames a listener serves for a route are the route's hostnames cut to the listener's, minus, on
a wildcard or empty listener, those a more specific listener of the same port and protocol owns
(listener isolation; `conversion.go` hostnameAllowedByIsolation).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.gatewayapi import hostnames as hn
from bot.gatewayapi.istio import is_istio_ingress
from bot.gatewayapi.kinds import DOMAIN, SERVICE
from bot.gatewayapi.listeners import Slot, namespace_allowed, slots_of, supported_kinds
from bot.gatewayapi.objects import ParentRef, Route, gateway_class, listener_set_parent, route
from bot.gatewayapi.snapshot import Evaluation, Presence, Snapshot
from bot.resource import Resource
from bot.values import as_list, as_str

ACCEPTED = "Accepted"
NO_MATCHING_PARENT = "NoMatchingParent"
NOT_ALLOWED = "NotAllowedByListeners"
NO_HOSTNAME = "NoMatchingListenerHostname"
NOT_FOUND = "ParentNotFound"  # not a Gateway API reason: Istio writes no status for a missing Gateway
_RANK = {NOT_ALLOWED: 0, NO_HOSTNAME: 1, NO_MATCHING_PARENT: 2}


@dataclass(frozen=True)
class Served:
    """A hostname a route is served for on one listener (or, for a mesh route, one Service)."""

    parent: tuple[str, str, str]  # loader key of the Gateway, ListenerSet, Service or ServiceEntry
    listener: str  # listener name; "" for a mesh parent
    port: int | None
    host: str


@dataclass(frozen=True)
class ParentResult:
    """What one parentRef of a route comes to."""

    ref: ParentRef
    parent: Resource | None
    state: str  # attached | detached | unknown (depends on what the repository lacks) | unseen (parent not here)
    # Accepted, or why not: NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname, ParentNotFound
    reason: str
    message: str
    served: tuple[Served, ...] = ()
    why_absent: str = ""  # for ParentNotFound: "which this change removes", ...

    @property
    def attached(self) -> bool:
        return self.state == "attached"


@dataclass(frozen=True)
class _Verdict:
    ok: bool | None  # None: depends on unknown Namespace labels
    reason: str
    message: str
    served: tuple[Served, ...] = ()


def evaluate(res: Resource, ev: Evaluation) -> tuple[ParentResult, ...]:
    """Every parentRef of a route, at the revision `ev.head` (its base tells removed objects)."""
    return ev.memo(("attach", res), lambda: tuple(_parent(route(res), ref, ev) for ref in route(res).parents))


def _parent(r: Route, ref: ParentRef, ev: Evaluation) -> ParentResult:
    target = ref.target
    if target is None:
        return ParentResult(ref, None, "unseen", "", f"parent kind {ref.group}/{ref.kind} is not one Istio handles")
    kind, namespace, name = target
    noun = "Gateway" if ref.is_gateway else kind
    snap = ev.head
    found = ev.lookup(kind, namespace, name, noun)
    if found.presence is Presence.UNKNOWN:
        return ParentResult(ref, None, "unseen", "", f"{noun} {namespace}/{name} is not in the repository")
    if found.presence is Presence.ABSENT:
        reason = NO_MATCHING_PARENT if ref.is_mesh else NOT_FOUND
        return ParentResult(ref, found.resource, "detached", reason, f"{noun} {namespace}/{name} does not exist",
                            why_absent=found.why)
    parent = found.resource
    if parent is None:  # present always carries the resource
        return ParentResult(ref, None, "unseen", "", f"{noun} {namespace}/{name} is not in the repository")
    if ref.is_mesh:
        return _mesh(ref, parent)
    owner = listener_set_parent(parent) if ref.is_listener_set else parent.key
    gateway = snap.get(*owner) if owner is not None else None
    if gateway is not None and not is_istio_ingress(gateway, snap):
        return ParentResult(ref, parent, "unseen", "",
                            f"Gateway {gateway.namespace}/{gateway.name} belongs to class {gateway_class(gateway)!r}, "
                            "not to Istio's gateway controller")
    slots = slots_of(parent, ev)
    usable = [s for s in slots if s.usable]
    if not usable:
        why = "has no listener Istio can program" if slots else "has no listeners"
        return ParentResult(ref, parent, "detached", NO_MATCHING_PARENT, f"{noun} {namespace}/{name} {why}")
    verdicts = [_listener(r, ref, slot, usable, snap) for slot in usable]
    served = tuple(s for v in verdicts if v.ok for s in v.served)
    if any(v.ok for v in verdicts):
        return ParentResult(ref, parent, "attached", ACCEPTED, "", served)
    unknown = [v for v in verdicts if v.ok is None]
    if unknown:
        return ParentResult(ref, parent, "unknown", "", unknown[0].message)
    best = min(_RANK[v.reason] for v in verdicts)
    message = "; ".join(dict.fromkeys(v.message for v in verdicts if _RANK[v.reason] == best))
    return ParentResult(ref, parent, "detached", next(v.reason for v in verdicts if _RANK[v.reason] == best), message)


def _mesh(ref: ParentRef, parent: Resource) -> ParentResult:
    if parent.kind == SERVICE:
        hosts: tuple[str, ...] = (f"{parent.name}.{parent.namespace}.{DOMAIN}",)
    else:  # ServiceEntry: its hosts (istio route_collections.go)
        hosts = tuple(h.lower() for h in (as_str(x) for x in as_list(parent.spec.get("hosts"))) if h)
    served = tuple(Served(parent.key, "", ref.port, h) for h in hosts)
    return ParentResult(ref, parent, "attached", ACCEPTED, "", served)


def _listener(r: Route, ref: ParentRef, slot: Slot, usable: list[Slot], snap: Snapshot) -> _Verdict:
    lst = slot.listener
    if ref.port is not None and ref.port != lst.port:
        return _Verdict(False, NO_MATCHING_PARENT, f"port {ref.port} not found")
    if ref.section and ref.section != lst.name:
        return _Verdict(False, NO_MATCHING_PARENT, f"sectionName {ref.section!r} not found")
    hosts = r.hostnames or (hn.ANY,)
    if not any(hn.intersection(h, lst.hostname) for h in hosts):
        return _Verdict(False, NO_HOSTNAME, f"no hostnames matched listener {lst.name} hostname {lst.hostname!r}")
    allowed = namespace_allowed(lst, slot.owner, r.res.namespace, snap)
    if allowed is False:
        return _Verdict(False, NOT_ALLOWED,
                        f"listener {lst.name} does not allow routes from namespace {r.res.namespace}")
    kinds, _ = supported_kinds(lst)
    if r.kind not in kinds:
        return _Verdict(False, NOT_ALLOWED, f"listener {lst.name} ({lst.protocol}) does not take {r.kind}")
    if allowed is None:
        return _Verdict(None, "", f"listener {lst.name} picks namespaces by labels, and Namespace "
                                  f"{r.res.namespace} is not in the repository, so its labels are unknown")
    others = [s.listener.hostname for s in usable
              if s is not slot and s.listener.port == lst.port and s.listener.protocol == lst.protocol]
    served = []
    for h in hosts:
        both = hn.intersection(h, lst.hostname)
        if both is not None and not _isolated_out(h, lst.hostname, others):
            served.append(Served(slot.owner.key, lst.name, lst.port, both))
    return _Verdict(True, ACCEPTED, "", tuple(dict.fromkeys(served)))


def _isolated_out(host: str, listener_host: str, others: list[str]) -> bool:
    """Istio leaves out a route hostname on a wildcard or empty listener when a more specific listener
    of the same port and protocol covers it (conversion.go hostnameAllowedByIsolation)."""
    if not listener_host.startswith("*"):
        return False
    own = 0 if listener_host == hn.ANY else len(listener_host)
    for other in others:
        if other != hn.ANY and own <= len(other) and hn.covers(other, host):
            return True
    return False


def hosts_text(served: tuple[Served, ...] | list[Served]) -> str:
    """`shop.example.com, www.example.com`: the distinct hostnames, `*` as "every hostname"."""
    names = sorted({s.host for s in served})
    return ", ".join("every hostname" if n == hn.ANY else n for n in names)

