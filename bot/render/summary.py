"""Words every renderer shares: the verdict and counts."""

from __future__ import annotations

from bot.analyze import Report
from bot.findings import Finding, Severity


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def headline_findings(report: Report) -> list[Finding]:
    """The findings the verdict speaks of: introduced ones in a diff, all in an audit."""
    return [f for f in report.findings if report.mode == "audit" or f.introduced]


def verdict(report: Report) -> str:
    found = headline_findings(report)
    counts = [plural(sum(1 for f in found if f.severity is s), s.value) for s in
              (Severity.ERROR, Severity.WARNING, Severity.NOTICE)]
    counts = [c for c in counts if not c.startswith("0 ")]
    if report.mode == "diff":
        scope = f"{plural(len(report.changes), 'changed Istio resource')}"
    else:
        scope = f"{plural(report.resources, 'Istio resource')}"
    text = f"{', '.join(counts)} in {scope}" if counts else f"No rollout risks in {scope}"
    earlier = len(report.findings) - len(found)
    if earlier:
        text += f" ({earlier} pre-existing)"
    return text


def max_severity(report: Report) -> Severity | None:
    found = headline_findings(report)
    return max((f.severity for f in found), key=lambda s: s.rank, default=None)
