"""route-backend-unresolved: a route sends part of its traffic to a backend that resolves to nothing."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.backends import NOT_PERMITTED, Resolution, failing, percent, share, without_backends
from bot.gatewayapi.objects import route
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Resource
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, all_fail, effect, evaluation, name, routes, rule_text

ID = "route-backend-unresolved"
SEVERITY = Severity.ERROR
SUMMARY = ("A route's backendRef points at a Service that is not there, across namespaces without a "
           "ReferenceGrant, or at an unknown kind; or a rule has no backend at all")
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "An unresolved backendRef does not detach the route: it stays Accepted, and only the share of requests "
    "weighted to that backend fails (HTTP 500 in Istio, also for GRPCRoute; a rejected connection for TLSRoute "
    "and TCPRoute). The message gives that share from the weights. A backend in another namespace needs a "
    "ReferenceGrant in that namespace that allows the route's kind and namespace (Istio checks it for Gateway "
    "parents, not for mesh parents); removing or narrowing a grant that a route uses breaks it just like "
    "deleting the Service. A rule without backendRefs, or whose weights add up to 0, answers every request "
    "with 500 unless it redirects, while the route's status stays green. A Service the repository does not "
    "hold is reported only when the change removes it or when the repository keeps the other Services of "
    "that namespace. Apply Services and ReferenceGrants before the routes that use them, and move routes off a "
    "backend before removing it."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The specification has a GRPCRoute answer UNAVAILABLE for the share of calls whose backend does not resolve; "
    "Istio answers HTTP 500 for GRPCRoute too (istio pilot/pkg/networking/core/route/route.go, "
    "ClusterNotFoundResponseCode). Istio checks ReferenceGrants only for routes with a Gateway parent: a mesh "
    "(GAMMA) route reaches another namespace without one (route_collections.go, enforceRefGrant = !mesh). A TCP or "
    "TLS rule whose weights add up to 0 goes to a blackhole cluster."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/config/kube/gateway/conversion.go buildHTTPDestination (ReferenceGrants '
    'enforced for Gateway parents)',
    'istio/istio pilot/pkg/config/kube/gateway/route_collections.go HTTPRouteCollection, '
    'GRPCRouteCollection (enforceRefGrant = !mesh)',
    'istio/istio pilot/pkg/networking/core/route/route.go ClusterNotFoundResponseCode (HTTP 500)',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    for res in routes(ctx):
        r = route(res)
        groups: dict[tuple[str, str], list[Resolution]] = {}
        for failed in failing(res, ev):
            groups.setdefault((failed.reason, failed.ref.text), []).append(failed)
        for (reason, target), group in groups.items():
            yield _unresolved(res, reason, target, group, ev)
        for rule in without_backends(r):
            line = res.field_line("spec", "rules", rule.index) if r.rules_written else res.field_line("spec")
            what = "has no backendRefs" if not rule.backends else "gives all its backendRefs weight 0"
            where = rule_text(rule.index, rule.name) if r.rules_written else "the default rule (spec.rules is empty)"
            yield finding(
                ID, SEVERITY, res,
                f"{where} {what}: {all_fail(res.kind)}, although the route's status stays Accepted and "
                "ResolvedRefs (NoBackends)",
                fix="add a backendRef with a weight above 0, or a RequestRedirect filter",
                detail=f"NoBackends:rules[{rule.index}]", line=line)


def _unresolved(res: Resource, reason: str, target: str, found: list[Resolution], ev: Evaluation) -> Finding:
    r = route(res)
    parts = []
    for f in found:
        rule = r.rules[f.ref.rule]
        part, total = share(rule, [f.ref])
        parts.append(f"{rule_text(rule.index, rule.name)} sends {percent(part, total)} (weight {part} of {total})")
    first = found[0]
    why = first.why
    related: list[Resource] = []
    if reason == NOT_PERMITTED and first.grants_before and ev.base is not None:
        grant = first.grants_before[0]
        related.append(grant)
        how = "removes" if ev.head.get(*grant.key) is None else "narrows"
        why += f"; this change {how} {name(ev, grant)}, which allowed it"
    if first.service is not None:
        related.append(first.service)
    message = f"{'; '.join(parts)} of its traffic to {target}, {why} ({reason}): {effect(res.kind)}"
    fix = {"RefNotPermitted": f"add (or keep) a ReferenceGrant in namespace {first.ref.namespace} from "
                              f"{res.kind} in {res.namespace} to {first.ref.kind}, before the route uses it",
           "BackendNotFound": "create the Service before the route points at it, or move the route off it before "
                              "deleting it",
           }.get(reason, "use a Service (group \"\", kind Service) or a kind Istio supports")
    return finding(ID, SEVERITY, res, message, fix=fix, detail=f"{reason}:{target}", related=related,
                   line=res.field_line(*first.ref.path))

