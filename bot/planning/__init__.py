"""Staged apply plan: make before break.

Dependencies between changed resources decide the order
(https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes):
subsets, Gateways, ServiceEntries and Services a route starts using are applied before the
route; a route stops using something before that thing is removed, and moves off a host before a
Gateway change stops serving it. A DestinationRule renamed or moved is applied under its new name (or
namespace) before the old one is deleted. A DestinationRule that both
gains a subset a route needs and loses one a route leaves is applied twice: first with both
subsets, at the end as written.

Gateway API routes the same way (`bot.gatewayapi.rollout`): the Gateway or listener, Service,
ReferenceGrant and Namespace label a route starts to need go first; the route moves off before
they are removed or narrowed. A route that follows a renamed listener is applied twice: first
naming both listeners, at the end as written. A hostname handed from a VirtualService to a route
(or back) is served by the new one before the old one lets go.

Resources an error finding flags are left out, with whatever must follow them: the plan says to
fix those first. Each stage applies repository files as they are where it can (`kubectl apply -f
shop/reviews.yaml`), and generated documents only where it must. A deploy target's helm or
kustomize output is never a repository file as it is: its documents are generated, as rendered.

Modules: `ordering` (the ordering graph's nodes; edges between Istio changes), `route_ordering` (edges between
Gateway API changes, transition parentRefs, notes on DNS), `held_back` (what errors hold back),
`steps` (a change as a step, transition versions), `stages` (levels, titles, waits, whole files).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from bot.context import Context
from bot.findings import Finding
from bot.kinds import qualified_in
from bot.plan import Plan
from bot.planning.held_back import flagged_by, hold_back, left_out_refs
from bot.planning.ordering import Node, istio_edges
from bot.planning.route_ordering import route_plan
from bot.planning.stages import Entry, build_stage, levels_of, whole_files
from bot.planning.steps import step_for, transition_for


def build_plan(ctx: Context, errors: Collection[Finding] = ()) -> Plan:
    """The stages, leaving out what the `errors` flag (and what must follow it): fix those first."""
    if not ctx.changes or ctx.base is None:
        return Plan(())
    changes = {c.key: c for c in ctx.changes}
    edges, both = istio_edges(ctx)
    routes = route_plan(ctx, changes)
    edges |= routes.edges
    bridged = both | set(routes.kept)
    nodes: list[Node] = [(k, "") for k in changes] + [(k, "transition") for k in sorted(bridged)]
    held = hold_back(nodes, edges, flagged_by(errors, changes))
    nodes = [n for n in nodes if n not in held]
    edges = {(a, b) for a, b in edges if a not in held and b not in held}
    left_out = left_out_refs(errors, changes, held)
    if not nodes:
        return Plan((), left_out)
    if not edges:  # a transition version stays one when what follows it is left out
        steps = [transition_for(changes[k], routes) if phase else step_for(changes[k], routes) for k, phase in nodes]
        return Plan((whole_files(0, "Apply all changes in one step", steps, None, {}, held, ctx, routes.notes),),
                    left_out)
    levels = levels_of(nodes, edges)
    linked = {n for edge in edges for n in edge}
    needed = {a for a, b in edges if levels.get(b, 0) > levels.get(a, 0)}
    count = max(levels.values()) + 1
    stages: list[list[Entry]] = []
    for level in range(count):
        entries: list[Entry] = []
        for node in nodes:
            if levels[node] != level:
                continue
            change = changes[node[0]]
            step = transition_for(change, routes) if node[1] else step_for(change, routes)
            if node[0] in bridged and not node[1]:
                what = "the old subsets" if node[0] in both else "the parentRefs kept for the move"
                step = replace(step, note=f"final version: drops {what}")
            entries.append((step, node in linked, node in needed))
        stages.append(entries)
    last = {node[0]: levels[node] for node in nodes if not node[1]}  # the stage of each final version
    names = qualified_in(ctx.head.kinds | ctx.base.kinds)
    return Plan(tuple(build_stage(i, st, i == count - 1, last, held, ctx, routes.notes, names)
                      for i, st in enumerate(stages)), left_out)
