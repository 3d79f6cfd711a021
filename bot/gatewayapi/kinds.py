"""Kinds, groups and the names the rest of the package uses for them."""

from __future__ import annotations

from bot.model import Resource

GROUP = "gateway.networking.k8s.io"
ISTIO_GROUP = "networking.istio.io"
GATEWAY = "KubernetesGateway"  # how the loader names a gateway.networking.k8s.io Gateway
LISTENER_SET = "ListenerSet"
GATEWAY_CLASS = "GatewayClass"
REFERENCE_GRANT = "ReferenceGrant"
NAMESPACE = "Namespace"
SERVICE = "Service"
SERVICE_ENTRY = "ServiceEntry"
VIRTUAL_SERVICE = "VirtualService"
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute")
HTTP_KINDS = ("HTTPRoute", "GRPCRoute")
DOMAIN = "svc.cluster.local"
NAME_LABEL = "kubernetes.io/metadata.name"  # Kubernetes sets it on every Namespace

# kind -> the Gateway API kind name, as it appears in references and ReferenceGrants
API_KIND = {GATEWAY: "Gateway"}


def api_kind(kind: str) -> str:
    return API_KIND.get(kind, kind)


def label(res: Resource) -> str:
    """`Gateway ns/name`, `HTTPRoute ns/name`, `Namespace name`: how messages name a resource."""
    if res.kind == NAMESPACE:
        return f"Namespace {res.name}"
    return f"{api_kind(res.kind)} {res.namespace}/{res.name}"


def failure(kind: str) -> str:
    """What a client of a route of this kind sees when nothing routes its request."""
    if kind == "HTTPRoute":
        return "requests get HTTP 404"
    if kind == "GRPCRoute":
        return "calls fail (HTTP 404, gRPC Unimplemented)"
    return "connections are refused"
