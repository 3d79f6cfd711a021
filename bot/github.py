"""The only module that talks to GitHub (through PyGithub). Errors leave it as GitHubError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.errors import BotError

API_VERSION = "2022-11-28"
ACTIONS_BOT = "github-actions[bot]"
T = TypeVar("T")


class GitHubError(BotError):
    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Comment:
    id: int
    node_id: str
    body: str
    author: str
    url: str


class GitHub:
    """A repository on GitHub, seen through one token."""

    def __init__(self, token: str, api_url: str, repository: str, *, write_pause: float = 0.5,
                 retries: int = 4, backoff: float = 1.0, timeout: int = 15) -> None:
        from github import Auth, Github, GithubRetry

        # GithubRetry retries 5xx and rate-limit 403s but by default neither PATCH nor 429, and
        # without backoff. POST is left out on purpose: a POST whose answer was lost may have been
        # stored, so the caller re-lists by marker before posting again (see action._create_once).
        retry = GithubRetry(total=retries, backoff_factor=backoff, secondary_rate_wait=backoff * 10,
                            status_forcelist=[429, 500, 502, 503, 504],
                            allowed_methods={"GET", "PATCH", "DELETE"})
        self._gh = Github(auth=Auth.Token(token), base_url=api_url.rstrip("/"), retry=retry, timeout=timeout,
                          api_version=API_VERSION, lazy=True, seconds_between_requests=0,
                          seconds_between_writes=write_pause, per_page=100)
        self._repo = self._gh.get_repo(repository, lazy=True)
        self._token = token
        self.backoff = backoff

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        from github import GithubException

        try:
            return fn()
        except GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            raise GitHubError(exc.status, self._clean(f"{what}: {exc.status} {message or 'error'}")) from None
        except Exception as exc:  # noqa: BLE001 - network errors, timeouts, retries exhausted
            raise GitHubError(None, self._clean(f"{what}: {type(exc).__name__}: {exc}")) from None

    def _clean(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    # identity

    def identity(self) -> str:
        """The login comments by this token carry. GITHUB_TOKEN may not read /user: it is the Actions bot."""
        try:
            return self._call("read the token's user", lambda: self._gh.get_user().login)
        except GitHubError as exc:
            if exc.status in (401, 403, 404):
                return ACTIONS_BOT
            raise

    # pull request comments

    def comments(self, number: int) -> list[Comment]:
        def fetch() -> list[Comment]:
            issue = self._repo.get_issue(number)
            return [Comment(c.id, c.node_id, c.body or "", c.user.login if c.user else "", c.html_url)
                    for c in issue.get_comments()]

        return self._call(f"list comments of #{number}", fetch)

    def create_comment(self, number: int, body: str) -> Comment:
        def create() -> Comment:
            c = self._repo.get_issue(number).create_comment(body)
            return Comment(c.id, c.node_id, c.body or "", c.user.login if c.user else "", c.html_url)

        return self._call(f"comment on #{number}", create)

    def edit_comment(self, number: int, comment: Comment, body: str) -> Comment:
        def edit() -> Comment:
            c = self._repo.get_issue(number).get_comment(comment.id)
            c.edit(body)
            return Comment(c.id, c.node_id, c.body or body, c.user.login if c.user else "", c.html_url)

        return self._call(f"update comment {comment.id}", edit)

    def delete_comment(self, number: int, comment: Comment) -> None:
        """Delete one of our comments; one already gone (another run got there first) is fine."""
        try:
            self._call(f"delete comment {comment.id}",
                       lambda: self._repo.get_issue(number).get_comment(comment.id).delete())
        except GitHubError as exc:
            if exc.status != 404:
                raise

    def minimize_comment(self, number: int, comment: Comment) -> None:
        def minimize() -> None:
            c = self._repo.get_issue(number).get_comment(comment.id)
            if not c.minimize("OUTDATED"):
                raise RuntimeError("GitHub did not hide the comment")

        self._call(f"hide comment {comment.id}", minimize)

    # commits and pulls

    def merge_base(self, base: str, head: str) -> str:
        return self._call("compare base and head", lambda: self._repo.compare(base, head).merge_base_commit.sha)

    def pull_head(self, number: int) -> tuple[str, str]:
        """(head sha, state) of a pull request."""
        def fetch() -> tuple[str, str]:
            pull = self._repo.get_pull(number)
            return pull.head.sha, pull.state

        return self._call(f"read pull request #{number}", fetch)

    # check runs

    def check_run(self, name: str, head_sha: str, conclusion: str, title: str, summary: str,
                  annotations: list[dict[str, Any]]) -> str:
        """Create a completed check run; annotations go 50 per request (later PATCHes append)."""
        def create() -> str:
            batches = [annotations[i:i + 50] for i in range(0, len(annotations), 50)] or [[]]
            output: dict[str, Any] = {"title": title, "summary": summary, "annotations": batches[0]}
            run = self._repo.create_check_run(name=name, head_sha=head_sha, status="completed",
                                              conclusion=conclusion, output=output)
            for batch in batches[1:]:
                run.edit(output={"title": title, "summary": summary, "annotations": batch})
            return str(run.html_url)

        return self._call("create the check run", create)

    # tracking issue (audit mode)

    def find_issue(self, marker: str, author: str) -> tuple[int, str, str] | None:
        """(number, state, body) of the issue carrying `marker`, written by `author`."""
        def find() -> tuple[int, str, str] | None:
            # PyGithub takes a login here (see its docstring and check); its annotation names NamedUser only.
            for issue in self._repo.get_issues(state="all", creator=author):  # type: ignore[arg-type]
                if issue.pull_request is None and marker in (issue.body or ""):
                    return issue.number, issue.state, issue.body or ""
            return None

        return self._call("look for the audit issue", find)

    def save_issue(self, number: int | None, title: str, body: str, state: str) -> str:
        def save() -> str:
            if number is None:
                issue = self._repo.create_issue(title=title, body=body)
            else:
                issue = self._repo.get_issue(number)
                issue.edit(title=title, body=body, state=state)
            return str(issue.html_url)

        return self._call("update the audit issue", save)
