"""Which VirtualService hosts a Gateway serves (`bot.istio.gateway_hosts`), read once per Gateway:
vs-fragment-conflict and vs-host-unserved."""

from __future__ import annotations

from bot.istio.gateway_hosts import ServerHosts, read_server_hosts
from bot.resource import Resource, per_resource


@per_resource
def server_hosts(gw: Resource) -> list[ServerHosts]:
    """The Gateway's servers: route types they serve and hosts with their namespace filters."""
    return read_server_hosts(gw.namespace, gw.spec)
