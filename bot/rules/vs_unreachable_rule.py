"""vs-unreachable-rule: a rule inside one VirtualService can never match."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.rules.base import finding
from bot.rules.shared.routes import is_catch_all, match_key
from bot.values import as_dict, as_list, canonical

ID = "vs-unreachable-rule"
SEVERITY = Severity.WARNING
SUMMARY = "A VirtualService rule after a catch-all, or with matches an earlier rule already has, never matches"
GUIDANCE = "https://istio.io/latest/docs/concepts/traffic-management/#routing-rule-precedence"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "Rules of a VirtualService are evaluated in order and the first match wins. A rule after a catch-all (a "
    "rule with no match, or one matching every path) never matches, and neither does a rule whose matches "
    "all repeat earlier ones."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pkg/config/validation/validation.go analyzeUnreachableHTTPRules (IST0130)',
    'istio/istio pilot/pkg/networking/core/route/route.go BuildHTTPRoutesForVirtualService (translation '
    'stops after a catch-all)',
)


def check(ctx: Context) -> Iterator[Finding]:
    # Rules are evaluated in order and the first match wins; translation stops after a
    # catch-all (pilot route.BuildHTTPRoutesForVirtualService; validation.go analyzeUnreachable*).
    for vs in ctx.subjects("VirtualService"):
        for section in ("http", "tcp", "tls"):
            catch_all: int | None = None
            seen: set[str] = set()
            for i, raw in enumerate(as_list(vs.spec.get(section))):
                rule = as_dict(raw)
                label = f"{section}[{i}]" + (f" ({rule['name']})" if isinstance(rule.get("name"), str) else "")
                if catch_all is not None:
                    yield finding(
                        ID, SEVERITY, vs,
                        f"rule {label} is unreachable: rule {section}[{catch_all}] before it matches every request",
                        fix="move the catch-all rule to the end", detail=f"after-catch-all:{section}:{canonical(rule)}",
                        line=vs.field_line("spec", section, i))
                    continue
                matches = [match_key(m) for m in as_list(rule.get("match"))]
                if matches and all(m in seen for m in matches):
                    yield finding(
                        ID, SEVERITY, vs,
                        f"rule {label} is unreachable: every one of its matches is already matched by an earlier rule",
                        fix="remove the rule or change its matches", detail=f"duplicate:{section}:{canonical(rule)}",
                        line=vs.field_line("spec", section, i))
                seen.update(matches)
                if is_catch_all(rule):
                    catch_all = i
