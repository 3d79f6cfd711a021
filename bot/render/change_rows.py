"""The changed-resource table: one row per changed resource, as far as the cut leaves them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.kinds import display
from bot.render.cutting import Cut
from bot.render.md_text import location
from bot.report import ChangedResource, Report

_CHANGE_ICONS = {"added": "➕", "removed": "➖", "modified": "✏️", "renamed": "🔀"}
MAX_WHAT = 4  # phrases per changed resource in the table


def change_rows(report: Report, changes: Sequence[ChangedResource], link_base: str | None,
                cut: Cut) -> dict[str, Any]:
    rows = changes if cut.changes_rows is None else changes[: cut.changes_rows]
    return {
        "changes": [
            {"icon": _CHANGE_ICONS[c.change], "change": c.change,
             "kind": display(c.resource.kind, frozenset(report.qualified)),
             "namespace": c.resource.namespace, "name": c.resource.name, "what": _what(c.what),
             "file_link": location(c.resource, c.resource.line, link_base)}
            for c in rows
        ],
        "changes_total": len(changes),
        "changes_hidden": len(changes) - len(rows),
    }


def _what(what: tuple[str, ...]) -> str:
    shown = ", ".join(what[:MAX_WHAT])
    return shown + (f" and {len(what) - MAX_WHAT} more" if len(what) > MAX_WHAT else "")
