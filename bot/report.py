"""The report: what a review found, as a value. Renderers and the JSON reader read it; it holds no
settings and no snapshot, only findings, references and text."""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Finding, Ref, Severity, Skipped, Suppressed
from bot.plan import Plan

FAIL_RANK = {"error": 3, "warning": 2, "notice": 1, "never": 99}


@dataclass(frozen=True)
class ChangedResource:
    """One resource the change adds, removes or modifies."""

    change: str  # added | removed | modified
    resource: Ref  # as at head; as at base when removed
    paths: tuple[str, ...] = ()  # the fields that changed (modified only)
    what: tuple[str, ...] = ()  # short phrases such as "subset v3 added"


@dataclass(frozen=True)
class Report:
    mode: str  # diff | audit
    base: str | None
    head: str
    resources: int  # Istio resources at head
    changes: tuple[ChangedResource, ...]
    findings: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...]
    plan: Plan
    skipped: tuple[Skipped, ...]
    disabled: tuple[str, ...] = ()  # rule ids turned off by config

    def count(self, severity: Severity, introduced_only: bool = False) -> int:
        return sum(1 for f in self.findings if f.severity is severity and (f.introduced or not introduced_only))

    def headline(self) -> list[Finding]:
        """The findings the verdict speaks of: introduced ones in a diff, all in an audit."""
        return [f for f in self.findings if self.mode == "audit" or f.introduced]

    def earlier(self) -> list[Finding]:
        """Findings the change did not introduce (none in an audit)."""
        return [f for f in self.findings if not (self.mode == "audit" or f.introduced)]

    def failing(self, fail_on: str) -> list[Finding]:
        """Headline findings at or above `fail_on`."""
        threshold = FAIL_RANK[fail_on]
        return [f for f in self.headline() if f.severity.rank >= threshold]
