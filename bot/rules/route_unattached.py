"""route-unattached: a parentRef of a route that no listener (or Service) accepts."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.attachment import evaluate
from bot.gatewayapi.kinds import failure
from bot.gatewayapi.objects import route
from bot.rules.base import finding
from bot.rules.shared.gateway_api import ATTACHMENT_SOURCES, GATEWAY_API, evaluation, routes

ID = "route-unattached"
SEVERITY = Severity.WARNING
SUMMARY = "A route's parentRef attaches to no listener: wrong sectionName or port, allowedRoutes, or hostnames"
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "Istio checks each parentRef against every listener of its Gateway: the parentRef's port, then its "
    "sectionName (NoMatchingParent), then the hostnames together with the namespaces the listener allows "
    "(NoMatchingListenerHostname, or NotAllowedByListeners when a hostname matches but the namespace is not "
    "allowed), then the route kind (NotAllowedByListeners). A parentRef no listener accepts serves nothing: "
    "its requests get 404 or its connections are refused. The reason in the message is the one Istio writes "
    "into the route's status. A parentRef to a Service (GAMMA) needs the Service to exist. When the verdict "
    "depends on the labels of a Namespace the repository does not define, the finding is a notice that says "
    "so. Routes that attached at the base are reported by route-detached instead."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The reasons are the ones Istio writes: it checks the port, then the sectionName, then the hostnames together "
    "with the namespaces the listener allows, then the kind, and reports NotAllowedByListeners over "
    "NoMatchingListenerHostname over NoMatchingParent (istio pilot/pkg/config/kube/gateway/conversion.go, "
    "conditions.go). For a TLSRoute on a listener that is not TLS the specification asks for UnsupportedValue; "
    "Istio and the conformance suite use NotAllowedByListeners. `from: Selector` without a selector admits every "
    "namespace in Istio (namespacesFromSelector). Gateways of another controller's class are not Istio's and are "
    "left alone."
)


SOURCES = ATTACHMENT_SOURCES  # the behaviour it follows


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    for res in routes(ctx):
        failing = [r for r in evaluate(res, ev) if r.state in ("detached", "unknown")]
        if not failing:
            continue
        before = ev.base.get(*res.key) if ev.base is not None else None
        attached_before = ({r.ref.target for r in evaluate(before, ev.before) if r.attached}
                           if before is not None and ev.before is not None else set())
        for r in failing:
            if r.ref.target in attached_before:
                continue
            hosts = ", ".join(route(res).hostnames) or "every hostname"
            effect = (f"mesh traffic to {r.ref.name}.{r.ref.namespace} does not follow this route" if r.ref.is_mesh
                      else f"for {hosts}, {failure(res.kind)}")
            where = f"parentRefs[{r.ref.index}] ({r.ref.label(ev.mixed)})"
            if r.state == "unknown":
                yield finding(ID, Severity.NOTICE, res, f"{where}: cannot tell whether it attaches: {r.message}",
                              fix="add the Namespace (with its labels) to the repository, or use from: Same/All",
                              detail=f"{r.ref.index}:{r.ref.text}:unknown", related=[r.parent] if r.parent else [],
                              line=res.field_line("spec", "parentRefs", r.ref.index))
                continue
            why = f"{r.message}, {r.why_absent}" if r.why_absent else r.message
            yield finding(
                ID, SEVERITY, res,
                f"{where} attaches to nothing ({r.reason}): {why}; {effect}",
                fix="match the parentRef's sectionName/port to a listener, and the listener's allowedRoutes and "
                    "hostname to the route", detail=f"{r.ref.index}:{r.ref.text}:{r.reason}",
                related=[r.parent] if r.parent else [], line=res.field_line("spec", "parentRefs", r.ref.index))
