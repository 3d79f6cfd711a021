"""ingress-bypasses-subsets: gateway traffic skips the subset routing of the mesh VirtualService."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import NETWORK_ISSUES, finding
from bot.views import vs_destinations, vs_gateways

ID = "ingress-bypasses-subsets"
SEVERITY = Severity.WARNING
SUMMARY = "A gateway VirtualService routes to a host without a subset while the mesh routes it by subset"
GUIDANCE = NETWORK_ISSUES + "#route-rules-have-no-effect-on-ingress-gateway-requests"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "VirtualServices do not chain: traffic that enters through a gateway follows the gateway's "
    "VirtualService only. If that VirtualService sends a host's traffic without a subset while the mesh "
    "VirtualService for the host splits it by subset, requests from the ingress reach every version and "
    "ignore the split."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pkg/config/analysis/analyzers/virtualservice/destinationhosts.go (IST0140)',
    'https://istio.io/latest/docs/ops/common-problems/network-issues/#route-rules-have-no-effect-on-ingre'
    'ss-gateway-requests',
)


def _bound_to_gateway(vs: Resource) -> bool:
    return any(not g.is_mesh for g in vs_gateways(vs))


def _bound_to_mesh(vs: Resource) -> bool:
    return any(g.is_mesh for g in vs_gateways(vs))


def check(ctx: Context) -> Iterator[Finding]:
    mesh = ctx.head
    by_subset: dict[str, list[Resource]] = {}
    for vs in mesh.of("VirtualService"):
        if _bound_to_mesh(vs):
            for dest in vs_destinations(vs):
                if dest.subset:
                    by_subset.setdefault(dest.host, []).append(vs)
    for vs in ctx.subjects("VirtualService"):
        if not _bound_to_gateway(vs):
            continue
        seen = set()
        for dest in vs_destinations(vs):
            if dest.subset or dest.host not in by_subset or dest.host in seen:
                continue
            seen.add(dest.host)
            others = [o for o in dict.fromkeys(by_subset[dest.host]) if o.key != vs.key]
            if not others:
                continue
            yield finding(
                ID, SEVERITY, vs,
                f"sends gateway traffic to {dest.host} without a subset, while {others[0].display} routes that host "
                "by subset in the mesh; VirtualServices do not chain, so requests from the gateway ignore the "
                "subset routing and reach every version",
                fix="route to the subsets here as well, or bind the mesh VirtualService to the gateway too",
                detail=dest.host, related=others, line=vs.field_line(*dest.path))
