"""exportto-widened: a resource becomes visible to namespaces that could not see it."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.rules.base import BEST_PRACTICES, finding
from bot.rules.shared.exports import visibility_changes

ID = "exportto-widened"
SEVERITY = Severity.WARNING
SUMMARY = "A VirtualService, DestinationRule, ServiceEntry or Service becomes visible to more namespaces"
GUIDANCE = BEST_PRACTICES + "#cross-namespace-configuration"
DIFF_ONLY = True
READS: tuple[str, ...] = ('export-to-defaults',)
WHY = (
    "exportTo decides which namespaces' proxies apply a VirtualService, DestinationRule or ServiceEntry "
    "(and, through the networking.istio.io/exportTo annotation, a Service). Widening it changes routing and "
    "policy for every client in the newly reached namespaces, which is rarely what the author of a one-team "
    "change intends. The finding names the namespaces that gain it."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pkg/config/visibility/visibility.go',
    'istio/istio pilot/pkg/model/push_context.go (exportTo indexes per kind)',
)
def check(ctx: Context) -> Iterator[Finding]:
    for vc in visibility_changes(ctx):
        gained = vc.after.gained(vc.before)
        if gained.empty:
            continue
        yield finding(
            ID, SEVERITY, vc.head,
            f"becomes visible to {gained.describe()} (was: {vc.before.describe()}); proxies there now apply it, "
            "which can change routing or policy for their own clients",
            fix="export it only to the namespaces that need it ('.' or explicit names)",
            detail=f"{vc.before.describe()}->{vc.after.describe()}", line=vc.line)
