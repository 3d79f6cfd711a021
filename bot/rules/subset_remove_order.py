"""subset-remove-order: subsets and the last routes to them leave in the same change."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding
from bot.views import vs_destinations

ID = "subset-remove-order"
SEVERITY = Severity.WARNING
SUMMARY = "Subsets are removed in the same change that removes the last routes to them"
GUIDANCE = BEST_PRACTICES + "#avoid-503-errors-while-reconfiguring-service-routes"
DIFF_ONLY = True
READS: tuple[str, ...] = ()
WHY = (
    "The reverse of subset-add-order: when a PR removes a subset and, in the same apply, removes the last "
    "routes to it, proxies can lose the subset while they still route to it and answer 503. Remove the "
    "references first, wait, then remove the subset. One finding per DestinationRule and VirtualService, "
    "listing every subset concerned; when the VirtualService is deleted rather than edited, delete it first. "
    "A DestinationRule renamed or moved keeps the subsets its new version still defines."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfigu'
    'ring-service-routes',
    'istio/istio pilot/pkg/networking/core/cluster.go (subset clusters come from the DestinationRule)',
)


def dropped_references(ctx: Context, host: str, subset: str) -> list[tuple[Resource, bool]]:
    """(VirtualService, deleted) for those that routed to host/subset at base and no longer do at head."""
    out = []
    for change in ctx.changed("VirtualService"):
        if change.base is None:
            continue
        before = {(d.host, d.subset) for d in vs_destinations(change.base)}
        after = {(d.host, d.subset) for d in vs_destinations(change.head)} if change.head else set()
        if (host, subset) in before and (host, subset) not in after:
            out.append((change.head or change.base, change.head is None))
    return out


def _list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    pairs: dict[tuple[tuple[str, str, str], tuple[str, str, str]], tuple[Resource, Resource, bool, list[str], str]] = {}
    for (host, subset), dr in sorted(ctx.subsets.removed.items()):
        users = dropped_references(ctx, host, subset)
        if not users or ctx.head.subset_users(host, subset):
            continue  # nobody stopped using it here, or someone still does (subset-missing)
        for vs, deleted in users:
            entry = pairs.setdefault((dr.key, vs.key), (dr, vs, deleted, [], host))
            entry[3].append(subset)
    for dr, vs, deleted, subsets, host in pairs.values():
        many = len(subsets) > 1
        listed = f"subset{'s' if many else ''} {_list(subsets)} of {host}"
        them, it = ("them", "the subsets") if many else ("it", "the subset")
        dr_gone = ctx.head.get(*dr.key) is None
        removal = f"deletes {dr.display}" if dr_gone else f"removes {listed} from {dr.display}"
        subsets_named = f"its {listed}" if dr_gone else them
        if deleted:
            message = (f"this change {removal} together with {vs.display}, which routes to {subsets_named}; "
                       f"applied together, proxies can lose {it} while the routes still exist and return 503s")
            fix = (f"delete {vs.display} first, wait until the deletion is distributed, then "
                   f"{'delete' if dr_gone else 'shrink'} {dr.display}")
        else:
            message = (f"this change {removal} while moving {vs.display} off {subsets_named}; applied "
                       f"together, proxies can lose {it} while routes still use {them} and return 503s")
            fix = (f"apply {vs.display} first, wait until it is distributed, then "
                   f"{'delete' if dr_gone else 'remove ' + it + ' from'} {dr.display}")
        yield finding(ID, SEVERITY, dr, message, fix=fix, detail=f"{vs.namespace}/{vs.name}:{','.join(subsets)}",
                      related=[vs], line=dr.field_line("spec", "subsets"))
