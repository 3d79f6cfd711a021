"""gateway-shared-certificate: a certificate on one gateway listener covers another server's host."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio.cert_coverage import TlsServer, cert_covers, coverage, read_servers
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import NETWORK_ISSUES, finding, losers
from bot.views import gateway_selector

ID = "gateway-shared-certificate"
SEVERITY = Severity.WARNING
SUMMARY = "A certificate served on one gateway listener covers a host that another server on that listener serves"
GUIDANCE = NETWORK_ISSUES + "#404-errors-occur-when-multiple-gateways-configured-with-same-tls-certificate"
DIFF_ONLY = False
READS: tuple[str, ...] = ('scope-gateway-to-namespace', 'gateway-namespaces')
WHY = (
    "Browsers reuse an HTTP/2 connection for another host when the certificate they were shown covers it. On "
    "an Istio gateway each terminating HTTPS server has its own filter chain, chosen by SNI when the "
    "connection opens, and its own route table; a request for another server's host on a reused connection "
    "finds no virtual host and gets 404 (NR). This needs the same gateway workload, the same port and bind "
    "(one listener), terminating HTTPS on both servers, and a certificate that covers the other host: the "
    "same credential, or a wildcard certificate such as *.example.com presented for one host and covering "
    "another server's host, in another Gateway or in the same one. Different ports, TLS (non-HTTP) servers "
    "and passthrough servers cannot be reached this way. Serve the hosts from one server, or give each server "
    "a certificate that covers only its own hosts."
)


@dataclass(frozen=True)
class _Server:
    gateway: Resource
    tls: TlsServer
    names: frozenset[str]  # what its certificates are known to cover


def _servers(mesh: Mesh) -> list[_Server]:
    """Terminating HTTPS servers with what their certificates cover: a credential covers every host it
    is served for on the same gateway workload (the secret lives in the workload's namespace)."""
    read = [(gw, server) for gw in sorted(mesh.of("Gateway"), key=lambda g: g.key)
            for server in read_servers(gw.namespace, gw.name, gw.spec)]
    by_workload: dict[str, list[TlsServer]] = {}
    for gw, server in read:
        by_workload.setdefault(mesh.workload_namespace(gw), []).append(server)
    covered = {ns: coverage(servers) for ns, servers in by_workload.items()}
    out = []
    for gw, server in read:
        if server.terminating and server.port is not None:
            known = covered[mesh.workload_namespace(gw)]
            out.append(_Server(gw, server, frozenset(n for c in server.credentials for n in known.get(c, ()))))
    return out


def _keys(host: str) -> list[str]:
    """Certificate names that could cover `host`: itself, and the one-label wildcard above it."""
    if host.startswith("*"):
        return [host]
    rest = host.partition(".")[2]
    return [host, "*." + rest] if rest else [host]


Pair = tuple[tuple[tuple[str, str, str], int], tuple[tuple[str, str, str], int]]


def _misdirections(mesh: Mesh) -> dict[Pair, list[tuple[_Server, _Server, list[str]]]]:
    """Server pair -> (opened, victim, hosts): requests for `hosts` of the victim that a reused
    connection opened for the other server sends to that server's routes. Found through an index of
    hosts by listener, so servers that cannot meet are never compared."""
    servers = _servers(mesh)
    index: dict[tuple[int | None, str, str], list[tuple[_Server, str]]] = {}
    for s in servers:
        for host in s.tls.hosts:
            if host != "*":
                for key in _keys(host):
                    index.setdefault((s.tls.port, s.tls.bind, key), []).append((s, host))
    out: dict[Pair, list[tuple[_Server, _Server, list[str]]]] = {}
    for a in servers:
        victims: dict[int, tuple[_Server, list[str]]] = {}
        for name in sorted(a.names):
            for b, host in index.get((a.tls.port, a.tls.bind, name), ()):
                if b is a or host in a.tls.hosts or not cert_covers(name, host):
                    continue  # a server's own hosts are served by its own routes
                if b.gateway is not a.gateway and not mesh.share_workload(a.gateway, b.gateway):
                    continue
                hosts = victims.setdefault(id(b), (b, []))[1]
                if host not in hosts:
                    hosts.append(host)
        for b, hosts in victims.values():
            ends = sorted([(a.gateway.key, a.tls.index), (b.gateway.key, b.tls.index)])
            out.setdefault((ends[0], ends[1]), []).append((a, b, hosts))
    return out


def _reported_on(ctx: Context, a: Resource, b: Resource) -> Resource:
    """One finding per pair: on what the change brings (see `losers`); between equals, on the Gateway
    whose selector is the narrower (it binds more workloads; as istioctl's IST0138 reports), else the first."""
    if a is b:
        return a
    found = losers(ctx, a, b)
    if len(found) == 1:
        return found[0][0]
    sa, sb = gateway_selector(a).items(), gateway_selector(b).items()
    if sa != sb and (sa <= sb or sb <= sa):
        return a if sa <= sb else b
    return min(a, b, key=lambda g: g.key)


def _credential(s: _Server, shared: set[str]) -> str:
    creds = sorted(shared or s.tls.credentials)
    return ", ".join(c.split(":", 1)[1] for c in creds)


def _describe(s: _Server, res: Resource) -> str:
    return f"server {s.tls.index}" + ("" if s.gateway is res else f" of {s.gateway.display}")


def _message(found: list[tuple[_Server, _Server, list[str]]], res: Resource) -> str:
    a, b, _ = found[0]
    port = f"port {a.tls.port} of one gateway workload"
    shared = a.tls.credentials & b.tls.credentials
    if len(found) == 2 and shared:
        return (f"{', '.join(a.tls.hosts)} ({_describe(a, res)}) and {', '.join(b.tls.hosts)} ({_describe(b, res)}) "
                f"are served on {port} with the same certificate ({_credential(a, set(shared))}): a browser "
                "reuses an HTTP/2 connection opened for one for the other, and the request reaches the first "
                "server's routes, which have no virtual host for it: 404 (NR)")
    parts = []
    for opened, victim, hosts in found:
        listed = ", ".join(hosts)
        names = ", ".join(opened.tls.hosts)
        opened_for = f"another name of {names}" if all(h.startswith("*") for h in opened.tls.hosts) else names
        parts.append(
            f"certificate {_credential(opened, set(opened.tls.credentials & victim.tls.credentials))} of "
            f"{_describe(opened, res)} ({', '.join(opened.tls.hosts)}) covers {listed} of {_describe(victim, res)} on "
            f"{port}: a browser reuses an HTTP/2 connection opened for {opened_for} for {listed}, "
            f"and those requests reach the routes of {_describe(opened, res)}, which have no virtual host for them: "
            "404 (NR)")
    return "; ".join(parts)


def check(ctx: Context) -> Iterator[Finding]:
    for pair, found in sorted(_misdirections(ctx.head).items()):
        a, b = found[0][0], found[0][1]
        res = _reported_on(ctx, a.gateway, b.gateway)
        mine = a if res is a.gateway and (a.gateway is not b.gateway or a.tls.index < b.tls.index) else b
        other = b if mine is a else a
        yield finding(
            ID, SEVERITY, res, _message(found, res),
            fix="serve these hosts from one server (a host list or a wildcard), or give each server a certificate "
                "that covers only its own hosts",
            detail=f"{pair[0][0][1]}/{pair[0][0][2]}[{pair[0][1]}]~{pair[1][0][1]}/{pair[1][0][2]}[{pair[1][1]}]",
            related=[] if a.gateway is b.gateway else [other.gateway],
            line=res.field_line("spec", "servers", mine.tls.index, "tls"))
