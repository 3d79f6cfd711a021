"""duplicate-resource: the same resource is defined twice at one revision."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.resource import Resource
from bot.rules.base import finding

ID = "duplicate-resource"
SEVERITY = Severity.ERROR
SUMMARY = "The same kind, namespace and name is defined twice"
GUIDANCE = "https://istio.io/latest/docs/ops/best-practices/traffic-management/"
DIFF_ONLY = False
READS: tuple[str, ...] = ('default-namespace',)
WHY = (
    "Two documents define the same kind, namespace and name. Whichever is applied last wins, and which one "
    "that is depends on file order and tooling, so one of the two definitions silently has no effect."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'https://kubernetes.io/docs/concepts/overview/working-with-objects/names/ (one object per kind, '
    'namespace and name)',
)


def check(ctx: Context) -> Iterator[Finding]:
    first: dict[tuple[str, str, str], Resource] = {}
    for res in ctx.head.resources:
        if res.key not in first:
            first[res.key] = res
            continue
        original = first[res.key]
        yield finding(
            ID, SEVERITY, res,
            f"is also defined at {original.file}:{original.line}; the one applied last silently replaces "
            "the other, and which one that is depends on file order",
            fix="keep one definition", detail=f"{res.file}", related=[original])
