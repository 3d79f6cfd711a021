"""Words every renderer shares: the verdict and counts."""

from __future__ import annotations

from bot.findings import Severity
from bot.report import Report


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def verdict(report: Report) -> str:
    found = report.headline()
    counts = [plural(sum(1 for f in found if f.severity is s), s.value) for s in
              (Severity.ERROR, Severity.WARNING, Severity.NOTICE)]
    counts = [c for c in counts if not c.startswith("0 ")]
    if report.mode == "diff":
        scope = f"{plural(len(report.changes), 'changed Istio resource')}"
    else:
        scope = f"{plural(report.resources, 'Istio resource')}"
    text = f"{', '.join(counts)} in {scope}" if counts else f"No rollout risks in {scope}"
    earlier = len(report.earlier())
    if earlier:
        text += f" ({earlier} pre-existing)"
    return text


def max_severity(report: Report) -> Severity | None:
    found = report.headline()
    return max((f.severity for f in found), key=lambda s: s.rank, default=None)


def short_rev(rev: str | None) -> str | None:
    """A commit id shortened to 12 characters; anything else as it is."""
    if rev and len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
        return rev[:12]
    return rev
