"""Routes that compete for the same requests on one parent.

gateway-api `apis/v1/httproute_types.go` (HTTPRouteRule.Matches): across the routes of one listener
and hostname, the most specific match wins; between identical matches the oldest route wins, then
`{namespace}/{name}`. Istio builds one VirtualService per (listener, hostname), concatenates the routes
oldest first and sorts their rules by match specificity with a stable sort (istio
`pilot/pkg/config/kube/gateway/route_collections.go` mergeHTTPRoutes, `conversion.go`
sortRoutesByCreationTime, sortHTTPRoutes): the younger of two identical matches is never used. The
same holds for two TLSRoutes with one SNI hostname and two TCPRoutes on one listener (only the oldest
gets connections; gateway-api conformance `tcproute-multiple-routes-attachment`).

An HTTPRoute and a GRPCRoute on one listener with intersecting hostnames: the specification accepts
only the older (`grpcroute_types.go`); Istio accepts both and merges their rules into one route table
(istio `pilot/pkg/config/kube/gateway/controller.go` httpAndGrpcVS; testdata `http-grpc-same-host.yaml`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.gatewayapi.attachment import Served, evaluate
from bot.gatewayapi.objects import RouteRule, route
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Resource
from bot.values import canonical

Claim = tuple[tuple[str, str, str], str, int | None, str, str]  # parent, route namespace (mesh), port, host, family


@dataclass(frozen=True)
class Clash:
    """Two routes that claim the same requests: same parent, port, hostname and match."""

    a: Resource
    rule_a: int
    b: Resource
    rule_b: int
    served: Served
    match: str
    same_effect: bool  # both rules send to the same backends with the same filters: a duplicate


@dataclass(frozen=True)
class Merge:
    """An HTTPRoute and a GRPCRoute served on one parent, port and hostname."""

    http: Resource
    grpc: Resource
    served: Served


def _family(kind: str) -> str:
    return "http" if kind in ("HTTPRoute", "GRPCRoute") else kind


def _slots(res: Resource, ev: Evaluation) -> list[tuple[Claim, Served]]:
    out = []
    for result in evaluate(res, ev):
        for s in result.served:
            scope = res.namespace if result.ref.is_mesh else ""  # mesh routes merge per route namespace
            out.append(((s.parent, scope, s.port, s.host, _family(res.kind)), s))
    return out


def _claims(ev: Evaluation) -> dict[Claim, list[tuple[Resource, Served]]]:
    return ev.memo("claims", lambda: _claim_index(ev))


def _claim_index(ev: Evaluation) -> dict[Claim, list[tuple[Resource, Served]]]:
    out: dict[Claim, list[tuple[Resource, Served]]] = {}
    for res in ev.head.routes:
        for slot, served in dict(_slots(res, ev)).items():
            out.setdefault(slot, []).append((res, served))
    return out


def clashes(ev: Evaluation) -> list[Clash]:
    """Every pair of routes with an identical match on one parent, port and hostname (each pair once)."""
    out: list[Clash] = []
    for claimants in _claims(ev).values():
        for i, (a, served) in enumerate(claimants):
            for b, _ in claimants[i + 1:]:
                if a.key == b.key or a.kind != b.kind:
                    continue
                ra, rb = route(a), route(b)
                for rule_a in ra.rules:
                    for rule_b in rb.rules:
                        same = sorted(set(rule_a.matches) & set(rule_b.matches))
                        if same:
                            out.append(Clash(a, rule_a.index, b, rule_b.index, served, same[0],
                                             _effect(rule_a) == _effect(rule_b)))
    return out


def _effect(rule: RouteRule) -> tuple[object, ...]:
    """What a rule does with a request, to tell a duplicate from a real competitor."""
    backends = tuple(sorted((b.group, b.kind, b.namespace, b.name, b.port or 0, b.weight, canonical(b.filters))
                            for b in rule.backends if b.weight > 0))
    return backends, canonical(rule.filters)


def merges(ev: Evaluation) -> list[Merge]:
    """HTTPRoute and GRPCRoute pairs Istio merges where the specification would reject the newer."""
    out = []
    for claimants in _claims(ev).values():
        http = [(r, s) for r, s in claimants if r.kind == "HTTPRoute"]
        grpc = [r for r, _ in claimants if r.kind == "GRPCRoute"]
        out += [Merge(h, g, served) for h, served in http for g in grpc]
    return out
