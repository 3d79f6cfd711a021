"""Modified resources whose exportTo (or Service annotation) changed meaning: exportto-widened and
exportto-narrowed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bot.context import Context
from bot.kinds import EXPORTED
from bot.resource import Resource
from bot.visibility import Visibility


@dataclass(frozen=True)
class VisibilityChange:
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
        if change.kind in EXPORTED and change.base is not None and change.head is not None:
            before, after = ctx.base.visibility(change.base), ctx.head.visibility(change.head)
            if before != after:
                yield VisibilityChange(change.base, change.head, before, after)
