"""backendRefs as Istio resolves them, and the share of traffic each one carries.

istio `pilot/pkg/config/kube/gateway/conversion.go` buildDestination, buildHTTPDestination,
buildTCPDestination:
- Only backendRefs with weight above 0 are built; one left alone carries everything. A rule whose
  weights add up to 0 (or that has no backendRefs) answers HTTP 500 unless it redirects, and a TCP or
  TLS rule rejects the connection (a zero-weight blackhole).
- A backendRef in another namespace needs a ReferenceGrant there (`RefNotPermitted`); only routes with
  a Gateway parent are checked, mesh routes are not (`enforceRefGrant = !mesh`, route_collections.go).
- A Service (or ServiceImport) must exist (`BackendNotFound`); a group/kind Istio does not know is
  `InvalidKind`. The route stays Accepted and only that backend's share of requests fails, with
  HTTP 500 (also for GRPCRoute), or a rejected connection for TLS and TCP.
- The backendRef's port is not checked against the Service: a port the Service does not expose is
  reported as resolved, and those requests fail (500).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.gatewayapi.grants import allowing
from bot.gatewayapi.kinds import ISTIO_GROUP, SERVICE
from bot.gatewayapi.objects import BackendRef, Route, RouteRule, as_int, route
from bot.gatewayapi.snapshot import Evaluation, Presence
from bot.resource import Resource
from bot.values import as_dict, as_list, as_str

NOT_FOUND = "BackendNotFound"
NOT_PERMITTED = "RefNotPermitted"
INVALID_KIND = "InvalidKind"
SERVICE_LIKE = {("", SERVICE), ("multicluster.x-k8s.io", "ServiceImport")}
_KNOWN = SERVICE_LIKE | {(ISTIO_GROUP, "Hostname"), ("inference.networking.k8s.io", "InferencePool"),
                          ("gateway.networking.x-k8s.io", "XBackend")}


@dataclass(frozen=True)
class Resolution:
    """One backendRef (weight above 0) that fails at this revision, and why."""

    ref: BackendRef
    reason: str  # BackendNotFound, RefNotPermitted or InvalidKind
    why: str  # a clause for the message: "which this change removes", "but no ReferenceGrant ..."
    service: Resource | None = None  # the Service, when the change removes it
    grants_before: tuple[Resource, ...] = ()  # grants that allowed it at the base


def checks_grants(r: Route) -> bool:
    """Whether Istio checks ReferenceGrants for this route: it does for Gateway parents only."""
    return any(not p.is_mesh for p in r.parents) or not r.parents


def failing(res: Resource, ev: Evaluation) -> tuple[Resolution, ...]:
    """The route's backendRefs that resolve to nothing at this revision."""
    return ev.memo(("backends", res), lambda: _failing(route(res), ev))


def _failing(r: Route, ev: Evaluation) -> tuple[Resolution, ...]:
    return tuple(found for rule in r.rules if rule.total_weight > 0 for ref in rule.backends if ref.weight > 0
                 if (found := resolve(r, ref, ev)) is not None)


def resolve(r: Route, ref: BackendRef, ev: Evaluation) -> Resolution | None:
    route_kind, route_ns = r.kind, r.res.namespace
    target = (ref.group, ref.kind, ref.namespace, ref.name)
    if ref.cross_namespace and checks_grants(r) and not allowing(ev.head.grants(), route_kind, route_ns, *target):
        before = tuple(allowing(ev.base.grants(), route_kind, route_ns, *target)) if ev.base is not None else ()
        why = (f"but no ReferenceGrant in namespace {ref.namespace} allows {route_kind}s from namespace {route_ns} "
               "to use it")
        return Resolution(ref, NOT_PERMITTED, why, grants_before=before)
    if (ref.group, ref.kind) not in _KNOWN:
        return Resolution(ref, INVALID_KIND, f"a kind Istio does not know ({ref.kind!r} of group {ref.group!r})")
    if (ref.group, ref.kind) in SERVICE_LIKE:
        found = ev.lookup(SERVICE, ref.namespace, ref.name)
        if found.presence is Presence.ABSENT:
            return Resolution(ref, NOT_FOUND, found.why, service=found.resource)
    return None


def share(rule: RouteRule, refs: list[BackendRef] | tuple[BackendRef, ...]) -> tuple[int, int]:
    """(weight of `refs`, total weight) in the rule: the fraction of its requests they get."""
    return sum(r.weight for r in refs if r.weight > 0), rule.total_weight


def percent(part: int, total: int) -> str:
    if total <= 0:
        return "100%"
    value = 100 * part / total
    return f"{value:.0f}%" if value == int(value) or value >= 10 else f"{value:.1f}%"


def without_backends(r: Route) -> tuple[RouteRule, ...]:
    """Rules that send nothing anywhere: no backendRefs, or weights adding up to 0, and no redirect."""
    return tuple(rule for rule in r.rules if rule.total_weight == 0 and not (r.kind == "HTTPRoute" and rule.redirect))


def service_ports(svc: Resource) -> tuple[int, ...] | None:
    """The ports a Service exposes; None when it has none to check (ExternalName, or none written)."""
    if as_str(svc.spec.get("type")) == "ExternalName":
        return None
    ports = tuple(p for p in (as_int(as_dict(x).get("port")) for x in as_list(svc.spec.get("ports"))) if p is not None)
    return ports or None
