"""The GitHub client the Action is written against, as a Protocol; `connect` makes the real one
(`bot.github`, over PyGithub). Tests can hand in anything with these methods."""

from __future__ import annotations

from typing import Any, Protocol

from bot.action.runner import Runner
from bot.action.sticky import CommentsAPI


class GitHubClient(CommentsAPI, Protocol):
    def merge_base(self, base: str, head: str) -> str: ...

    def check_run(self, name: str, head_sha: str, conclusion: str, title: str, summary: str,
                  annotations: list[dict[str, Any]]) -> str: ...

    def find_issue(self, marker: str, author: str) -> tuple[int, str, str] | None: ...

    def save_issue(self, number: int | None, title: str, body: str, state: str) -> str: ...


def connect(runner: Runner) -> GitHubClient | None:
    """A client for the run's repository, or None without a token or repository."""
    if not runner.inputs.token or not runner.repository:
        return None
    from bot.github import GitHub

    env = runner.env
    return GitHub(runner.inputs.token, env.get("GITHUB_API_URL", "https://api.github.com"), runner.repository,
                  write_pause=float(env.get("ISTIO_PR_BOT_WRITE_PAUSE", "0.5")),
                  retries=int(env.get("ISTIO_PR_BOT_RETRIES", "4")),
                  backoff=float(env.get("ISTIO_PR_BOT_BACKOFF", "1.0")),
                  timeout=int(env.get("ISTIO_PR_BOT_TIMEOUT", "15")))
