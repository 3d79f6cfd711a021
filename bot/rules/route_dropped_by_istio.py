"""route-dropped-by-istio: one thing Istio cannot translate drops the whole route."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.attachment import evaluate, hosts_text
from bot.gatewayapi.backends import checks_grants, resolve
from bot.gatewayapi.istio import Drop, drops
from bot.gatewayapi.objects import route
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Resource
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, evaluation, routes

ID = "route-dropped-by-istio"
SEVERITY = Severity.ERROR
SUMMARY = ("Istio drops a whole HTTPRoute, GRPCRoute, TLSRoute or TCPRoute for one rule it cannot translate "
           "(an unsupported filter such as ExtensionRef, a bad header value, a dotted Service name)")
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "Istio converts a route rule by rule, and the first rule it cannot convert ends the conversion: no rule of "
    "the route is programmed (istio pilot/pkg/config/kube/gateway/route_collections.go computeRoute). That "
    "happens for a filter type Istio does not implement (ExtensionRef, and anything besides header modifiers, "
    "redirect, mirror, URL rewrite and CORS; GRPCRoute takes only header modifiers and mirror), a header value "
    "with control characters, an unknown match type, a Service backendRef whose name holds a dot or has no "
    "port, a Hostname backendRef with a namespace, and for GRPCRoute a mirror backend that does not resolve. "
    "The route's status still says Accepted (ResolvedRefs=False with InvalidFilter, InvalidDestination or "
    "InvalidConfiguration), and every request it should serve gets 404. The specification would drop only "
    "the offending rules; Istio drops them all."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "For a route with valid and invalid rules the specification asks the implementation to drop the invalid rules "
    "(or fall back to the last good version of the route) and to say so with PartiallyInvalid (gateway-api "
    "apis/v1/shared_types.go); a custom filter that cannot be resolved must answer the requests it would have "
    "handled with an HTTP error (httproute_types.go HTTPRouteFilter). Istio drops every rule of the route, keeps "
    "Accepted=True with ResolvedRefs=False, and sets no PartiallyInvalid (istio "
    "pilot/pkg/config/kube/gateway/route_collections.go computeRoute)."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/config/kube/gateway/route_collections.go computeRoute',
    'kubernetes-sigs/gateway-api apis/v1/shared_types.go RouteConditionPartiallyInvalid',
    'kubernetes-sigs/gateway-api apis/v1/httproute_types.go HTTPRouteFilter',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    for res in routes(ctx):
        found = list(drops(res)) + _grpc_mirrors(res, ev)
        if not found:
            continue
        served = [s for r in evaluate(res, ev) for s in r.served]
        hosts = hosts_text(served) if served else (", ".join(route(res).hostnames) or "every hostname")
        reasons = "; ".join(dict.fromkeys(f"{_where(d)}: {d.message}" for d in found[:3]))
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        yield finding(
            ID, SEVERITY, res,
            f"is dropped whole by Istio ({found[0].reason}): {reasons}{more}; no rule of it is programmed, so for "
            f"{hosts} every request gets 404 while its status still says Accepted",
            fix="remove or replace what Istio cannot translate (see the Istio Gateway API docs for supported filters)",
            detail=f"{found[0].reason}:{_where(found[0])}", line=res.field_line(*found[0].path))


def _where(drop: Drop) -> str:
    out = ""
    for step in drop.path[1:]:
        out += f"[{step}]" if isinstance(step, int) else (("." if out else "") + step)
    return out


def _grpc_mirrors(res: Resource, ev: Evaluation) -> list[Drop]:
    """GRPCRoute only: a RequestMirror backend that does not resolve drops the route
    (istio `conversion.go` convertGRPCRoute)."""
    r = route(res)
    if r.kind != "GRPCRoute":
        return []
    out = []
    for rule in r.rules:
        for mirror in rule.mirrors:
            failed = resolve(r, mirror, ev)
            if failed is not None and (failed.reason != "RefNotPermitted" or checks_grants(r)):
                out.append(Drop(failed.reason, f"mirror backend {mirror.text} does not resolve: {failed.why}",
                                mirror.path))
    return out
