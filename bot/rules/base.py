"""The rule contract, and what every rule uses to word a finding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from bot.context import Context
from bot.findings import Finding, Ref, Severity
from bot.resource import Resource

DOCS_BASE = "https://github.com/istio-pr-bot/istio-pr-bot/blob/main/docs/rules/"
BEST_PRACTICES = "https://istio.io/latest/docs/ops/best-practices/traffic-management/"
NETWORK_ISSUES = "https://istio.io/latest/docs/ops/common-problems/network-issues/"


class Rule(Protocol):
    """A rule module: `bot/rules/<id with underscores>.py`."""

    ID: str  # names the hazard; never changes
    SEVERITY: Severity  # the default; config may change it
    SUMMARY: str  # one line
    GUIDANCE: str  # link to the Istio guidance the rule enforces
    DIFF_ONLY: bool  # compares base with head; does not run in audit
    READS: tuple[str, ...]  # config keys it reads besides its own settings
    WHY: str  # one paragraph: the hazard and what Istio does
    SOURCES: tuple[str, ...]  # the Istio code (istio/istio paths), docs and reports the rule follows

    def check(self, ctx: Context) -> Iterator[Finding]: ...


def docs_url(rule_id: str) -> str:
    return f"{DOCS_BASE}{rule_id}.md"


def finding(rule_id: str, severity: Severity, res: Resource, message: str, *, fix: str = "",
            detail: str = "", related: list[Resource] | tuple[Resource, ...] = (),
            line: int | None = None) -> Finding:
    refs: tuple[Ref, ...] = tuple(dict.fromkeys(r.ref() for r in related if r.key != res.key))
    return Finding(rule_id, severity, message, res.ref(), refs, fix, detail or message, line)


def scope(res: Resource) -> str:
    """Where a rule looked for what a resource needs: its cluster, or the whole repository without targets."""
    return f"cluster {res.cluster}" if res.cluster else "the repository"


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
