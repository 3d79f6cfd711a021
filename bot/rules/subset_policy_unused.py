"""subset-policy-unused: a subset's own trafficPolicy that no route ever activates."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.rules.base import BEST_PRACTICES, finding
from bot.values import as_dict, as_list, as_str
from bot.views import dr_host

ID = "subset-policy-unused"
SEVERITY = Severity.NOTICE
SUMMARY = "A subset carries a trafficPolicy but no VirtualService routes to the subset"
GUIDANCE = BEST_PRACTICES + "#set-default-routes-for-services"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "A subset's own trafficPolicy is applied only when a route explicitly selects the subset. If no "
    "VirtualService routes to the subset, default round-robin traffic reaches its pods without the policy. "
    "Move the policy to the top level or add a route that selects the subset."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'https://istio.io/latest/docs/ops/best-practices/traffic-management/#set-default-routes-for-services',
    "istio/istio pilot/pkg/networking/core/cluster.go (a subset's policy applies to its own cluster only)",
)


def check(ctx: Context) -> Iterator[Finding]:
    # A subset's policy applies only when a route explicitly selects the subset.
    mesh = ctx.head
    for dr in ctx.subjects("DestinationRule"):
        host = dr_host(dr)
        if not host:
            continue
        for i, raw in enumerate(as_list(dr.spec.get("subsets"))):
            subset = as_dict(raw)
            name = as_str(subset.get("name"))
            if not name or not subset.get("trafficPolicy"):
                continue
            if any(d.subset == name for _, d in mesh.routes_to(host)):
                continue
            yield finding(
                ID, SEVERITY, dr,
                f"subset {name} of {host} has its own trafficPolicy, but no VirtualService routes to it, so the "
                "policy is never applied (default round-robin traffic ignores subset policies)",
                fix="move the policy to the top-level trafficPolicy, or add a route to the subset",
                detail=name, line=dr.field_line("spec", "subsets", i, "trafficPolicy"))
