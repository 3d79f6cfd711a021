"""subset-missing: a route names a subset that no DestinationRule its clients use defines."""

from __future__ import annotations

from collections.abc import Iterator

from bot import hosts as H
from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding, names, scope
from bot.views import dr_host, dr_subsets, vs_destinations
from bot.visibility import OTHER

ID = "subset-missing"
SEVERITY = Severity.ERROR
SUMMARY = "A VirtualService routes to a subset that no DestinationRule its clients use defines"
GUIDANCE = BEST_PRACTICES + "#avoid-503-errors-while-reconfiguring-service-routes"
DIFF_ONLY = False
READS: tuple[str, ...] = ("root-namespace", "export-to-defaults", "gateway-namespaces")
WHY = (
    "At the head of the PR a VirtualService routes (or mirrors) to a subset that no DestinationRule its "
    "clients use defines: a typo, a deleted DestinationRule, a subset removed while still referenced, or a "
    "DestinationRule that sits where the clients never look. Clients look for a DestinationRule in their own "
    "namespace, then in the service's namespace, then in the root namespace, and use the first one they "
    "find; subsets do not merge across namespaces. Clients in the root namespace consult the root's private "
    "rules first, then the service's namespace, and public root rules last. Destinations inside a delegate "
    "VirtualService are used by the clients of the roots that delegate to it (the gateway pods of the root's "
    "gateways, or the root's mesh audience), not by the delegate's own audience. Every request to the missing "
    "subset fails with 503."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/push_context.go setDestinationRules, destinationRule (lookup order)',
    'istio/istio pilot/pkg/model/virtualservice_controller.go mergeVirtualServices (delegates merged into their roots)',
    'istio/istio pkg/config/analysis/analyzers/virtualservice/destinationrules.go (IST0101, which ignores'
    ' the lookup path)',
)


def check(ctx: Context) -> Iterator[Finding]:
    mesh = ctx.head
    for vs in ctx.subjects("VirtualService"):
        seen = set()
        for dest in vs_destinations(vs):
            if not dest.subset or (dest.host, dest.subset) in seen:
                continue
            seen.add((dest.host, dest.subset))
            every = mesh.all_clients_use_one_of(dest.host)
            if every and all(dest.subset in dr_subsets(dr) for dr in every):
                continue  # whichever DestinationRule a client finds defines the subset
            clients = mesh.clients(vs)
            used: dict[str, list[Resource]] = {}
            missing: list[str] = []
            for group, drs in mesh.lookup_groups(dest.host, clients):
                if not any(dest.subset in dr_subsets(dr) for dr in drs):
                    missing += group
                    used.update((client, drs) for client in group)
            missing.sort(key=clients.index)
            if not missing:
                continue
            defining = [dr for dr in mesh.of("DestinationRule")
                        if (h := dr_host(dr)) and H.covers(h, dest.host) and dest.subset in dr_subsets(dr)]
            everyone = OTHER in missing and len(missing) == len(clients)
            who = "all clients" if everyone else "clients in " + ", ".join(missing)
            roots = mesh.roots(vs)
            if roots:
                who += f" (through {names(roots)}, which delegates to it)"
            if not defining:
                message = (f"routes to subset {dest.subset} of {dest.host}, but no DestinationRule in "
                           f"{scope(vs)} defines it; requests from {who} get 503s (no healthy upstream)")
                fix = f"add subset {dest.subset} to the DestinationRule for {dest.host}, or route elsewhere"
            else:
                shadow = sorted({dr.display for c in missing for dr in used[c]})
                on_path = f"they use {', '.join(shadow)} instead" if shadow else "none is on their lookup path"
                message = (f"routes to subset {dest.subset} of {dest.host}; {names(defining)} defines it, but "
                           f"{who} do not use that DestinationRule ({on_path}: lookup is client "
                           "namespace, then service namespace, then root namespace)")
                fix = ("define the subset in the DestinationRule those clients use, or move the DestinationRule to "
                       "the service's namespace")
            yield finding(ID, SEVERITY, vs, message, fix=fix, detail=f"{dest.host}/{dest.subset}|{who}",
                          related=defining, line=vs.field_line(*dest.path))

