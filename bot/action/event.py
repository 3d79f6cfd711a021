"""The event that started the run, read once from its webhook payload into a value.

Payloads are read as untrusted: a field of the wrong type counts as absent, and only commit ids of
40 hex digits are taken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.errors import BotError
from bot.values import as_dict


def commit_id(value: Any) -> str:
    """`value` if it is a full commit id, else ''."""
    return value if isinstance(value, str) and len(value) == 40 and all(c in "0123456789abcdef" for c in value) else ""


@dataclass(frozen=True)
class PullRequest:
    """The payload's pull request (every field empty when it has none)."""

    number: int | None = None
    base: str = ""  # commit ids
    head: str = ""
    updated_at: str = ""
    head_repository: str = ""  # owner/name of the repository the head branch lives in

    @classmethod
    def parse(cls, data: Any) -> PullRequest:
        pull = as_dict(data)
        base, head = as_dict(pull.get("base")), as_dict(pull.get("head"))
        number, updated = pull.get("number"), pull.get("updated_at")
        repository = as_dict(head.get("repo")).get("full_name")
        return cls(number if isinstance(number, int) and not isinstance(number, bool) else None,
                   commit_id(base.get("sha")), commit_id(head.get("sha")),
                   updated if isinstance(updated, str) else "", str(repository) if repository else "")


@dataclass(frozen=True)
class Event:
    name: str  # GITHUB_EVENT_NAME
    pull: PullRequest = PullRequest()
    before: str = ""  # push: the commit ids before and after
    after: str = ""
    run_head: str = ""  # workflow_run: the head commit of the run that made the report
    run_updated_at: str = ""

    @classmethod
    def parse(cls, name: str, payload: Any) -> Event:
        data = as_dict(payload)
        run = as_dict(data.get("workflow_run"))
        updated = run.get("updated_at")
        return cls(name, PullRequest.parse(data.get("pull_request")), commit_id(data.get("before")),
                   commit_id(data.get("after")), commit_id(run.get("head_sha")),
                   updated if isinstance(updated, str) else "")

    @classmethod
    def read(cls, name: str, path: str) -> Event:
        """The event from the payload file GitHub writes (GITHUB_EVENT_PATH; none: an empty payload)."""
        payload: Any = {}
        if path:
            try:
                with open(path, encoding="utf-8") as fh:
                    payload = json.load(fh)
            except (OSError, ValueError) as exc:
                raise BotError(f"cannot read the event payload {path}: {exc}") from None
        return cls.parse(name, payload)

    def from_fork(self, repository: str) -> bool:
        """A pull_request from another repository: the token is read-only."""
        return self.name == "pull_request" and bool(self.pull.head_repository) and \
            self.pull.head_repository != repository
