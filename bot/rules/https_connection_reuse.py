"""https-connection-reuse: HTTPS listeners on one address and port whose certificate covers another's hostname."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi import hostnames as hn
from bot.gatewayapi.istio import share_workload
from bot.gatewayapi.listeners import merged
from bot.gatewayapi.objects import Listener
from bot.resource import Resource
from bot.rules.base import NETWORK_ISSUES, finding
from bot.rules.shared.gateway_api import evaluation, istio_gateways, name, wanted

ID = "https-connection-reuse"
SEVERITY = Severity.WARNING
SUMMARY = ("HTTPS listeners on one address and port share a certificate, or one's wildcard covers another's "
           "hostname: HTTP/2 clients reuse connections and get 404")
GUIDANCE = NETWORK_ISSUES + "#404-errors-occur-when-multiple-gateways-configured-with-same-tls-certificate"
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "An HTTP/2 client reuses an open connection for any hostname the server's certificate covers and that "
    "resolves to the same address (RFC 7540 9.1.1); SNI is sent only when the connection opens. Istio gives "
    "every HTTPS listener its own filter chain and route table, selected by SNI, so a request for a hostname "
    "of another listener, sent over a reused connection, reaches a route table without it and gets 404 NR. "
    "That happens inside one Gateway (a wildcard listener next to a specific one, or two listeners sharing a "
    "Secret) and across Gateways on one workload (manual deployment). The specification asks for 421 "
    "Misdirected Request, which makes browsers retry on a new connection; Istio does not send it "
    "(istio/istio#13589, kubernetes-sigs/gateway-api GEP-3567). Managed Gateways have their own addresses and "
    "are only affected when DNS or a load balancer puts them on one address, which manifests do not show."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The specification asks for 421 Misdirected Request when a request reaches a listener whose hostname does not "
    "match its Host while another listener's does, and lets implementations report OverlappingTLSConfig "
    "(gateway-api apis/v1/gateway_types.go Listener.Hostname, GEP-3567). Istio sends neither: it answers 404 NR "
    "and sets no condition (istio/istio#13589; Istio skips the conformance test)."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'https://github.com/istio/istio/issues/13589 (404 NR for a reused HTTP/2 connection)',
    'https://gateway-api.sigs.k8s.io/geps/gep-3567/ (GEP-3567, TLS connection coalescing)',
    'kubernetes-sigs/gateway-api apis/v1/gateway_types.go Listener.Hostname',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    gateways = istio_gateways(ev)
    listeners = {gw.key: [(s.owner, s.listener) for s in merged(gw, ev) if s.usable
                          and s.listener.protocol == "HTTPS" and s.listener.tls_mode == "Terminate"]
                 for gw in gateways}
    reported: set[tuple[object, ...]] = set()
    for i, a in enumerate(gateways):
        for b in gateways[i:]:
            if not share_workload(a, b):
                continue
            for x, (owner_a, la) in enumerate(listeners[a.key]):
                others = listeners[b.key][x + 1:] if a.key == b.key else listeners[b.key]
                for owner_b, lb in others:
                    what = _overlap(la, lb)
                    if what is None or la.port != lb.port:
                        continue
                    for res, mine, other, theirs in ((owner_a, la, owner_b, lb), (owner_b, lb, owner_a, la)):
                        key = (res.key, mine.name, other.key, theirs.name)
                        twice = res.key == other.key and mine.name > theirs.name  # one listener pair, one finding
                        if key in reported or twice or not wanted(ctx, res):
                            continue
                        reported.add(key)
                        yield _finding(res, mine, other, theirs, what, name(ev, other))


def _overlap(a: Listener, b: Listener) -> str | None:
    if a.hostname == b.hostname:
        return None  # a listener conflict, not a reuse problem
    shared = sorted({(c.namespace, c.name) for c in a.certs if c.is_secret}
                    & {(c.namespace, c.name) for c in b.certs if c.is_secret})
    if shared:
        return f"the same certificate (Secret {shared[0][0]}/{shared[0][1]})"
    for wide, narrow in ((a, b), (b, a)):
        if wide.hostname != hn.ANY and wide.hostname.startswith("*") and hn.covers(wide.hostname, narrow.hostname):
            return f"a certificate for {wide.hostname}, which covers {narrow.hostname}"
    return None


def _finding(res: Resource, mine: Listener, other: Resource, theirs: Listener, what: str, other_name: str) -> Finding:
    whose = "" if other.key == res.key else f" of {other_name} (same pods and address)"
    return finding(
        ID, SEVERITY, res,
        f"{mine.where} and {theirs.where}{whose} serve port {mine.port} with {what}: HTTP/2 clients reuse a "
        f"connection opened for one hostname for the other, and Istio answers those requests 404 (one route table "
        "per listener; no 421)",
        fix="serve both hostnames from one listener and certificate (a wildcard listener with routes for each "
            "hostname), or give them separate certificates and addresses",
        detail=f"{other.key[1]}/{other.key[2]}/{theirs.name}:{mine.name}:{what}", related=[other],
        line=res.field_line(*mine.path))
