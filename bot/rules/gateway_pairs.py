"""Pairs of Gateway servers that land on the same gateway workload and port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from bot.model import Mesh, Resource, Server, gateway_servers


@dataclass(frozen=True)
class ServerPair:
    a: Resource
    sa: Server
    b: Resource
    sb: Server


def server_pairs(mesh: Mesh) -> Iterator[ServerPair]:
    """Every pair of servers in different Gateways that share a workload, once per pair."""
    gateways = sorted(mesh.of("Gateway"), key=lambda g: g.key)
    servers = {g.key: gateway_servers(g) for g in gateways}
    for i, a in enumerate(gateways):
        for b in gateways[i + 1:]:
            if not mesh.share_workload(a, b):
                continue
            for sa in servers[a.key]:
                for sb in servers[b.key]:
                    yield ServerPair(a, sa, b, sb)


def http_family(protocol: str) -> str:
    """Protocols pilot can serve on one plain-text listener together."""
    if protocol in ("HTTP", "HTTP2", "GRPC", "GRPC-WEB", ""):
        return "http"
    return protocol.lower()
