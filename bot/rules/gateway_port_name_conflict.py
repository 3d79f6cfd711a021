"""gateway-port-name-conflict: two HTTPS servers on one workload share port number and name."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import NETWORK_ISSUES, finding, losers
from bot.rules.shared.gateway_pairs import server_pairs
from bot.views import Server, gateway_servers

ID = "gateway-port-name-conflict"
SEVERITY = Severity.NOTICE  # error before Istio 1.1 and inside one Gateway
SUMMARY = "Two HTTPS servers on one gateway workload use the same port number and name"
GUIDANCE = NETWORK_ISSUES + "#port-conflict-when-configuring-multiple-tls-hosts-in-a-gateway"
DIFF_ONLY = False
READS: tuple[str, ...] = ('istio-version', 'scope-gateway-to-namespace')
WHY = (
    "The deployment guidelines warn that two Gateways on the same workload whose HTTPS servers use the same "
    "port number and port name make pilot skip the later server. That was true before Istio 1.1; since 1.1 "
    "the HTTPS route name includes the Gateway's name and namespace, so across Gateways it is harmless and "
    "the rule says so as a notice. Inside one Gateway, port names must be unique and the API server rejects "
    "the resource, so that case is an error."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/gateway.go gatewayRDSRouteName (route names scoped by Gateway since 48075e1e971)',
    'istio/istio pkg/config/validation/validation.go ValidateGateway (port names unique within one Gateway)',
)


def check(ctx: Context) -> Iterator[Finding]:
    mesh = ctx.head
    for gw in mesh.of("Gateway"):
        seen: dict[str, int] = {}
        for server in gateway_servers(gw):
            if not server.name:
                continue
            if server.name in seen:
                yield finding(
                    ID, Severity.ERROR, gw,
                    f"servers {seen[server.name]} and {server.index} both name their port {server.name!r}; "
                    "port names must be unique within a Gateway and the API server rejects it",
                    fix=f"rename the port of server {server.index}", detail=f"inside:{server.name}",
                    line=gw.field_line("spec", "servers", server.index, "port"))
            seen.setdefault(server.name, server.index)
    old = ctx.config.istio_version < (1, 1)
    https = lambda s: [(s.number, s.name)] if s.protocol == "HTTPS" and s.number is not None and s.name else []  # noqa: E731
    for pair in server_pairs(mesh, https):
        sa, sb = pair.sa, pair.sb
        for res, other in losers(ctx, pair.a, pair.b):
            server = sa if res is pair.a else sb
            yield _finding(res, other, server, old)


def _finding(res: Resource, other: Resource, server: Server, old: bool) -> Finding:
    number, name = server.number, server.name
    if old:
        severity = Severity.ERROR
        message = (f"HTTPS port {number} is named {name!r} here and in {other.display} on the same workload; "
                   "before Istio 1.1 pilot skips the later server ('non unique port name for HTTPS port') and "
                   "its hosts get no route")
        fix = f"give this server a unique port name (e.g. {name}-{res.name})"
    else:
        severity = Severity.NOTICE
        message = (f"HTTPS port {number} is named {name!r} here and in {other.display} on the same workload; "
                   "harmless since Istio 1.1, where HTTPS route names include the Gateway's name and namespace")
        fix = "nothing to do on Istio 1.1 or later; rename the port only if older proxies still run"
    return finding(ID, severity, res, message, fix=fix, detail=f"{other.namespace}/{other.name}:{number}:{name}",
                   related=[other], line=res.field_line("spec", "servers", server.index, "port"))
