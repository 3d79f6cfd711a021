"""dr-move-order: a DestinationRule renamed or moved to another namespace in one step."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio.dr_moves import DrVersion, Move, clients_losing, risks
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding
from bot.views import dr_host, dr_subsets, vs_gateways

ID = "dr-move-order"
SEVERITY = Severity.WARNING  # error when subsets routes use are lost, or a short host changes meaning
SUMMARY = "A DestinationRule is renamed or moved to another namespace in one step"
GUIDANCE = BEST_PRACTICES + "#avoid-503-errors-while-reconfiguring-service-routes"
DIFF_ONLY = True
READS: tuple[str, ...] = ("root-namespace", "export-to-defaults")
WHY = (
    "A rename or a namespace move deletes one DestinationRule and creates another. Applied together, proxies "
    "can receive the deletion first and lose the subsets and policy that routes use (503). The staged plan "
    "applies the new rule, waits until it is distributed, then deletes the old one. While both exist in one "
    "namespace with the same exportTo, Istio merges them into the older one, so a changed traffic policy "
    "lands only when the old rule is deleted. Across namespaces nothing merges and the lookup order decides: "
    "clients are compared per host before and after the move, and those that used the old rule and will not "
    "find the new one (a narrower exportTo, or a namespace they do not consult) are named. A short host "
    "resolves against the rule's namespace, so moving host: reviews changes the host it names. Error when "
    "subsets that routes use are lost, or a short host changes meaning; warning otherwise."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/destination_rule.go mergeDestinationRule (the older rule wins; istio/istio#33147)',
    'istio/istio pilot/pkg/model/push_context.go setDestinationRules, destinationRule (lookup order)',
    "istio/istio pilot/pkg/model/config.go ResolveShortnameToFQDN (short hosts resolve against the rule's namespace)",
)


def _users(mesh: Mesh, host: str, subsets: set[str]) -> tuple[list[Resource], set[str]]:
    """VirtualServices at head routing to `host` through one of `subsets`, and the subsets they use."""
    users: list[Resource] = []
    used: set[str] = set()
    for vs, dest in mesh.routes_to(host):
        if dest.subset and dest.subset in subsets:
            used.add(dest.subset)
            if vs not in users:
                users.append(vs)
    return users, used


def _who(users: list[Resource], verb: str) -> str:
    """`VirtualService a/b routes`, `VirtualService a/b and VirtualService c/d route`."""
    return ", ".join(u.display for u in users) + (f" {verb}s" if len(users) == 1 else f" {verb}")


def _listed(subsets: set[str] | tuple[str, ...]) -> str:
    names = sorted(subsets)
    return "subset " + names[0] if len(names) == 1 else "subsets " + ", ".join(names[:-1]) + " and " + names[-1]


def _clients(mesh: Mesh, host: str) -> list[str]:
    """Namespaces the repository shows calling `host`: where a VirtualService routing to it lives (its own
    sidecars apply it), and where the pods of the gateways it is bound to run."""
    out: list[str] = []
    for vs, _ in mesh.routes_to(host):
        shown = {vs.namespace} | {mesh.workload_namespace(gw) for ref in vs_gateways(vs) if (gw := mesh.gateway(ref))}
        out += [c for c in mesh.clients(vs) if c in shown]
    return list(dict.fromkeys(out))


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    head = ctx.head
    for old, new in ctx.subsets.moves:  # paired once, with the subset changes (bot.istio.dr_moves.pair_moves)
        host = dr_host(old)
        if not host:
            continue
        move = Move(DrVersion(old.namespace, old.name, old.spec), DrVersion(new.namespace, new.name, new.spec))
        users, used = _users(head, host, set(dr_subsets(old)))
        found = risks(move, used)
        named = old.display if move.kind == "rename" else f"{old.display}, moving it to {new.namespace}"
        related = [old, *users]
        if move.short_host_moved:
            lost = f"; the {_listed(used)} that {_who(users, 'use')} are lost" if used else ""
            yield finding(
                ID, Severity.ERROR, new,
                f"replaces {named}, but its host {move.new.raw_host} is a short name: written in {new.namespace} it "
                f"means {move.new.host}, not {host}, so no client gets this rule for {host}{lost}",
                fix=f"write the full host name {host}", detail=f"short-host:{old.namespace}/{old.name}",
                related=related, line=new.field_line("spec", "host"))
            continue
        yield from _findings(ctx, move, old, new, host, users, used, found.missing_subsets, found.policy_changed,
                             named, related)


def _findings(ctx: Context, move: Move, old: Resource, new: Resource, host: str, users: list[Resource],
              used: set[str], missing: tuple[str, ...], policy_changed: bool, named: str,
              related: list[Resource]) -> Iterator[Finding]:
    base, head = ctx.base, ctx.head
    if base is None:
        return
    steps = f"apply {new.display}, wait until it is distributed, then delete {old.display}"
    detail = f"{old.namespace}/{old.name}"
    line = new.field_line("metadata", "namespace" if move.kind == "move" else "name")
    if missing:
        yield finding(
            ID, Severity.ERROR, new,
            f"replaces {named} without its {_listed(missing)}, which {_who(users, 'route')} to; requests "
            f"to {'it' if len(missing) == 1 else 'them'} fail with 503 once the old DestinationRule is deleted",
            fix=f"define {_listed(missing)} in {new.display}, then {steps}", detail=detail + ":missing",
            related=related, line=line)
        return
    if move.kind == "move":
        losing = clients_losing(move, _clients(head, host) or _clients(base, host),
                                lambda c: base.dr_index.applied(host, c), lambda c: head.dr_index.applied(host, c))
        if losing:
            who = ", ".join(losing)
            what = (f"the {_listed(used)} that {_who(users, 'route')} to (503)" if used
                    else "its traffic policy")
            yield finding(
                ID, Severity.ERROR if used else SEVERITY, new,
                f"replaces {named}; clients in {who} used it for {host} and get "
                f"{'another' if any(head.dr_index.applied(host, c) for c in losing) else 'no'} DestinationRule "
                f"after the move (exportTo and the lookup order: client namespace, service namespace, root "
                f"namespace), so they lose {what}",
                fix=f"export {new.display} to {who}, or keep it where those clients look; then {steps}",
                detail=detail + ":clients", related=related, line=line)
            return
    if used:
        note = ("; its traffic policy differs too and, while both exist, the older rule's applies: the change lands "
                "only when the old one is deleted" if policy_changed and move.kind == "rename" else "")
        yield finding(
            ID, SEVERITY, new,
            f"replaces {named} (same host, same subsets); applied in one step, the deletion can reach proxies "
            f"first and routes of {', '.join(u.display for u in users)} to {_listed(used)} get 503s until the new "
            f"one arrives{note}",
            fix=steps + " (the staged plan does)", detail=detail + ":order", related=related, line=line)
    elif policy_changed and move.kind == "rename":
        yield finding(
            ID, SEVERITY, new,
            f"replaces {named} with another traffic policy; while both exist the older rule's policy applies, so "
            "the change lands only when the old one is deleted",
            fix=steps, detail=detail + ":policy", related=related, line=line)
