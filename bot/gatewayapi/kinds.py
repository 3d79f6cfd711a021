"""Kinds, groups and the names the rest of the package uses for them."""

from __future__ import annotations

from bot.kinds import display, external
from bot.resource import Resource

GROUP = "gateway.networking.k8s.io"
ISTIO_GROUP = "networking.istio.io"
GATEWAY = "KubernetesGateway"  # how the bot names a gateway.networking.k8s.io Gateway (bot/kinds.py)
LISTENER_SET = "ListenerSet"
GATEWAY_CLASS = "GatewayClass"
REFERENCE_GRANT = "ReferenceGrant"
NAMESPACE = "Namespace"
SERVICE = "Service"
SERVICE_ENTRY = "ServiceEntry"
VIRTUAL_SERVICE = "VirtualService"
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute")
DOMAIN = "svc.cluster.local"
NAME_LABEL = "kubernetes.io/metadata.name"  # Kubernetes sets it on every Namespace
QUALIFIED = frozenset({GATEWAY})


def api_kind(kind: str) -> str:
    """The kind as the Gateway API (references, ReferenceGrants) names it: `Gateway`, not the bot's name."""
    return external(kind)[0]


def label(res: Resource, qualify: bool = False) -> str:
    """`Gateway ns/name`, `HTTPRoute ns/name`, `Namespace name`: how messages name a resource.

    `qualify`: the repository holds Istio Gateways too, so a Gateway API Gateway says its group.
    """
    kind = display(res.kind, QUALIFIED if qualify else frozenset())
    return f"{kind} {res.namespace}/{res.name}" if res.namespace else f"{kind} {res.name}"


def failure(kind: str) -> str:
    """What a client of a route of this kind sees when nothing routes its request."""
    if kind == "HTTPRoute":
        return "requests get HTTP 404"
    if kind == "GRPCRoute":
        return "calls fail (HTTP 404, gRPC Unimplemented)"
    return "connections are refused"
