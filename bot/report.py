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
class TargetRow:
    """One deploy target of a review: where it is defined, whether the change touches it, and how it was read.

    `status`: reviewed (read at both revisions, or at the one it exists in); unchanged (its cluster is
    untouched, so it was not read); not reviewed (`reason` says why: a tool is missing, a remote base,
    values outside the repository); render error (`reason` holds the renderer's first line).
    """

    name: str
    cluster: str
    kind: str  # plain | kustomize | helm | argocd | flux-kustomization | flux-helmrelease
    path: str  # the file that defines it, or its folder
    touched: bool  # the change touches its inputs
    status: str
    reason: str = ""
    renders: int = 0  # helm and kustomize runs this review made for it


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
    targets: tuple[TargetRow, ...] = ()  # empty when the repository is read as one plain tree

    def not_reviewed(self) -> list[TargetRow]:
        """Targets the change touches (or that share a cluster with one) that could not be read."""
        return [t for t in self.targets if t.status == "not reviewed"]

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
