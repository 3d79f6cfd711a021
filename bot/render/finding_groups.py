"""Findings as the comment lists them: each finding's values, the findings by severity as far as the
cut leaves them, and warnings and notices folded behind one line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.findings import Finding, Severity
from bot.render.cutting import Cut
from bot.render.md_text import location, md
from bot.render.summary import plural
from bot.report import Report
from bot.rules.base import docs_url

FOLD_OVER = 5  # without errors, more warnings and notices than this fold behind one line

ICONS = {Severity.ERROR: "⛔", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}
_TITLES = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.NOTICE: "Notices"}


def finding_entry(f: Finding, link_base: str | None, report: Report, compact: bool = False) -> dict[str, Any]:
    related = "; ".join(f"{md(report.label(r))}, {location(r, r.line, link_base)}" for r in f.related[:5])
    if len(f.related) > 5:
        related += f" and {len(f.related) - 5} more"
    message = f.message if not compact or len(f.message) <= 300 else f.message[:299] + "…"
    return {
        "rule": f.rule, "docs": docs_url(f.rule), "severity_word": f.severity.value.capitalize(),
        "resource": report.label(f.resource), "location": location(f.resource, f.location_line, link_base),
        "message": message, "fix": "" if compact else f.fix, "related": "" if compact else related,
    }


def severity_groups(report: Report, found: Sequence[Finding], link_base: str | None, cut: Cut) -> list[dict[str, Any]]:
    """Findings by severity, as far as the cut level lets them be shown."""
    groups = []
    for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTICE):
        chosen = [f for f in found if f.severity is severity]
        if not chosen:
            continue
        limit = {Severity.ERROR: cut.max_errors, Severity.WARNING: cut.max_warnings,
                 Severity.NOTICE: None if cut.notices else 0}[severity]
        shown = chosen if limit is None else chosen[:limit]
        title = _TITLES[severity] + (" introduced by this change" if report.mode == "diff" else "")
        groups.append({"severity": severity.value, "icon": ICONS[severity], "title": title, "count": len(chosen),
                       "findings": [finding_entry(f, link_base, report, compact=cut.level >= 8) for f in shown],
                       "hidden": len(chosen) - len(shown)})
    return groups


def folded(report: Report, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Errors stay open; warnings and notices fold behind one line when errors lead (anywhere in the
    comment), or when they are many."""
    others = [g for g in groups if g["severity"] != "error"]
    errors = any(f.severity is Severity.ERROR for f in report.headline())
    fold = len(others) > 0 and (errors or sum(g["count"] for g in others) > FOLD_OVER)
    collapsed = others if fold else []
    return {
        "groups": [g for g in groups if g not in collapsed],
        "collapsed": collapsed,
        "collapsed_summary": " and ".join(f"{g['icon']} {plural(g['count'], g['severity'])}" for g in collapsed)
        + (" introduced by this change" if report.mode == "diff" else ""),
    }
