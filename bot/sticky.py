"""Which comment to write, update or hide: pure decisions over the comments a PR already has.

The bot's comment carries a hidden marker plus the head commit and the time of the event it
answers, so an older run (a slow job, a re-run) never overwrites what a newer one wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.github import Comment
from bot.render.markdown import MARKER

_META = re.compile(r"<!-- istio-pr-bot:meta (\{.*?\}) -->")


@dataclass(frozen=True)
class Decision:
    action: str  # create | update | skip
    target: Comment | None = None
    hide: tuple[Comment, ...] = ()
    reason: str = ""


def stamp(body: str, head: str, when: str) -> str:
    """The body with its metadata line (after the marker)."""
    meta = json.dumps({"head": head, "time": when}, separators=(",", ":"))
    return body.replace(MARKER, f"{MARKER}\n<!-- istio-pr-bot:meta {meta} -->", 1)


def meta(body: str) -> dict[str, str]:
    match = _META.search(body)
    if not match:
        return {}
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return {}
    return {k: str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _content(body: str) -> str:
    return _META.sub("", body).strip()


def ours(comments: list[Comment], me: str) -> list[Comment]:
    """Comments written by this token's identity that carry the marker; never anyone else's."""
    return [c for c in comments if MARKER in c.body and c.author == me]


def decide(comments: list[Comment], me: str, body: str, when: str, mode: str) -> Decision:
    mine = ours(comments, me)
    latest = mine[-1] if mine else None
    if latest is not None and meta(latest.body).get("time", "") > when:
        return Decision("skip", latest, reason="a newer run already updated the comment")
    if mode == "new":
        return Decision("create")
    if mode == "hide-and-new":
        if latest is not None and _content(latest.body) == _content(body):
            return Decision("skip", latest, reason="the comment is already up to date")
        return Decision("create", hide=tuple(mine))
    if latest is None:
        return Decision("create")
    extra = tuple(mine[:-1])  # duplicates left by an earlier race: hide them
    if _content(latest.body) == _content(body):
        return Decision("skip", latest, hide=extra, reason="the comment is already up to date")
    return Decision("update", latest, hide=extra)
