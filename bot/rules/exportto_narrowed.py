"""exportto-narrowed: a resource becomes invisible to namespaces that could see it."""

from __future__ import annotations

from collections.abc import Iterator

from bot import hosts as H
from bot.context import Context
from bot.findings import Finding, Severity
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding
from bot.rules.shared.exports import visibility_changes
from bot.views import dr_host, dr_subsets, se_hosts, service_host, vs_destinations, vs_gateways
from bot.visibility import Visibility

ID = "exportto-narrowed"
SEVERITY = Severity.NOTICE  # error when a consumer loses something it uses
SUMMARY = "A VirtualService, DestinationRule, ServiceEntry or Service becomes invisible to namespaces that use it"
GUIDANCE = BEST_PRACTICES + "#cross-namespace-configuration"
DIFF_ONLY = True
READS: tuple[str, ...] = ('export-to-defaults', 'gateway-namespaces')
WHY = (
    "Narrowing exportTo is as dangerous as widening it. A gateway applies only the VirtualServices visible "
    "to the namespace its pods run in, so a VirtualService bound to an ingress Gateway in istio-system and "
    "narrowed to its own namespace silently loses its routes; a DestinationRule or ServiceEntry that stops "
    "being visible to the clients that use it breaks their subsets or their access to the host. Error when "
    "something in the repository loses what it uses, notice otherwise."
)


def _consumers(base: Mesh, head: Mesh, old: Resource, new: Resource, lost: Visibility) -> list[str]:
    """What stops working: sentences naming the consumer."""
    out = []
    if new.kind == "VirtualService":
        # A gateway applies only the VirtualServices visible to the namespace its pods run in
        # (push_context.go VirtualServicesForGateway).
        for ref in vs_gateways(new):
            gw = head.gateway(ref)
            if gw is None:
                continue
            ns = head.workload_namespace(gw)
            if lost.sees(ns):
                out.append(f"{gw.display} (pods in {ns}) silently drops these routes")
    elif new.kind == "DestinationRule":
        host = dr_host(new)
        for vs in head.of("VirtualService"):
            for client in head.clients(vs):
                if not lost.sees(client):
                    continue
                for dest in vs_destinations(vs):
                    if (host and dest.subset and H.covers(host, dest.host) and dest.subset in dr_subsets(new)
                            and any(d.key == old.key for d in base.destination_rules_for(dest.host, client))
                            and not any(dest.subset in dr_subsets(d)
                                        for d in head.destination_rules_for(dest.host, client))):
                        out.append(f"{vs.display} routes clients in {client} to subset {dest.subset}, which they lose")
    else:
        hosts = se_hosts(new) if new.kind == "ServiceEntry" else [service_host(new)]
        for vs in head.of("VirtualService"):
            lost_clients = [c for c in head.clients(vs) if lost.sees(c)]
            if lost_clients and any(d.host in hosts for d in vs_destinations(vs)):
                out.append(f"{vs.display} routes to {new.display} for clients in {', '.join(lost_clients)}")
    return list(dict.fromkeys(out))


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    for vc in visibility_changes(ctx):
        lost = vc.after.lost(vc.before)
        if lost.empty:
            continue
        broken = _consumers(ctx.base, ctx.head, vc.base, vc.head, lost)
        detail = f"{vc.before.describe()}->{vc.after.describe()}"
        if broken:
            yield finding(
                ID, Severity.ERROR, vc.head, f"is no longer visible to {lost.describe()}: {'; '.join(broken)}",
                fix="keep it exported to the namespaces listed (for a Gateway: the namespace its pods run in)",
                detail=detail, line=vc.line)
        else:
            yield finding(
                ID, SEVERITY, vc.head,
                f"is no longer visible to {lost.describe()} (now: {vc.after.describe()}); nothing in this repository "
                "uses it from there, but workloads deployed elsewhere might",
                detail=detail, line=vc.line)
