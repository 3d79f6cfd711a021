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

    change: str  # added | removed | modified | renamed (one removed and one added that read as one)
    resource: Ref  # as at head; as at base when removed
    paths: tuple[str, ...] = ()  # the fields that changed (modified and renamed only)
    what: tuple[str, ...] = ()  # short phrases such as "subset v3 added"
    previous: Ref | None = None  # renamed: the resource as the base names it


@dataclass(frozen=True)
class ConfigChange:
    """One setting a pull request changes, in the config file's words."""

    key: str  # e.g. "fail-on", "rule subset-missing", "comment template review.md.j2"
    before: str  # '' when the key only says what happens (a template edited)
    after: str


@dataclass(frozen=True)
class HiddenFinding:
    """A finding of this change that the proposed settings would not report, or report lower."""

    finding: Finding  # as the current settings report it
    why: str  # "rule disabled", "severity error → notice", "file no longer read (paths, exclude)", ...


@dataclass(frozen=True)
class ConfigReview:
    """A pull request that changes the settings it is reviewed with: what changes once merged.

    `used` says whose settings this review ran with: the base branch's (the default, so that a pull
    request cannot loosen its own check) or the pull request's own."""

    file: str  # the config file, from the repository root
    used: str  # base | head
    changes: tuple[ConfigChange, ...] = ()
    hidden: tuple[HiddenFinding, ...] = ()
    fails_now: bool = False  # the check fails under the base branch's settings ...
    fails_after: bool = False  # ... and under the pull request's
    error: str = ""  # the settings not used are not valid: why

    @property
    def says_something(self) -> bool:
        return bool(self.changes or self.hidden or self.error or self.fails_now != self.fails_after)


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
    paths: tuple[str, ...] = ()  # the globs of files read (config `paths`), named when nothing was found
    config_change: ConfigReview | None = None  # the pull request changes the review's settings
    targets: tuple[TargetRow, ...] = ()  # empty when the repository is read as one plain tree
    qualified: tuple[str, ...] = ()  # kinds named with their API group: another API has a kind of that name here

    def not_reviewed(self) -> list[TargetRow]:
        """Targets the change touches (or that share a cluster with one) that could not be read."""
        return [t for t in self.targets if t.status == "not reviewed"]

    def label(self, ref: Ref) -> str:
        """How the report names a resource (`Gateway (gateway.networking.k8s.io) infra/public` where needed)."""
        return ref.label(frozenset(self.qualified))

    def count(self, severity: Severity, introduced_only: bool = False) -> int:
        return sum(1 for f in self.findings if f.severity is severity and (f.introduced or not introduced_only))

    def headline(self) -> list[Finding]:
        """The findings the verdict speaks of: introduced ones in a diff, all in an audit."""
        return [f for f in self.findings if self.mode == "audit" or f.introduced]

    def earlier(self) -> list[Finding]:
        """Findings the change did not introduce (none in an audit)."""
        return [f for f in self.findings if not (self.mode == "audit" or f.introduced)]

    @property
    def empty(self) -> bool:
        """No Istio resource at head and nothing to report: most likely `paths` misses the manifests. (A
        repository of deploy targets reads only the clusters a change touches: it is never empty.)"""
        return (self.resources == 0 and not self.changes and not self.findings and not self.settings_changed
                and not self.targets)

    @property
    def settings_changed(self) -> bool:
        """The change edits the review's own settings in a way worth saying."""
        return self.config_change is not None and self.config_change.says_something

    @property
    def quiet(self) -> bool:
        """A diff with nothing to say: no Istio change, no finding, no settings change, no target left
        unreviewed."""
        return (self.mode == "diff" and not self.changes and not self.findings and not self.settings_changed
                and not self.not_reviewed())

    def failing(self, fail_on: str) -> list[Finding]:
        """Headline findings at or above `fail_on`."""
        threshold = FAIL_RANK[fail_on]
        return [f for f in self.headline() if f.severity.rank >= threshold]
