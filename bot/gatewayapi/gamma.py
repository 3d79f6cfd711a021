"""GAMMA routes (a route whose parent is a Service) next to VirtualServices for the same host.

A route with a Service parent becomes a VirtualService for `<service>.<namespace>.svc.cluster.local`,
in the route's namespace (istio `pilot/pkg/config/kube/gateway/route_collections.go`). A sidecar uses
one VirtualService per host: a second one for the same domain, generated or written by hand, is dropped
as a duplicate (`pilot/pkg/networking/core/httproute.go`, metric `pilot_vservice_dup_domain`). Proxies
in the route's own namespace pick the generated one first (`pilot/pkg/model/virtualservice.go`
SelectVirtualServices); elsewhere the older configuration wins. A route whose Service lives in another
namespace (a consumer route) applies only to clients in the route's namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.gatewayapi.attachment import evaluate
from bot.gatewayapi.kinds import SERVICE
from bot.gatewayapi.objects import route
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Resource
from bot.views import vs_gateways, vs_hosts


@dataclass(frozen=True)
class Overlap:
    route: Resource
    service: Resource  # the parent Service (or ServiceEntry)
    host: str
    virtual_service: Resource
    consumer: bool  # the route sits in another namespace than its Service


def _mesh_vs_hosts(vs: Resource) -> list[str]:
    return vs_hosts(vs) if any(g.is_mesh for g in vs_gateways(vs)) else []


def overlaps(ev: Evaluation) -> list[Overlap]:
    """Mesh routes and mesh-bound VirtualServices that produce the same host."""
    mesh_routes = [res for res in ev.head.routes if any(p.is_mesh for p in route(res).parents)]
    if not mesh_routes:
        return []
    by_host: dict[str, list[Resource]] = {}
    for vs in ev.head.virtual_services():
        for host in _mesh_vs_hosts(vs):
            by_host.setdefault(host, []).append(vs)
    out = []
    for res in mesh_routes:
        for result in evaluate(res, ev):
            if not (result.ref.is_mesh and result.attached and result.parent is not None):
                continue
            for served in result.served:
                for vs in by_host.get(served.host, ()):
                    consumer = result.parent.kind == SERVICE and result.parent.namespace != res.namespace
                    out.append(Overlap(res, result.parent, served.host, vs, consumer))
    return list(dict.fromkeys(out))
