"""What the Gateway API rules share: the revisions as `bot.gatewayapi` evaluations, and wording.

The semantics (and the Gateway API and Istio sources they come from) are in `bot/gatewayapi/`.
"""

from __future__ import annotations

from bot.context import Context
from bot.gatewayapi.istio import is_istio_ingress
from bot.gatewayapi.kinds import GATEWAY, LISTENER_SET, ROUTE_KINDS, label
from bot.gatewayapi.objects import listener_set_parent
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Resource

GATEWAY_API = "https://istio.io/latest/docs/tasks/traffic-management/ingress/gateway-api/"
GAMMA = "https://istio.io/latest/blog/2024/gateway-mesh-ga/"
ATTACHMENT_SOURCES: tuple[str, ...] = (  # where a parentRef attaches, and the reason it does not
    'kubernetes-sigs/gateway-api apis/v1/shared_types.go ParentReference',
    'istio/istio pilot/pkg/config/kube/gateway/conversion.go referenceAllowed',
    'istio/istio pilot/pkg/config/kube/gateway/conditions.go createRouteStatus',
)


def evaluation(ctx: Context) -> Evaluation:
    """The head judged against the base (on its own in an audit, and when a rule runs on the base)."""
    return ctx.head.gateway_api.against(ctx.base.gateway_api if ctx.base is not None else None)


def name(ev: Evaluation, res: Resource) -> str:
    """How a message names a resource (a Gateway API Gateway says its group where Istio Gateways are too)."""
    return label(res, ev.mixed)


def routes(ctx: Context) -> list[Resource]:
    """The routes whose findings are wanted."""
    return [r for kind in ROUTE_KINDS for r in ctx.subjects(kind)]


def istio_gateways(ev: Evaluation) -> list[Resource]:
    """The Gateways Istio's gateway controller programs (not waypoints, nor other controllers'), by key."""
    snap = ev.head
    return sorted((g for g in snap.of(GATEWAY) if is_istio_ingress(g, snap)), key=lambda g: g.key)


def listener_owners(ctx: Context) -> list[Resource]:
    """Gateways (Istio's) and their ListenerSets whose findings are wanted."""
    snap = ctx.head.gateway_api
    gateways = [g for g in ctx.subjects(GATEWAY) if is_istio_ingress(g, snap)]
    sets = [ls for ls in ctx.subjects(LISTENER_SET)
            if (parent := listener_set_parent(ls)) and (gw := snap.get(*parent)) and is_istio_ingress(gw, snap)]
    return [*gateways, *sets]


def wanted(ctx: Context, res: Resource) -> bool:
    return ctx.focus is None or res.key in ctx.focus


def rule_text(index: int, name: str | None) -> str:
    return f"rules[{index}]" + (f" ({name})" if name else "")


def effect(kind: str) -> str:
    """What the requests (or connections) sent to a backend that does not resolve get."""
    if kind in ("TLSRoute", "TCPRoute"):
        return "those connections are rejected"
    return f"those {'requests' if kind == 'HTTPRoute' else 'calls'} get HTTP 500"


def all_fail(kind: str) -> str:
    """What every request (or connection) a rule matches gets when the rule has no backend."""
    if kind in ("TLSRoute", "TCPRoute"):
        return "every connection it matches is rejected"
    return f"every {'request' if kind == 'HTTPRoute' else 'call'} it matches gets HTTP 500"
