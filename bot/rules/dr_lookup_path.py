"""dr-lookup-path: a DestinationRule sits where only some clients look, or hides the owner's."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding
from bot.values import as_dict
from bot.views import dr_host, dr_subsets

ID = "dr-lookup-path"
SEVERITY = Severity.WARNING
SUMMARY = "A DestinationRule applies only to clients in its own namespace, or shadows the service owner's"
GUIDANCE = BEST_PRACTICES + "#cross-namespace-configuration"
DIFF_ONLY = False
READS: tuple[str, ...] = ('root-namespace',)
WHY = (
    "A client proxy looks for a DestinationRule in its own namespace, then in the service's namespace, then in "
    "the root namespace, and uses the first match; nothing merges across namespaces. For clients in the root "
    "namespace (often the ingress gateway's pods) only the root namespace's private rules come first; a public "
    "root-namespace rule such as a mesh-wide *.local default comes last for them too. A DestinationRule for "
    "another team's service therefore applies only to clients in its own namespace, and one in a client "
    "namespace (wildcards included) can hide the owner's subsets and TLS settings. A DestinationRule with a "
    "workloadSelector applies only to the workloads it selects in its own namespace and is never exported, so "
    "it is not misplaced; but for the other workloads of its namespace it still ends the lookup and leaves them "
    "with no DestinationRule at all (istio/istio#57719)."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/push_context.go setDestinationRules, destinationRule',
    'istio/istio pilot/pkg/model/sidecar.go SidecarScope.DestinationRule (workload-selected rules)',
    'istio/istio#57719, #52691 (a workload-selected rule hides the others for unselected workloads)',
)


def _has_tls(dr: Resource) -> bool:
    return bool(as_dict(dr.spec.get("trafficPolicy")).get("tls"))


def _selective(dr: Resource) -> bool:
    """A workloadSelector: the rule applies only to the workloads it selects in its own namespace."""
    return bool(as_dict(as_dict(dr.spec.get("workloadSelector")).get("matchLabels")))


def _shadowing(mesh: Mesh, dr: Resource, host: str) -> tuple[list[str], list[Resource], list[Resource]]:
    """What `dr` hides from clients in its namespace: (items, VirtualServices, owner DRs).

    The lookup ends in the client's namespace when `dr` is found there; for a selector rule, the
    workloads it does not select then get no rule at all (`sidecar.go` SidecarScope.DestinationRule).
    """
    hidden: list[str] = []
    users: list[Resource] = []
    owners: list[Resource] = []
    for vs, dest in mesh.routes_to(host):
        owner_ns = mesh.service_namespaces(dest.host)
        if dr.namespace in owner_ns or dr.namespace not in mesh.clients(vs):
            continue
        found = mesh.dr_lookup(dest.host, dr.namespace)
        if dr not in mesh.resources_of(found.candidates):
            continue
        owner = [d for d in mesh.destination_rules_for(dest.host, dr.namespace, skip=dr.namespace)
                 if d.namespace in owner_ns]
        if not owner:
            continue
        applied = mesh.resources_of(found.applied)
        mine = {s for d in applied for s in dr_subsets(d)}
        theirs = {s for d in owner for s in dr_subsets(d)}
        lost = []
        if dest.subset and dest.subset in theirs and dest.subset not in mine:
            lost.append(f"subset {dest.subset} of {dest.host}")
        if any(_has_tls(d) for d in owner) and not any(_has_tls(d) for d in applied):
            lost.append(f"TLS settings of {dest.host}")
        if lost:
            hidden += [item for item in lost if item not in hidden]
            users.append(vs)
            owners += owner
    return hidden, list(dict.fromkeys(users)), list(dict.fromkeys(owners))


def check(ctx: Context) -> Iterator[Finding]:
    mesh, root = ctx.head, ctx.config.root_namespace
    for dr in ctx.subjects("DestinationRule"):
        host = dr_host(dr)
        if not host:
            continue
        owners = mesh.service_namespaces(host)
        if dr.namespace in owners and "*" not in host:
            continue  # the owner's own DestinationRule
        hidden, users, owner_drs = _shadowing(mesh, dr, host)
        theirs = ", ".join(sorted({o.display for o in owner_drs}))
        if hidden and _selective(dr):
            yield finding(
                ID, SEVERITY, dr,
                f"selects some workloads of {dr.namespace}, but for the others it still ends the DestinationRule "
                f"lookup in {dr.namespace}: they get no DestinationRule for {host} at all, not {theirs}, and lose "
                f"{', '.join(hidden)} that {', '.join(sorted({u.display for u in users}))} rely on; those requests "
                "fail (istio/istio#57719)",
                fix=f"add a DestinationRule without workloadSelector for {host} in {dr.namespace} that defines what "
                    "the other workloads need",
                detail="selector-shadow:" + ",".join(hidden), related=[*owner_drs, *users],
                line=dr.field_line("spec", "workloadSelector"))
            continue
        if hidden:
            who = f"clients in {dr.namespace}"
            if dr.namespace == root:
                who += " (gateways running in the root namespace)"
            yield finding(
                ID, SEVERITY, dr,
                f"takes precedence over {theirs} for {who}, "
                f"hiding {', '.join(hidden)} that {', '.join(sorted({u.display for u in users}))} rely on; "
                "those requests fail (lookup is client namespace first, and nothing merges across namespaces)",
                fix="define the missing subsets/TLS here too, or narrow this DestinationRule's host",
                detail="shadow:" + ",".join(hidden), related=[*owner_drs, *users],
                line=dr.field_line("spec", "host"))
            continue
        if "*" in host or not owners or dr.namespace == root or _selective(dr):
            continue  # a selector rule is meant for its own namespace's workloads and cannot be exported
        yield finding(
            ID, SEVERITY, dr,
            f"is in namespace {dr.namespace}, but {host} belongs to {', '.join(sorted(owners))}: it applies only to "
            f"clients in {dr.namespace}; clients elsewhere look in {', '.join(sorted(owners))} and then {root} and "
            "never see it",
            fix=f"move it to namespace {sorted(owners)[0]} (or {root} for a mesh-wide default)",
            detail="misplaced", line=dr.field_line("metadata", "namespace") or dr.field_line("spec", "host"))
