"""dr-fragment-conflict: several DestinationRules for one host in one namespace disagree."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding, losers
from bot.values import as_dict, as_list, as_str, canonical
from bot.views import dr_host, dr_subsets

ID = "dr-fragment-conflict"
SEVERITY = Severity.WARNING
SUMMARY = "DestinationRules for one host in one namespace define a subset twice or two top-level traffic policies"
GUIDANCE = BEST_PRACTICES + "#split-virtual-services"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "DestinationRules for the same host in one namespace are merged: a subset defined twice keeps its first "
    "definition (contents are not merged) and only the first top-level trafficPolicy is used. A second "
    "definition therefore silently has no effect."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/destination_rule.go mergeDestinationRule',
    'istio/istio pilot/pkg/model/push_context.go sortConfigBySelectorAndCreationTime',
)


def _subset_index(dr: Resource, name: str) -> int | None:
    for i, subset in enumerate(as_list(dr.spec.get("subsets"))):
        if as_str(as_dict(subset).get("name")) == name:
            return i
    return None


def check(ctx: Context) -> Iterator[Finding]:
    # Merging: pilot/pkg/model/destination_rule.go mergeDestinationRule. Within one namespace and
    # host, subsets are unioned by name (first definition wins) and the first top-level
    # trafficPolicy wins; DRs with different workloadSelectors are not merged.
    groups: dict[tuple[str, str, str], list[Resource]] = {}
    for dr in ctx.head.of("DestinationRule"):
        host = dr_host(dr)
        if host:
            selector = canonical(dr.spec.get("workloadSelector"))
            groups.setdefault((dr.namespace, host, selector), []).append(dr)
    for (_, host, _), members in sorted(groups.items()):
        members.sort(key=lambda r: r.key)
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                res, other = losers(ctx, a, b)[0]  # the merge keeps one: report the loser once
                for subset in sorted(set(dr_subsets(a)) & set(dr_subsets(b))):
                    yield finding(
                        ID, SEVERITY, res,
                        f"defines subset {subset} of {host}, which {other.display} defines too; Istio keeps the "
                        "first definition and discards this one (contents are not merged)",
                        fix="define each subset in exactly one DestinationRule",
                        detail=f"subset:{subset}:{other.namespace}/{other.name}", related=[other],
                        line=res.field_line("spec", "subsets", _subset_index(res, subset) or 0))
                if res.spec.get("trafficPolicy") and other.spec.get("trafficPolicy"):
                    yield finding(
                        ID, SEVERITY, res,
                        f"sets a top-level trafficPolicy for {host}, as {other.display} does; only the first one "
                        "is used and the other is discarded",
                        fix="keep the top-level trafficPolicy in one DestinationRule",
                        detail=f"policy:{other.namespace}/{other.name}", related=[other],
                        line=res.field_line("spec", "trafficPolicy"))
