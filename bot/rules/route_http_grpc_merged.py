"""route-http-grpc-merged: an HTTPRoute and a GRPCRoute share a hostname on one listener."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.conflicts import merges
from bot.gatewayapi.precedence import order
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, evaluation, name, wanted

ID = "route-http-grpc-merged"
SEVERITY = Severity.NOTICE
SUMMARY = "An HTTPRoute and a GRPCRoute serve one hostname on one listener: Istio merges them, the spec rejects one"
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "The Gateway API specification lets only one of an HTTPRoute and a GRPCRoute with intersecting hostnames "
    "attach to a listener: the older one is accepted and the other gets Accepted=False "
    "(gateway-api apis/v1/grpcroute_types.go). Istio accepts both and merges their rules into one route "
    "table, ordered by match specificity (istio pilot/pkg/config/kube/gateway/controller.go; testdata "
    "http-grpc-same-host.yaml). Under Istio both work, provided their matches do not overlap (a catch-all "
    "HTTPRoute rule can still take gRPC calls whose methods are not matched more specifically); another "
    "implementation, or a future Istio, would serve only one of them. Give gRPC its own hostname to be "
    "portable."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The specification accepts only the older of an HTTPRoute and a GRPCRoute with intersecting hostnames on one "
    "listener and gives the other Accepted=False (gateway-api apis/v1/grpcroute_types.go). Istio accepts both and "
    "merges them into one route table (istio pilot/pkg/config/kube/gateway/controller.go)."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'kubernetes-sigs/gateway-api apis/v1/grpcroute_types.go GRPCRouteSpec (hostname conflicts with HTTPRoute)',
    'istio/istio pilot/pkg/config/kube/gateway/controller.go',
    'istio/istio pilot/pkg/config/kube/gateway/testdata/http-grpc-same-host.yaml',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    seen = set()
    for merge in merges(ev):
        older = order(merge.http, merge.grpc, ev.base).first
        subject = merge.grpc if older is None or older is merge.http else merge.http  # the younger one
        other = merge.http if subject is merge.grpc else merge.grpc
        key = (subject.key, other.key, merge.served.host)
        if key in seen or not wanted(ctx, subject):
            continue
        seen.add(key)
        host = "every hostname" if merge.served.host == "*" else merge.served.host
        yield finding(
            ID, SEVERITY, subject,
            f"shares {host} on listener {merge.served.listener} with {name(ev, other)}: Istio merges the two into one "
            "route table (most specific match first); the Gateway API specification would accept only the older "
            "of the two and reject the other",
            fix="serve gRPC on its own hostname (or listener) to stay portable",
            detail=f"{other.kind}/{other.namespace}/{other.name}:{merge.served.host}", related=[other],
            line=subject.field_line("spec", "hostnames") or subject.field_line("spec", "parentRefs"))
