"""vs-host-unserved: a Gateway change stops serving a host that a VirtualService bound to it still routes."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio.gateway_hosts import ServerHosts, admitted, route_types, served, unserved_hosts
from bot.resource import Resource
from bot.rules.base import finding
from bot.rules.shared.served import server_hosts
from bot.views import vs_gateways

ID = "vs-host-unserved"
SEVERITY = Severity.ERROR
SUMMARY = "A Gateway change stops serving a host that a VirtualService bound to it still routes"
GUIDANCE = "https://istio.io/latest/docs/reference/config/networking/gateway/#Server"
DIFF_ONLY = True
READS: tuple[str, ...] = ()
WHY = (
    "A gateway builds virtual hosts only for the VirtualService hosts that one of its servers admits: the "
    "server's hosts, with their namespace filter (ns/host, ./host, */host), matched against the "
    "VirtualService's hosts. When a Gateway change removes or narrows a server host while a VirtualService "
    "bound to the Gateway still routes the host, the gateway drops the virtual host and answers 404. Move the "
    "VirtualService off (rebind or delete it) first, then change the Gateway; the staged plan orders it so."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/gateway.go sanitizeServerHostNamespace',
    'istio/istio pkg/config/host/names.go NamesForNamespace',
    'istio/istio pilot/pkg/networking/core/gateway.go buildGatewayHTTPRouteConfig (server hosts '
    'intersected with VirtualService hosts)',
)


def _bound(vs: Resource, gw: Resource) -> bool:
    return any(not ref.is_mesh and (ref.namespace, ref.name) == (gw.namespace, gw.name) for ref in vs_gateways(vs))


def _server_index(servers: list[ServerHosts], vs: Resource, host: str) -> int | None:
    """The server that admitted `host` for the VirtualService."""
    for kind in sorted(route_types(vs.spec)):
        for server in servers:
            if served(host, admitted([server], vs.namespace, kind)):
                return server.index
    return None


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    for change in ctx.changed("Gateway"):
        if change.change != "modified" or change.base is None or change.head is None:
            continue
        gw, before, after = change.head, server_hosts(change.base), server_hosts(change.head)
        for vs in ctx.head.of("VirtualService"):
            old = ctx.base.get(*vs.key)
            if not _bound(vs, gw) or old is None or not _bound(old, change.base):
                continue
            lost = unserved_hosts(vs.namespace, vs.spec, before, after)
            if not lost:
                continue
            index = _server_index(before, vs, lost[0])
            line = (gw.field_line("spec", "servers", index, "hosts") if index is not None else None) \
                or gw.field_line("spec", "servers")
            hosts = ", ".join(lost)
            yield finding(
                ID, SEVERITY, gw,
                f"no longer serves {hosts} to {vs.display}, which is bound to it and still routes "
                f"{'it' if len(lost) == 1 else 'them'}; the gateway drops the virtual host and answers 404 "
                "(a server admits a VirtualService's host only when one of its hosts, with its namespace filter, "
                "matches)",
                fix=f"move {vs.display} off {hosts} (rebind or delete it) first, wait, then change the Gateway; "
                    "or keep the host on a server",
                detail=f"{vs.namespace}/{vs.name}:{','.join(lost)}", related=[vs], line=line)
