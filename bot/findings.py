"""Values every stage shares: severities, resource references, findings, and what reading a file can say."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from bot.kinds import display


class Severity(enum.Enum):
    NOTICE = "notice"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown severity {value!r} (expected error, warning or notice)") from None


_RANK = {Severity.NOTICE: 1, Severity.WARNING: 2, Severity.ERROR: 3}


@dataclass(frozen=True, order=True)
class Ref:
    """Where a resource (or one of its fields) is written."""

    kind: str
    namespace: str
    name: str
    file: str
    line: int
    target: str = ""  # the deploy target it is rendered or read in ("" when the repository is one plain tree)
    cluster: str = ""  # that target's cluster

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def display(self) -> str:
        return self.label()

    def label(self, qualified: frozenset[str] = frozenset()) -> str:
        """`Kind namespace/name` (`Kind name` when cluster-scoped); kinds in `qualified` say their group."""
        kind = display(self.kind, qualified)
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"

    @property
    def placement(self) -> str:
        """"target X, cluster Y" (the cluster alone where the target is named for it; "" without targets)."""
        if not self.cluster:
            return ""
        if self.target in ("", self.cluster):
            return f"cluster {self.cluster}"
        return f"target {self.target}, cluster {self.cluster}"


@dataclass(frozen=True)
class Finding:
    """One hazard a rule found. Carries data, never Markdown."""

    rule: str
    severity: Severity
    message: str
    resource: Ref
    related: tuple[Ref, ...] = ()
    fix: str = ""
    detail: str = ""  # rule-specific identity, stable across file moves and line shifts
    line: int | None = None  # line of the offending field, when known
    introduced: bool = True

    @property
    def fingerprint(self) -> tuple[str, tuple[str, str, str], str]:
        return (self.rule, self.resource.key, self.detail)

    @property
    def location_line(self) -> int:
        return self.line or self.resource.line


@dataclass(frozen=True)
class Skipped:
    """A file (or part of one) left out, and why."""

    file: str
    reason: str


REFUSED = "refused"  # kubectl refuses the whole file: none of its resources can be applied
DUPLICATE_KEY = "duplicate-key"  # kubectl reads the file, keeping the last of a repeated key's values
OVER_LIMIT = "over-limit"  # beyond what this review reads (kubectl may read it): not reviewed


@dataclass(frozen=True)
class ParseProblem:
    """What reading a file found: where, and in whose words. A REFUSED or OVER_LIMIT file's resources
    are left out of the review; a DUPLICATE_KEY one is read as kubectl reads it."""

    file: str
    line: int
    reason: str
    kind: str = REFUSED


@dataclass(frozen=True)
class RenderProblem:
    """A deploy target that did not render: the file that defines it and the renderer's first lines."""

    target: str
    cluster: str
    file: str
    message: str


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    reason: str = field(default="annotation istio-pr-bot.io/ignore")
