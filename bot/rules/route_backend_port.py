"""route-backend-port: a backendRef names a port its Service does not expose."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.backends import percent, service_ports, share
from bot.gatewayapi.kinds import SERVICE
from bot.gatewayapi.objects import route
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, effect, evaluation, routes, rule_text

ID = "route-backend-port"
SEVERITY = Severity.ERROR
SUMMARY = "A route's backendRef uses a port the Service does not expose: Istio reports it resolved, and it fails"
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "A Service backendRef's port is the Service port, not the container's targetPort. Istio checks only that "
    "the Service exists (istio pilot/pkg/config/kube/gateway/conversion.go buildDestination), so a port the "
    "Service does not expose is reported as ResolvedRefs=True, and the requests weighted to it get HTTP 500 "
    "(connections are rejected for TLS and TCP routes). The specification leaves this to the implementation; "
    "here Istio's status is green while that share of traffic fails. Checked when the repository holds the "
    "Service."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The specification leaves checking a backendRef's port to the implementation. Istio checks only that the "
    "Service exists, so the route reports ResolvedRefs=True while the share of requests sent to that port fails "
    "with 500; another implementation may report the reference as unresolved."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/config/kube/gateway/conversion.go buildDestination',
)


def check(ctx: Context) -> Iterator[Finding]:
    head = evaluation(ctx).head
    for res in routes(ctx):
        r = route(res)
        for rule in r.rules:
            if rule.total_weight == 0:
                continue
            for ref in rule.backends:
                if ref.weight == 0 or not ref.is_service or ref.port is None:
                    continue
                svc = head.get(SERVICE, ref.namespace, ref.name)
                ports = service_ports(svc) if svc is not None else None
                if svc is None or ports is None or ref.port in ports:
                    continue
                part, total = share(rule, [ref])
                yield finding(
                    ID, SEVERITY, res,
                    f"{rule_text(rule.index, rule.name)} sends {percent(part, total)} (weight {part} of {total}) to "
                    f"Service {ref.namespace}/{ref.name} port {ref.port}, which the Service does not expose (ports "
                    f"{', '.join(map(str, ports))}): Istio reports the reference as resolved, and "
                    f"{effect(res.kind)}",
                    fix=f"use one of the Service's ports ({', '.join(map(str, ports))}); the backendRef port is the "
                        "Service port, not the targetPort",
                    detail=f"{ref.namespace}/{ref.name}:{ref.port}", related=[svc], line=res.field_line(*ref.path))
