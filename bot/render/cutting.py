"""Cutting the comment to GitHub's size limit: what each cut level leaves out, and the last resort."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Cut:
    """How much to leave out, from nothing (level 0) to the minimum (level 8)."""

    level: int = 0

    @property
    def documents(self) -> bool:
        return self.level < 1

    @property
    def changes_rows(self) -> int | None:
        return None if self.level < 2 else (50 if self.level == 2 else 0)

    @property
    def notices(self) -> bool:
        return self.level < 4

    @property
    def preexisting(self) -> bool:
        return self.level < 5

    @property
    def max_warnings(self) -> int | None:
        return None if self.level < 6 else 20

    @property
    def stage_items(self) -> bool:
        return self.level < 7

    @property
    def max_errors(self) -> int | None:
        return None if self.level < 8 else 50

    def describe(self) -> str:
        parts = ["generated documents"] if self.level >= 1 else []
        parts += ["changed-resource table"] if self.level >= 2 else []
        parts += ["notices"] if self.level >= 4 else []
        parts += ["pre-existing findings"] if self.level >= 5 else []
        parts += ["warnings after the first 20"] if self.level >= 6 else []
        parts += ["per-stage resource lists and waits"] if self.level >= 7 else []
        parts += ["errors after the first 50, and their details"] if self.level >= 8 else []
        if not parts:
            return ""
        return ("shortened to fit GitHub's comment limit (" + ", ".join(parts) + "); the full report is in the job "
                "summary and the JSON report")


def hard_cut(body: str, limit: int, hidden: str) -> str:
    """Last resort: cut the text, close what is open, keep the marker."""
    tail = f"\n\n… cut to fit GitHub's comment limit; the full report is in the job summary.\n\n{hidden}\n"
    text = body[: limit - len(tail) - 200]
    if text.count("```") % 2:
        text += "\n```"
    text += "\n</details>" * max(0, text.count("<details") - text.count("</details>"))
    return text + tail
