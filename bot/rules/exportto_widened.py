"""exportto-widened: a resource becomes visible to namespaces that could not see it."""

from __future__ import annotations

from typing import Iterator

from bot.findings import Finding, Severity
from bot.rules.base import BEST_PRACTICES, Context, finding

ID = "exportto-widened"
SEVERITY = Severity.WARNING
SUMMARY = "A VirtualService, DestinationRule, ServiceEntry or Service becomes visible to more namespaces"
GUIDANCE = BEST_PRACTICES + "#cross-namespace-configuration"
DIFF_ONLY = True
READS: tuple[str, ...] = ('export-to-defaults',)  # config keys besides the rule's own settings
WHY = (
    "exportTo decides which namespaces' proxies apply a VirtualService, DestinationRule or ServiceEntry "
    "(and, through the networking.istio.io/exportTo annotation, a Service). Widening it changes routing and "
    "policy for every client in the newly reached namespaces, which is rarely what the author of a one-team "
    "change intends. The finding names the namespaces that gain it."
)
KINDS = ("VirtualService", "DestinationRule", "ServiceEntry", "Service")


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    for change in ctx.changes:
        if change.kind not in KINDS or change.base is None or change.head is None:
            continue
        before, after = ctx.base.visibility(change.base), ctx.head.visibility(change.head)
        gained = after.gained(before)
        if gained.empty:
            continue
        res = change.head
        field = ("metadata", "annotations") if res.kind == "Service" else ("spec", "exportTo")
        yield finding(
            ID, SEVERITY, res,
            f"becomes visible to {gained.describe()} (was: {before.describe()}); proxies there now apply it, "
            "which can change routing or policy for their own clients",
            fix="export it only to the namespaces that need it ('.' or explicit names)",
            detail=f"{before.describe()}->{after.describe()}", line=res.field_line(*field))
