"""listener-invalid: a listener Istio does not program, or that takes fewer route kinds than written."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.listeners import has_server, supported_kinds, unsupported_protocol
from bot.gatewayapi.objects import listeners
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, listener_owners

ID = "listener-invalid"
SEVERITY = Severity.WARNING
SUMMARY = ("A listener with a protocol Istio does not support, HTTPS or TLS without tls, or allowedRoutes.kinds "
           "naming a kind its protocol cannot carry")
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "Istio programs listeners with protocol HTTP, HTTPS, TLS or TCP, written in upper case; UDP and other "
    "spellings are UnsupportedProtocol and take no routes (istio pilot/pkg/config/kube/gateway/conversion.go "
    "listenerProtocolToIstio). HTTPS or TLS without a tls section produces no server at all. HTTP and HTTPS "
    "listeners carry HTTPRoute and GRPCRoute, TCP carries TCPRoute, TLS carries TLSRoute (and TCPRoute when it "
    "terminates); allowedRoutes.kinds can only narrow that, and a kind the protocol cannot carry (or a typo "
    "such as HttpRoute) sets ResolvedRefs=False InvalidRouteKinds (istio "
    "pilot/pkg/config/kube/gatewaycommon/conversion.go GenerateGatewaySupportedKinds). Routes of the missing "
    "kinds are NotAllowedByListeners and get nothing."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "Istio accepts only HTTP, HTTPS, TLS and TCP, in upper case (istio pilot/pkg/config/kube/gateway/conversion.go "
    "listenerProtocolToIstio): `http` is UnsupportedProtocol, and UDP, which the specification defines, is not "
    "supported (Istio does not claim UDPRoute; supported_features.go). An HTTPS or TLS listener without tls gets "
    "no server at all (buildListener)."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/config/kube/gateway/conversion.go listenerProtocolToIstio',
    'istio/istio pilot/pkg/config/kube/gatewaycommon/conversion.go GenerateGatewaySupportedKinds',
    'istio/istio pilot/pkg/config/kube/gateway/supported_features.go',
)


def check(ctx: Context) -> Iterator[Finding]:
    for owner in listener_owners(ctx):
        for lst in listeners(owner):
            line = owner.field_line(*lst.path)
            problem = unsupported_protocol(lst)
            if problem:
                yield finding(ID, SEVERITY, owner, f"{lst.where}: {problem}; Istio programs nothing for it and no "
                                                   "route attaches (UnsupportedProtocol)",
                              fix="use HTTP, HTTPS, TLS or TCP (upper case)",
                              detail=f"{lst.name}:UnsupportedProtocol", line=line)
                continue
            if not has_server(lst):
                yield finding(ID, SEVERITY, owner, f"{lst.where} has no tls section: Istio builds no server for it, "
                                                   "and routes naming it get NoMatchingParent",
                              fix="add tls (mode and certificateRefs)", detail=f"{lst.name}:NoTLS", line=line)
                continue
            kinds, valid = supported_kinds(lst)
            if not valid:
                bad = [f"{k}" + (f" ({g})" if g != "gateway.networking.k8s.io" else "") for g, k in lst.kinds
                       if k not in kinds or g != "gateway.networking.k8s.io"]
                takes = ", ".join(kinds) if kinds else "no route kind at all"
                yield finding(ID, SEVERITY, owner,
                              f"{lst.where}: allowedRoutes.kinds names {', '.join(bad)}, which a listener of protocol "
                              f"{lst.protocol} cannot carry (InvalidRouteKinds); it takes {takes}",
                              fix="list only kinds the protocol carries: HTTPRoute/GRPCRoute (HTTP, HTTPS), "
                                  "TLSRoute (TLS), TCPRoute (TCP)",
                              detail=f"{lst.name}:InvalidRouteKinds", line=line)
