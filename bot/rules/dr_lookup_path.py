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
    "A client proxy looks for a DestinationRule in its own namespace first, then in the namespace of the "
    "service, then in the root namespace, and uses the first match; nothing merges across namespaces. A "
    "DestinationRule for another team's service therefore applies only to clients in its own namespace, and "
    "a DestinationRule in a client or the root namespace (wildcards such as *.local included) can hide the "
    "owner's subsets and TLS settings from those clients."
)


def _has_tls(dr: Resource) -> bool:
    return bool(as_dict(dr.spec.get("trafficPolicy")).get("tls"))


def _shadowing(mesh: Mesh, dr: Resource, host: str) -> tuple[list[str], list[Resource], list[Resource]]:
    """What `dr` hides from clients in its namespace: (items, VirtualServices, owner DRs)."""
    hidden: list[str] = []
    users: list[Resource] = []
    owners: list[Resource] = []
    for vs, dest in mesh.routes_to(host):
        owner_ns = mesh.service_namespaces(dest.host)
        if dr.namespace in owner_ns or dr.namespace not in mesh.clients(vs):
            continue
        used = mesh.destination_rules_for(dest.host, dr.namespace)
        if dr not in used:
            continue
        owner = [d for d in mesh.destination_rules_for(dest.host, dr.namespace, skip=dr.namespace)
                 if d.namespace in owner_ns]
        if not owner:
            continue
        mine = {s for d in used for s in dr_subsets(d)}
        theirs = {s for d in owner for s in dr_subsets(d)}
        lost = []
        if dest.subset and dest.subset in theirs and dest.subset not in mine:
            lost.append(f"subset {dest.subset} of {dest.host}")
        if any(_has_tls(d) for d in owner) and not _has_tls(dr):
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
        if hidden:
            who = f"clients in {dr.namespace}"
            if dr.namespace == root:
                who += " (gateways running in the root namespace)"
            yield finding(
                ID, SEVERITY, dr,
                f"takes precedence over {', '.join(sorted({o.display for o in owner_drs}))} for {who}, "
                f"hiding {', '.join(hidden)} that {', '.join(sorted({u.display for u in users}))} rely on; "
                "those requests fail (lookup is client namespace first, and nothing merges across namespaces)",
                fix="define the missing subsets/TLS here too, or narrow this DestinationRule's host",
                detail="shadow:" + ",".join(hidden), related=[*owner_drs, *users],
                line=dr.field_line("spec", "host"))
            continue
        if "*" in host or not owners or dr.namespace == root:
            continue
        yield finding(
            ID, SEVERITY, dr,
            f"is in namespace {dr.namespace}, but {host} belongs to {', '.join(sorted(owners))}: it applies only to "
            f"clients in {dr.namespace}; clients elsewhere look in {', '.join(sorted(owners))} and then {root} and "
            "never see it",
            fix=f"move it to namespace {sorted(owners)[0]} (or {root} for a mesh-wide default)",
            detail="misplaced", line=dr.field_line("metadata", "namespace") or dr.field_line("spec", "host"))
