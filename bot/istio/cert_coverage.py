"""HTTP/2 connection reuse across Gateway servers: which host would land on another server's routes.

Each terminating HTTPS server (protocol HTTPS, tls mode not PASSTHROUGH/AUTO_PASSTHROUGH,
`pkg/config/gateway/gateway.go` IsHTTPSServerWithTLSTermination) gets its own filter chain chosen by
SNI and its own route table (`pilot/pkg/model/gateway.go` gatewayRDSRouteName). A browser reuses a
connection for another host when the certificate it was shown covers that host (RFC 9113 §9.1.1);
Envoy keeps routing on the chain chosen at connection time, finds no virtual host and answers 404
(envoyproxy/envoy#6767, istio/istio#13589). Only the same listener can be reused: same gateway
workload, same port and bind (`pilot/pkg/networking/core/gateway.go` getListenerName). See
https://istio.io/latest/docs/ops/common-problems/network-issues/#404-errors-occur-when-multiple-gateways-configured-with-same-tls-certificate.

What a certificate covers is rarely in the repository: a credential covers at least every host it
is served for (it must, for those hosts to work), and the certificate's own names when the caller
knows them (e.g. a cert-manager Certificate's dnsNames). Certificate wildcards match one label
(RFC 6125 §6.4.3), unlike Istio host wildcards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import views
from bot.values import as_dict, as_list, as_str

PASSTHROUGH_MODES = ("PASSTHROUGH", "AUTO_PASSTHROUGH")


@dataclass(frozen=True)
class TlsServer:
    namespace: str  # of the Gateway
    gateway: str
    index: int
    port: int | None
    bind: str
    hosts: tuple[str, ...]  # namespace filters (`ns/`) dropped, lower case
    credentials: frozenset[str]  # "secret:<name>" or "files:<cert>" identities of the certificates served
    terminating: bool  # HTTPS with TLS terminated here: has a route table a reused connection lands on
    passthrough: bool


def read_servers(namespace: str, name: str, spec: Mapping[str, Any]) -> list[TlsServer]:
    """The servers of a Gateway that present a certificate (terminating) or pass TLS through."""
    out = []
    for server in views.read_servers(dict(spec)):
        if server.tls is None:
            continue
        passthrough = server.tls_mode in PASSTHROUGH_MODES
        terminating = server.protocol == "HTTPS" and not passthrough and server.tls_mode != "ISTIO_MUTUAL"
        out.append(TlsServer(namespace, name, server.index, server.number, server.bind, server.hosts,
                             _credentials(server.tls), terminating, passthrough))
    return out


def _credentials(tls: dict[str, Any]) -> frozenset[str]:
    names = [as_str(tls.get("credentialName")), *(as_str(x) for x in as_list(tls.get("credentialNames")))]
    out = {f"secret:{n}" for n in names if n}
    files = [(as_str(tls.get("serverCertificate")), as_str(tls.get("privateKey")))]
    files += [(as_str(as_dict(c).get("serverCertificate")), as_str(as_dict(c).get("privateKey")))
              for c in as_list(tls.get("tlsCertificates"))]
    out |= {f"files:{cert}" for cert, key in files if cert and key}
    return frozenset(out)


def cert_covers(name: str, host: str) -> bool:
    """A certificate name covers a host: equal, or `*.` matching exactly one leftmost label."""
    name, host = name.lower(), host.lower()
    if name == host:
        return True
    if name.startswith("*.") and not host.startswith("*"):
        head, _, rest = host.partition(".")
        return bool(head) and rest == name[2:]
    if name.startswith("*.") and host.startswith("*."):
        return host == name
    return False


def coverage(servers: Sequence[TlsServer], dns_names: Mapping[str, Sequence[str]] | None = None) -> dict[str, set[str]]:
    """Credential -> the names its certificate is known to cover.

    Every host of every server that presents it, plus `dns_names` (credential -> certificate names)
    when known. A server host `*` says nothing about its certificate and is left out.
    """
    out: dict[str, set[str]] = {}
    for server in servers:
        for credential in server.credentials:
            out.setdefault(credential, set()).update(h for h in server.hosts if h != "*")
    for credential, names in (dns_names or {}).items():
        out.setdefault(credential, set()).update(n.lower() for n in names)
    return out


def _lists(server: TlsServer, host: str) -> bool:
    """The server names the host itself, so its own routes are meant for it. A wildcard server host
    does not count: its routes come from other VirtualServices than the ones written for `host`."""
    return host in server.hosts


@dataclass(frozen=True)
class Misdirection:
    """Requests for `hosts` of `victim` sent over a connection opened to `opened` reach `opened`'s routes."""

    opened: TlsServer
    victim: TlsServer
    hosts: tuple[str, ...]
    shared: tuple[str, ...]  # credentials both present (empty: the certificate covers the hosts by name)


def _keys(host: str) -> list[str]:
    """Certificate names that could cover `host`: itself, and the one-label wildcard above it."""
    if host.startswith("*"):
        return [host]
    rest = host.partition(".")[2]
    return [host, "*." + rest] if rest else [host]


def misdirections(servers: Sequence[TlsServer], dns_names: Mapping[str, Sequence[str]] | None = None,
                  passthrough_victims: bool = False,
                  share: Callable[[TlsServer, TlsServer], bool] | None = None) -> list[Misdirection]:
    """Pairs of servers on one gateway workload where a reused connection lands on the wrong routes.

    `share(a, b)` says whether the Gateways of two servers select a common workload (None: all do;
    servers of one Gateway always do). What a credential covers is learnt from the servers on the same
    workload that present it (`coverage`). `opened` must terminate HTTPS; `victim` too, unless
    `passthrough_victims` (then misdirection happens in the victim's backend, not as a 404 here).
    Servers on different ports or binds never share a connection. Servers are found through an index
    of hosts by listener, so servers that cannot meet are never compared.
    """
    def together(a: TlsServer, b: TlsServer) -> bool:
        return (a.namespace, a.gateway) == (b.namespace, b.gateway) or share is None or share(a, b)

    presenting: dict[str, list[TlsServer]] = {}
    for server in servers:
        for credential in server.credentials:
            presenting.setdefault(credential, []).append(server)
    listeners: dict[tuple[int | None, str, str], list[tuple[TlsServer, str]]] = {}
    for server in servers:
        if server.terminating or (passthrough_victims and server.passthrough):
            for host in server.hosts:
                if host != "*":
                    for key in _keys(host):
                        listeners.setdefault((server.port, server.bind, key), []).append((server, host))
    out = []
    for a in servers:
        if not a.terminating or a.port is None:
            continue
        peers = [s for c in a.credentials for s in presenting.get(c, ()) if together(a, s)]
        covered = coverage(peers, {c: n for c, n in (dns_names or {}).items() if c in a.credentials})
        names = {n for c in a.credentials for n in covered.get(c, ())}
        victims: dict[tuple[str, str, int], tuple[TlsServer, list[str]]] = {}
        for name in sorted(names):
            for b, host in listeners.get((a.port, a.bind, name), ()):
                if b is a or _lists(a, host) or not cert_covers(name, host) or not together(a, b):
                    continue
                hosts = victims.setdefault((b.namespace, b.gateway, b.index), (b, []))[1]
                if host not in hosts:
                    hosts.append(host)
        for b, hosts in victims.values():
            out.append(Misdirection(a, b, tuple(hosts), tuple(sorted(a.credentials & b.credentials))))
    return out
