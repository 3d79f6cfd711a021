"""Which VirtualService hosts a Gateway serves, and when VirtualService fragments meet.

A Gateway server host `ns/host` admits only VirtualServices of `ns`; `./host` the Gateway's own
namespace; `*/host` and a bare `host` any namespace; `*/*` anywhere makes the whole list `*`
(`pilot/pkg/model/gateway.go` sanitizeServerHostNamespace, `pkg/config/host/names.go`
NamesForNamespace). A gateway's virtual hosts for a VirtualService are the intersection of its
hosts with the admitted server hosts (`pilot/pkg/networking/core/gateway.go`
buildGatewayHTTPRouteConfig): a VirtualService host no server admits gets no virtual host, and
requests for it get 404 (https://istio.io/latest/docs/reference/config/networking/gateway/#Server).

HTTP routes are served by HTTP and terminating HTTPS servers; `tls` routes by TLS passthrough
servers; `tcp` routes by TCP/TLS servers. Fragments for one host merge per route type only, so two
VirtualServices that share no route type never meet; sidecars likewise build an HTTP virtual host
only from a VirtualService that has HTTP routes (`pilot/pkg/networking/core/route/route.go`
buildSidecarVirtualHostsForVirtualService returns nothing without them), so an http-only and a
tcp-only VirtualService for one mesh host do not shadow each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import hosts as H
from bot import views
from bot.values import as_list, as_str

ROUTE_TYPES = ("http", "tls", "tcp")
_HTTP = ("HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB")


@dataclass(frozen=True)
class ServerHosts:
    index: int
    route_types: frozenset[str]  # route types this server can serve
    hosts: tuple[tuple[str, str], ...]  # (namespace filter or "*", host)


def server_route_types(server: views.Server) -> frozenset[str]:
    mode = server.tls_mode
    if server.protocol in _HTTP and mode not in ("PASSTHROUGH", "AUTO_PASSTHROUGH"):
        return frozenset({"http"})
    if server.protocol in ("TLS", "HTTPS"):
        return frozenset({"tls", "tcp"}) if mode in ("PASSTHROUGH", "AUTO_PASSTHROUGH") else frozenset({"tcp"})
    if server.protocol in ("TCP", "MONGO", "REDIS", "MYSQL"):
        return frozenset({"tcp"})
    return frozenset(ROUTE_TYPES)  # unknown protocol: assume it could serve anything


def read_server_hosts(gateway_namespace: str, spec: Mapping[str, Any]) -> list[ServerHosts]:
    out = []
    for server in views.read_servers(dict(spec)):
        entries = server.written_hosts
        if "*/*" in entries:
            hosts: list[tuple[str, str]] = [("*", "*")]
        else:
            hosts = []
            for entry in entries:
                ns, sep, host = entry.rpartition("/")
                if not sep:
                    ns = "*"
                elif ns == ".":
                    ns = gateway_namespace
                hosts.append((ns, host.lower()))
        out.append(ServerHosts(server.index, server_route_types(server), tuple(hosts)))
    return out


def admitted(servers: Iterable[ServerHosts], vs_namespace: str, route_type: str = "http") -> list[str]:
    """Server hosts that admit VirtualServices of `vs_namespace` for a route type."""
    return sorted({h for s in servers if route_type in s.route_types for ns, h in s.hosts if ns in ("*", vs_namespace)})


def served(vs_host: str, admitted_hosts: Iterable[str]) -> bool:
    """The gateway builds a virtual host for `vs_host` (intersection with matching, both ways)."""
    return any(H.matches(h, vs_host) for h in admitted_hosts)


def route_types(vs_spec: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(t for t in ROUTE_TYPES if as_list(vs_spec.get(t)))


def unserved_hosts(vs_namespace: str, vs_spec: Mapping[str, Any], before: list[ServerHosts],
                   after: list[ServerHosts]) -> list[str]:
    """Hosts of a VirtualService (resolved) that the Gateway served before and no longer serves,
    for some route type the VirtualService uses."""
    hosts = [H.fqdn(h, vs_namespace) for h in (as_str(x) for x in as_list(vs_spec.get("hosts"))) if h]
    out = []
    for kind in route_types(vs_spec):
        was, now = admitted(before, vs_namespace, kind), admitted(after, vs_namespace, kind)
        out += [h for h in hosts if served(h, was) and not served(h, now)]
    return sorted(set(out))


def fragments_meet(host: str, a_namespace: str, a_spec: Mapping[str, Any], b_namespace: str,
                   b_spec: Mapping[str, Any], servers: list[ServerHosts] | None) -> frozenset[str]:
    """Route types in which two VirtualServices bound to one gateway merge for `host`.

    Both must route that type and the gateway must serve the host to both (`servers` None: the
    Gateway is not in the repository, assume it does). Empty: they never meet.
    """
    common = route_types(a_spec) & route_types(b_spec)
    if servers is None:
        return common
    return frozenset(t for t in common if served(host, admitted(servers, a_namespace, t))
                     and served(host, admitted(servers, b_namespace, t)))
