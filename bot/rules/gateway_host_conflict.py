"""gateway-host-conflict: two Gateways claim the same TLS host, or clash on a port's protocol."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import NETWORK_ISSUES, finding, losers
from bot.rules.shared.gateway_pairs import http_family, server_pairs
from bot.views import Server

ID = "gateway-host-conflict"
SEVERITY = Severity.ERROR
SUMMARY = "Two Gateways on one workload serve the same TLS host, or different protocols, on one port"
GUIDANCE = NETWORK_ISSUES + "#port-conflict-when-configuring-multiple-tls-hosts-in-a-gateway"
DIFF_ONLY = False
READS: tuple[str, ...] = ('scope-gateway-to-namespace',)
WHY = (
    "Servers of all Gateways that select the same gateway pods are merged per port and bind address. A TLS "
    "server whose host another Gateway already serves on that port is dropped ('duplicate host names'), and "
    "so is a plain-text server whose protocol cannot share the listener (TCP next to HTTP). Istio keeps the "
    "oldest Gateway, so the Gateway a PR adds is the one that silently loses."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/gateway.go mergeGateways (duplicate TLS hosts and protocol clashes skip a server)',
    'istio/istio pilot/pkg/model/config.go sortConfigByCreationTime (the older wins)',
)


def check(ctx: Context) -> Iterator[Finding]:
    # Merging rules: pilot/pkg/model/gateway.go mergeGateways. Servers are grouped by port and
    # bind; a TLS server with a host already taken, or a plain-text server whose protocol cannot
    # share the listener, is skipped. Order is creation time: the older Gateway wins.
    tls = server_pairs(ctx.head, lambda s: [(s.number, s.bind, h) for h in s.hosts] if s.is_tls and s.number else [])
    plain = server_pairs(ctx.head, lambda s: [(s.number, s.bind)] if not s.is_tls and s.number else [],
                         differ=lambda s: http_family(s.protocol))
    for pair in (*tls, *plain):
        sa, sb = pair.sa, pair.sb
        for res, other in losers(ctx, pair.a, pair.b):
            mine, theirs = (sa, sb) if res is pair.a else (sb, sa)
            found = _conflict(res, mine, other, theirs)
            if found:
                yield found


def _conflict(res: Resource, mine: Server, other: Resource, theirs: Server) -> Finding | None:
    where = f"port {mine.number}" + (f" (bind {mine.bind})" if mine.bind else "")
    if mine.is_tls and theirs.is_tls:
        shared = sorted(set(mine.hosts) & set(theirs.hosts))
        if not shared:
            return None
        message = (f"serves TLS host {', '.join(shared)} on {where} like {other.display} on the same "
                   "workload; Istio keeps the older Gateway's server and drops the newer one "
                   "('duplicate host names'), so its routes get no traffic")
        fix = f"serve {', '.join(shared)} from one Gateway, or bind the servers to different ports"
        detail = f"host:{other.namespace}/{other.name}:{mine.number}:{','.join(shared)}"
    elif not mine.is_tls and not theirs.is_tls and http_family(mine.protocol) != http_family(theirs.protocol):
        message = (f"serves {mine.protocol or 'HTTP'} on {where} while {other.display} serves "
                   f"{theirs.protocol or 'HTTP'} there on the same workload; one listener cannot carry "
                   "both, so Istio drops the newer server ('conflict with existing server')")
        fix = "move one of the servers to another port"
        detail = f"protocol:{other.namespace}/{other.name}:{mine.number}"
    else:
        return None
    return finding(ID, SEVERITY, res, message, fix=fix, detail=detail, related=[other],
                   line=res.field_line("spec", "servers", mine.index))
