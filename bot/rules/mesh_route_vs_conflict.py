"""mesh-route-vs-conflict: a GAMMA route and a VirtualService route the same Service in the mesh."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.gamma import overlaps
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GAMMA, evaluation, name, wanted

ID = "mesh-route-vs-conflict"
SEVERITY = Severity.WARNING
SUMMARY = "A route with a Service parent (GAMMA) and a VirtualService both route mesh traffic for one host"
GUIDANCE = GAMMA
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "A route whose parentRef is a Service becomes, inside Istio, a VirtualService for that Service's host. A "
    "sidecar uses one VirtualService per host and drops any other for the same domain as a duplicate (istio "
    "pilot/pkg/networking/core/httproute.go, metric pilot_vservice_dup_domain): the two never combine. Proxies "
    "in the route's namespace pick the route (pilot/pkg/model/virtualservice.go SelectVirtualServices); "
    "elsewhere the older of the two wins. So while both exist, clients in different namespaces follow "
    "different rules, and deleting or re-creating either one changes who wins. A route in another namespace "
    "than its Service (a consumer route) applies only to clients in its own namespace. Move the host to one "
    "API: migrate the VirtualService's rules into the route, then delete the VirtualService."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The specification knows no VirtualServices. For mesh routes Istio follows it: a route in the Service's "
    "namespace (producer) applies to every client, one in another namespace (consumer) only to clients of its own "
    "namespace (gateway-api apis/v1/shared_types.go). A hand-written VirtualService for the same host competes "
    "with the generated one as a duplicate domain, which no Gateway API status shows."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/networking/core/httproute.go dedupeDomains (metric pilot_vservice_dup_domain)',
    'istio/istio pilot/pkg/model/virtualservice.go SelectVirtualServices',
    'kubernetes-sigs/gateway-api apis/v1/shared_types.go ParentReference (a Service parent)',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    for o in overlaps(ev):
        if not wanted(ctx, o.route):
            continue
        scope = (f"it is a consumer route, so only clients in namespace {o.route.namespace} use it, and there it "
                 f"replaces {name(ev, o.virtual_service)}" if o.consumer else
                 f"clients in namespace {o.route.namespace} follow the route and ignore {name(ev, o.virtual_service)}; "
                 "elsewhere the older of the two wins and the other is dropped as a duplicate domain")
        yield finding(
            ID, SEVERITY, o.route,
            f"routes mesh traffic for {o.host} ({name(ev, o.service)}), which {name(ev, o.virtual_service)} also "
            f"routes: a sidecar keeps one of them per host; {scope}",
            fix="route the host with one API: move the VirtualService's rules into the route and delete the "
                "VirtualService (or the other way round)",
            detail=f"{o.virtual_service.namespace}/{o.virtual_service.name}:{o.host}", related=[o.virtual_service],
            line=o.route.field_line("spec", "parentRefs"))
