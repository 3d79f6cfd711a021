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
from bot.gatewayapi.kinds import SERVICE, VIRTUAL_SERVICE
from bot.gatewayapi.snapshot import Snapshot
from bot.hosts import fqdn
from bot.model import Resource, as_list, as_str


@dataclass(frozen=True)
class Overlap:
    route: Resource
    service: Resource  # the parent Service (or ServiceEntry)
    host: str
    virtual_service: Resource
    consumer: bool  # the route sits in another namespace than its Service


def _mesh_vs_hosts(vs: Resource) -> tuple[str, ...]:
    gateways = [g for g in (as_str(x) for x in as_list(vs.spec.get("gateways"))) if g]
    if gateways and "mesh" not in gateways:
        return ()
    return tuple(fqdn(h, vs.namespace) for h in (as_str(x) for x in as_list(vs.spec.get("hosts"))) if h)


def overlaps(snap: Snapshot, base: Snapshot | None = None) -> list[Overlap]:
    """Mesh routes and mesh-bound VirtualServices that produce the same host."""
    by_host: dict[str, list[Resource]] = {}
    for vs in snap.of(VIRTUAL_SERVICE):
        for host in _mesh_vs_hosts(vs):
            by_host.setdefault(host, []).append(vs)
    out = []
    for res in snap.routes:
        for result in evaluate(res, snap, base):
            if not (result.ref.is_mesh and result.attached and result.parent is not None):
                continue
            for served in result.served:
                for vs in by_host.get(served.host, ()):
                    consumer = result.parent.kind == SERVICE and result.parent.namespace != res.namespace
                    out.append(Overlap(res, result.parent, served.host, vs, consumer))
    return list(dict.fromkeys(out))
