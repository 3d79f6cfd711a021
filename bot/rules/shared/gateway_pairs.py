"""Pairs of Gateway servers that land on the same gateway workload, found through an index.

Comparing every Gateway with every other is quadratic; servers can only conflict when they share
something (a port and name, a host, a certificate), so servers are bucketed by that first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.mesh import Mesh
from bot.resource import Resource
from bot.views import Server, gateway_servers


@dataclass(frozen=True)
class ServerPair:
    a: Resource
    sa: Server
    b: Resource
    sb: Server


def server_pairs(mesh: Mesh, keys: Callable[[Server], Iterable[object]],
                 differ: Callable[[Server], object] | None = None) -> Iterator[ServerPair]:
    """Pairs of servers in different Gateways that share a workload and at least one key
    (and, with `differ`, whose `differ` values are not equal)."""
    buckets: dict[object, list[tuple[Resource, Server]]] = {}
    for gw in sorted(mesh.of("Gateway"), key=lambda g: g.key):
        for server in gateway_servers(gw):
            for key in set(keys(server)):
                buckets.setdefault(key, []).append((gw, server))
    seen: set[tuple[object, ...]] = set()
    for _, members in sorted(buckets.items(), key=lambda kv: repr(kv[0])):
        for i, (a, sa) in enumerate(members):
            later = members[i + 1:]
            if differ is not None:
                later = [(b, sb) for b, sb in later if differ(sb) != differ(sa)]
            for b, sb in later:
                ident = (a.key, sa.index, b.key, sb.index)
                if a is b or ident in seen:
                    continue
                seen.add(ident)
                if mesh.share_workload(a, b):
                    yield ServerPair(a, sa, b, sb)


def http_family(protocol: str) -> str:
    """Protocols pilot can serve on one plain-text listener together."""
    if protocol in ("HTTP", "HTTP2", "GRPC", "GRPC-WEB", ""):
        return "http"
    return protocol.lower()
