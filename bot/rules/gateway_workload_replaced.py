"""gateway-workload-replaced: a change makes Istio replace a Gateway's Deployment, Service and address."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.istio import is_istio_ingress, workload
from bot.gatewayapi.kinds import GATEWAY
from bot.gatewayapi.listeners import gateway_renames
from bot.resource import Resource
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, evaluation, name, wanted

ID = "gateway-workload-replaced"
SEVERITY = Severity.WARNING
SUMMARY = ("A Gateway rename, class change or name-override change makes Istio replace its Deployment and "
           "Service, and with it the external address")
GUIDANCE = GATEWAY_API + "#manual-deployment"
DIFF_ONLY = True
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "For a Gateway without spec.addresses naming a Service, Istio deploys a Deployment and a LoadBalancer "
    "Service named <gateway>-<gatewayClassName> (or the gateway.istio.io/name-override annotation), owned by "
    "the Gateway (istio pilot/pkg/config/kube/gatewaycommon/gateway_utils.go GetDefaultName, "
    "deploymentcontroller.go). Renaming the Gateway (a delete and a create), changing its class or the "
    "override, or switching between managed and manual deployment deletes that Service and creates another: "
    "the load balancer address changes, and DNS records and clients that point at the old one fail until they "
    "are updated. Routes that still name the old Gateway are reported by route-detached."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The specification does not say how a Gateway is deployed. Istio deploys a Deployment and a Service per "
    "Gateway named after it and its class (istio pilot/pkg/config/kube/gatewaycommon/gateway_utils.go "
    "GetDefaultName), so the name and class decide the address; an implementation with one shared data plane would "
    "keep it."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/config/kube/gatewaycommon/gateway_utils.go GetDefaultName',
    'istio/istio pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    head, base = ev.head, ev.base
    if base is None:
        return
    for old_key, new in gateway_renames(ev).items():
        old = base.get(*old_key)
        if old is not None and wanted(ctx, new) and is_istio_ingress(new, head) and is_istio_ingress(old, base):
            yield _finding(new, old, f"renames {name(ev, old)} to {new.name} (a delete and a create)")
    for gw in ctx.subjects(GATEWAY):
        old = base.get(*gw.key)
        if old is None or not (is_istio_ingress(gw, head) and is_istio_ingress(old, base)):
            continue
        before, after = workload(old), workload(gw)
        if before.services != after.services and (before.managed or after.managed):
            yield _finding(gw, old, "changes how Istio deploys it")


def _finding(new: Resource, old: Resource, what: str) -> Finding:
    before, after = workload(old), workload(new)
    was = f"Istio-deployed Service {before.text()}" if before.managed else f"the pods behind {before.text()}"
    now = f"a new Istio-deployed Service {after.text()}" if after.managed else f"the pods behind {after.text()}"
    moves = (f"Istio deletes Service {before.text()} with the old Gateway and creates it again for the new one"
             if before.services == after.services else f"its traffic moves from {was} to {now}")
    return finding(
        ID, SEVERITY, new,
        f"{what}: {moves}; the external address changes, and DNS records or clients that point at the old one fail "
        "until they are updated",
        fix="keep the Gateway's name and class (or set gateway.istio.io/name-override to the old name), or plan "
            "the address change: create the new Gateway, move DNS, then delete the old one",
        detail=f"{before.text()}->{after.text()}", related=[old] if old.key != new.key else [],
        line=new.field_line("metadata", "name") if old.key != new.key else new.field_line("spec"))
