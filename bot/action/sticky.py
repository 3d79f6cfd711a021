"""The one review comment per pull request, kept up to date: which comment to write, update or hide
(pure decisions over the comments a PR already has), and syncing it through the GitHub API.

The bot's comment carries a hidden marker plus the head commit and the time of the event it
answers, so an older run (a slow job, a re-run) never overwrites what a newer one wrote. Only
comments written by the token's own identity are ever edited, hidden or deleted.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.errors import BotError
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


class CommentsAPI(Protocol):
    """What syncing the comment needs from GitHub."""

    backoff: float  # seconds before the first retry of a lost POST

    def identity(self) -> str: ...
    def comments(self, number: int) -> list[Comment]: ...
    def create_comment(self, number: int, body: str) -> Comment: ...
    def edit_comment(self, number: int, comment: Comment, body: str) -> Comment: ...
    def delete_comment(self, number: int, comment: Comment) -> None: ...
    def minimize_comment(self, number: int, comment: Comment) -> None: ...
    def pull_head(self, number: int) -> tuple[str, str]: ...


@dataclass(frozen=True)
class Target:
    """The pull request a comment answers for."""

    number: int
    head: str  # the head commit the comment speaks of ('' unknown)
    when: str  # the event's time (see `stamp`)
    recheck_head: bool = True  # before writing, make sure the pull request has not moved on


def sync(gh: CommentsAPI, target: Target, body: str, mode: str, log: Callable[[str], None],
         only_update: bool = False) -> str:
    """Write, update or hide comments so the pull request shows `body`; the comment's URL ('' if none).

    `mode` is the comment input (update, hide-and-new, new); `only_update` writes nothing new (the
    body says "all clear" and no earlier comment needs correcting).
    """
    body = stamp(body, target.head, target.when)
    me = gh.identity()
    decision = decide(gh.comments(target.number), me, body, target.when, mode)
    if only_update and decision.action == "create":
        return ""  # on-empty: none, and no earlier comment to turn into an all-clear
    url = decision.target.url if decision.target else ""
    if decision.action in ("create", "update") and target.head and target.recheck_head:
        current, _ = gh.pull_head(target.number)
        if current != target.head:  # pushed again meanwhile: that push's run owns the comment
            log(f"istio-pr-bot: comment not changed: the pull request moved on to {current[:12]}")
            return url
    if decision.action == "update" and decision.target:
        url = gh.edit_comment(target.number, decision.target, body).url
    elif decision.action == "create":
        url = _create_once(gh, target.number, body, me)
    elif decision.reason:
        log(f"istio-pr-bot: comment not changed: {decision.reason}")
    for old in decision.hide:
        gh.minimize_comment(target.number, old)
    if decision.action == "create" and mode == "update":
        url = _settle(gh, target.number, me, url)
    return url


def _settle(gh: CommentsAPI, number: int, me: str, url: str) -> str:
    """Two runs that both found no comment both create one: keep the newest, delete the others.

    Every run reaches the same choice (newest event time, then lowest id), so racing runs converge
    on one comment; only comments this identity wrote are ever deleted.
    """
    mine = ours(gh.comments(number), me)
    if len(mine) <= 1:
        return url
    keep = max(mine, key=lambda c: (meta(c.body).get("time", ""), -c.id))
    for comment in mine:
        if comment.id != keep.id:
            gh.delete_comment(number, comment)
    return keep.url


def _create_once(gh: CommentsAPI, number: int, body: str, me: str, attempts: int = 3) -> str:
    """POST the comment; after a failure, look for it before posting again: never two comments."""
    for attempt in range(attempts):
        try:
            return gh.create_comment(number, body).url
        except BotError as exc:
            if getattr(exc, "status", None) in (403, 404, 422) or attempt == attempts - 1:
                raise
            time.sleep(gh.backoff * 2**attempt)
            for comment in reversed(ours(gh.comments(number), me)):
                if meta(comment.body) == meta(body):
                    return comment.url  # the lost POST was stored after all
    raise AssertionError("unreachable")
