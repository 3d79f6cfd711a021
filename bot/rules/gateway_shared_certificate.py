"""gateway-shared-certificate: a certificate on one gateway listener covers another server's host."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio.cert_coverage import Misdirection, TlsServer, misdirections, read_servers
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
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pkg/config/gateway/gateway.go IsHTTPSServerWithTLSTermination, IsPassThroughServer',
    'istio/istio pilot/pkg/model/gateway.go gatewayRDSRouteName (one route table per HTTPS server)',
    'istio/istio pilot/pkg/networking/core/gateway.go getListenerName (one listener per bind and port)',
    'envoyproxy/envoy#6767, istio/istio#13589 (no 421 for misdirected requests)',
    'RFC 9113 §9.1.1 (connection reuse), RFC 6125 §6.4.3 (wildcards match one label)',
)


Key = tuple[tuple[str, str, str], int]  # (Gateway key, server index)


def _misdirections(mesh: Mesh) -> tuple[dict[tuple[Key, Key], list[Misdirection]], dict[tuple[str, str], Resource]]:
    """Server pair -> its misdirections (one per direction), and the Gateways by (namespace, name)."""
    gateways = {(gw.namespace, gw.name): gw for gw in sorted(mesh.of("Gateway"), key=lambda g: g.key)}
    servers = [s for gw in gateways.values() for s in read_servers(gw.namespace, gw.name, gw.spec)]

    def share(a: TlsServer, b: TlsServer) -> bool:
        return mesh.share_workload(gateways[(a.namespace, a.gateway)], gateways[(b.namespace, b.gateway)])

    out: dict[tuple[Key, Key], list[Misdirection]] = {}
    for m in misdirections(servers, share=share):
        ends = sorted([(gateways[(s.namespace, s.gateway)].key, s.index) for s in (m.opened, m.victim)])
        out.setdefault((ends[0], ends[1]), []).append(m)
    return out, gateways


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


def _credential(server: TlsServer, shared: tuple[str, ...]) -> str:
    return ", ".join(c.split(":", 1)[1] for c in (shared or sorted(server.credentials)))


def _describe(server: TlsServer, res: Resource) -> str:
    own = (server.namespace, server.gateway) == (res.namespace, res.name)
    return f"server {server.index}" + ("" if own else f" of Gateway {server.namespace}/{server.gateway}")


def _message(found: list[Misdirection], res: Resource) -> str:
    a, b = found[0].opened, found[0].victim
    port = f"port {a.port} of one gateway workload"
    if len(found) == 2 and found[0].shared:
        return (f"{', '.join(a.hosts)} ({_describe(a, res)}) and {', '.join(b.hosts)} ({_describe(b, res)}) "
                f"are served on {port} with the same certificate ({_credential(a, found[0].shared)}): a browser "
                "reuses an HTTP/2 connection opened for one for the other, and the request reaches the first "
                "server's routes, which have no virtual host for it: 404 (NR)")
    parts = []
    for m in found:
        listed, names = ", ".join(m.hosts), ", ".join(m.opened.hosts)
        opened_for = f"another name of {names}" if all(h.startswith("*") for h in m.opened.hosts) else names
        parts.append(
            f"certificate {_credential(m.opened, m.shared)} of {_describe(m.opened, res)} ({names}) covers {listed} "
            f"of {_describe(m.victim, res)} on {port}: a browser reuses an HTTP/2 connection opened for "
            f"{opened_for} for {listed}, and those requests reach the routes of {_describe(m.opened, res)}, which "
            "have no virtual host for them: 404 (NR)")
    return "; ".join(parts)


def check(ctx: Context) -> Iterator[Finding]:
    pairs, gateways = _misdirections(ctx.head)
    for pair, found in sorted(pairs.items()):
        a, b = found[0].opened, found[0].victim
        ga, gb = gateways[(a.namespace, a.gateway)], gateways[(b.namespace, b.gateway)]
        res = _reported_on(ctx, ga, gb)
        mine = a if res is ga and (ga is not gb or a.index < b.index) else b
        other = gb if res is ga else ga
        yield finding(
            ID, SEVERITY, res, _message(found, res),
            fix="serve these hosts from one server (a host list or a wildcard), or give each server a certificate "
                "that covers only its own hosts",
            detail=f"{pair[0][0][1]}/{pair[0][0][2]}[{pair[0][1]}]~{pair[1][0][1]}/{pair[1][0][2]}[{pair[1][1]}]",
            related=[] if ga is gb else [other], line=res.field_line("spec", "servers", mine.index, "tls"))
