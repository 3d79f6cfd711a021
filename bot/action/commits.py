"""The commits a diff needs, in a checkout that may be shallow (actions/checkout fetches depth 1)."""

from __future__ import annotations

from typing import Protocol

from bot import git
from bot.action.runner import Runner
from bot.errors import BotError


class MergeBaseAPI(Protocol):
    def merge_base(self, base: str, head: str) -> str: ...


def ensure_commits(runner: Runner, gh: MergeBaseAPI | None, base: str, head: str) -> str:
    """Make sure the merge-base of base and head, and head, exist locally; the merge-base."""
    ws = runner.workspace
    if git.has_commit(ws, base) and git.has_commit(ws, head):
        try:
            return git.merge_base(ws, base, head)
        except BotError:
            pass
    merge_base = base
    if gh is not None:
        try:
            merge_base = gh.merge_base(base, head)
        except BotError as exc:
            runner.notice(f"could not ask GitHub for the merge-base ({exc}); using the base commit")
    missing = [sha for sha in dict.fromkeys([merge_base, head]) if not git.has_commit(ws, sha)]
    if missing:
        try:
            git.fetch(ws, "origin", missing)
        except BotError as exc:
            raise BotError(
                f"the base commit {merge_base[:12]} is not in this checkout and could not be fetched ({exc}); "
                "in the workflow, give actions/checkout `fetch-depth: 0`") from None
    return merge_base
