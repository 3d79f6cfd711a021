"""subset-remove-order: a subset and the last route to it leave in the same change."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding, names
from bot.views import vs_destinations

ID = "subset-remove-order"
SEVERITY = Severity.WARNING
SUMMARY = "A subset is removed in the same change that removes the last routes to it"
GUIDANCE = BEST_PRACTICES + "#avoid-503-errors-while-reconfiguring-service-routes"
DIFF_ONLY = True
READS: tuple[str, ...] = ()
WHY = (
    "The reverse of subset-add-order: when a PR removes a subset and, in the same apply, removes the last "
    "routes to it, proxies can lose the subset while they still route to it and answer 503. Remove the "
    "references first, wait, then remove the subset."
)


def dropped_references(ctx: Context, host: str, subset: str) -> list[Resource]:
    """VirtualServices that routed to host/subset at base and no longer do at head."""
    out = []
    for change in ctx.changed("VirtualService"):
        if change.base is None:
            continue
        before = {(d.host, d.subset) for d in vs_destinations(change.base)}
        after = {(d.host, d.subset) for d in vs_destinations(change.head)} if change.head else set()
        if (host, subset) in before and (host, subset) not in after:
            out.append(change.head or change.base)
    return out


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    for (host, subset), dr in sorted(ctx.subsets.removed.items()):
        users = dropped_references(ctx, host, subset)
        if not users or ctx.head.subset_users(host, subset):
            continue  # nobody stopped using it here, or someone still does (subset-missing)
        removal = "deletes" if ctx.head.get(*dr.key) is None else "removes subset " + subset + " from"
        yield finding(
            ID, SEVERITY, dr,
            f"this change {removal} {dr.display} while the same change moves {names(users)} off "
            f"{host}/{subset}; "
            "applied together, proxies can lose the subset while routes still use it and return 503s",
            fix=f"apply {names(users)} first, wait until it is distributed, then remove the subset",
            detail=f"{host}/{subset}", related=users, line=dr.field_line("spec", "subsets"),
        )
