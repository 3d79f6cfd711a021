"""What the Gateway API rules share: the revisions as `bot.gatewayapi` snapshots, and wording.

The semantics (and the Gateway API and Istio sources they come from) are in `bot/gatewayapi/`.
"""

from __future__ import annotations

from bot.gatewayapi.istio import is_istio_ingress
from bot.gatewayapi.kinds import GATEWAY, LISTENER_SET, ROUTE_KINDS
from bot.gatewayapi.objects import listener_set_parent
from bot.gatewayapi.snapshot import Snapshot
from bot.model import Mesh, Resource
from bot.rules.base import Context

GATEWAY_API = "https://istio.io/latest/docs/tasks/traffic-management/ingress/gateway-api/"
GAMMA = "https://istio.io/latest/blog/2024/gateway-mesh-ga/"
_SLOT = "_gatewayapi_snapshot"


def snapshot(mesh: Mesh) -> Snapshot:
    """The Gateway API view of a revision, built once per revision."""
    cached = mesh.__dict__.get(_SLOT)
    if cached is None:
        cached = mesh.__dict__[_SLOT] = Snapshot.build(mesh.resources)
    return cached


def snapshots(ctx: Context) -> tuple[Snapshot, Snapshot | None]:
    """(head, base); base is None in an audit and when a rule runs on the base itself."""
    return snapshot(ctx.head), snapshot(ctx.base) if ctx.base is not None else None


def routes(ctx: Context) -> list[Resource]:
    """The routes whose findings are wanted."""
    return [r for kind in ROUTE_KINDS for r in ctx.subjects(kind)]


def istio_gateways(snap: Snapshot) -> list[Resource]:
    """The Gateways Istio's gateway controller programs (not waypoints, nor other controllers'), by key."""
    return sorted((g for g in snap.of(GATEWAY) if is_istio_ingress(g, snap)), key=lambda g: g.key)


def listener_owners(ctx: Context) -> list[Resource]:
    """Gateways (Istio's) and their ListenerSets whose findings are wanted."""
    snap = snapshot(ctx.head)
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
