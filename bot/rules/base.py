"""The rule contract and the context rules read."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator
from typing import Protocol

from bot.changes import Change
from bot.config import EXPORT_KINDS, Config
from bot.findings import Finding, Ref, Severity
from bot.findings import ParseProblem
from bot.mesh import Mesh
from bot.resource import Resource
from bot.visibility import Visibility

DOCS_BASE = "https://github.com/istio-pr-bot/istio-pr-bot/blob/main/docs/rules/"
BEST_PRACTICES = "https://istio.io/latest/docs/ops/best-practices/traffic-management/"
NETWORK_ISSUES = "https://istio.io/latest/docs/ops/common-problems/network-issues/"


@dataclass(frozen=True)
class Context:
    """What a rule sees. `base` is None in audit mode and when a snapshot rule runs on the base."""

    head: Mesh
    base: Mesh | None
    changes: tuple[Change, ...]
    config: Config
    problems: tuple[ParseProblem, ...] = ()  # broken YAML at the revision `head` stands for
    focus: frozenset[tuple[str, str, str]] | None = None  # only findings on these resources are wanted

    def subjects(self, kind: str) -> list[Resource]:
        """Resources of a kind whose findings are wanted (all, unless the context is focused)."""
        found = self.head.of(kind)
        return found if self.focus is None else [r for r in found if r.key in self.focus]

    def changed(self, kind: str | None = None) -> list[Change]:
        return [c for c in self.changes if kind is None or c.kind == kind]


class Rule(Protocol):
    ID: str
    SEVERITY: Severity
    SUMMARY: str
    GUIDANCE: str  # link to the Istio guidance the rule enforces
    DIFF_ONLY: bool  # compares base with head; does not run in audit

    def check(self, ctx: Context) -> Iterator[Finding]: ...


def docs_url(rule_id: str) -> str:
    return f"{DOCS_BASE}{rule_id}.md"


def finding(rule_id: str, severity: Severity, res: Resource, message: str, *, fix: str = "",
            detail: str = "", related: list[Resource] | tuple[Resource, ...] = (),
            line: int | None = None) -> Finding:
    refs: tuple[Ref, ...] = tuple(dict.fromkeys(r.ref() for r in related if r.key != res.key))
    return Finding(rule_id, severity, message, res.ref(), refs, fix, detail or message, line)


def names(resources: list[Resource] | tuple[Resource, ...]) -> str:
    return ", ".join(r.display for r in resources)


def losers(ctx: Context, a: Resource, b: Resource) -> list[tuple[Resource, Resource]]:
    """(loser, winner) pairs of two conflicting resources.

    Istio orders conflicting config by creation time and keeps the oldest
    (`pilot/pkg/model/config.go` sortConfigByCreationTime), so what a change adds loses to what it
    modifies, which loses to what it leaves alone. When the repository cannot tell (an audit, or
    two resources of the same age), either may lose and both are reported.
    """
    rank = {c.key: (2 if c.change == "added" else 1) for c in ctx.changes}
    ra, rb = rank.get(a.key, 0), rank.get(b.key, 0)
    if ra == rb:
        return [(a, b), (b, a)]
    return [(a, b)] if ra > rb else [(b, a)]


@dataclass(frozen=True)
class VisibilityChange:
    """A modified resource whose exportTo (or Service annotation) changed meaning."""

    base: Resource
    head: Resource
    before: Visibility
    after: Visibility

    @property
    def line(self) -> int | None:
        field = ("metadata", "annotations") if self.head.kind == "Service" else ("spec", "exportTo")
        return self.head.field_line(*field)


def visibility_changes(ctx: Context) -> Iterator[VisibilityChange]:
    """Modified VirtualServices, DestinationRules, ServiceEntries and Services seen by other namespaces."""
    if ctx.base is None:
        return
    for change in ctx.changes:
        if change.kind in EXPORT_KINDS and change.base is not None and change.head is not None:
            before, after = ctx.base.visibility(change.base), ctx.head.visibility(change.head)
            if before != after:
                yield VisibilityChange(change.base, change.head, before, after)
