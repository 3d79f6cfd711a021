"""subset-add-order: a subset and the route that uses it arrive in the same change."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.rules.base import BEST_PRACTICES, finding
from bot.views import vs_destinations

ID = "subset-add-order"
SEVERITY = Severity.WARNING
SUMMARY = "A VirtualService starts routing to a subset that the same change adds"
GUIDANCE = BEST_PRACTICES + "#avoid-503-errors-while-reconfiguring-service-routes"
DIFF_ONLY = True
READS: tuple[str, ...] = ()
WHY = (
    "Istio distributes configuration to proxies eventually, one resource at a time. When a PR adds a subset "
    "to a DestinationRule and, in the same apply, a VirtualService starts routing to it, some proxies can "
    "receive the route before the subset exists and answer 503 (no healthy upstream) until the "
    "DestinationRule arrives. Istio's guidance is make-before-break: add the subset, wait for it to "
    "propagate, then route to it."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfigu'
    'ring-service-routes',
    'istio/istio pilot/pkg/networking/core/cluster.go (subset clusters come from the DestinationRule)',
    'istio/istio#6335, #7627 (503s when routes arrive before their subsets)',
)


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    new = ctx.subsets.added
    if not new:
        return
    for change in ctx.changed("VirtualService"):
        if change.head is None:
            continue
        before = {(d.host, d.subset) for d in vs_destinations(change.base)} if change.base else set()
        seen = set()
        for dest in vs_destinations(change.head):
            pair = (dest.host, dest.subset or "")
            if not dest.subset or pair in before or pair not in new or pair in seen:
                continue
            seen.add(pair)
            drs = new[pair]
            yield finding(
                ID, SEVERITY, change.head,
                f"starts routing to subset {dest.subset} of {dest.host}, which {drs[0].display} adds in this "
                "change; applied together, Envoy can get the route before the subset and return 503s",
                fix=f"apply {drs[0].display} first, wait until it is distributed, then apply {change.head.display}",
                detail=f"{dest.host}/{dest.subset}", related=drs, line=change.head.field_line(*dest.path),
            )
