"""A stateful GitHub API on 127.0.0.1 that checks every request and response against GitHub's
published OpenAPI description (pinned, see tests/contract.py).

Responses are built from the description's own examples with ids, bodies and URLs filled in, and
every `https://api.github.com` in them is rewritten to this server, as PyGithub refuses URLs outside
its base URL. Faults can be injected per route to test retries and error handling.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests import contract

_API: OpenAPI | None = None
_EXAMPLES: dict[str, Any] = {}


def _api() -> OpenAPI:
    global _API
    if _API is None:
        spec = copy.deepcopy(contract.openapi())
        _EXAMPLES.update({k: v.get("value") for k, v in spec["components"]["examples"].items()})
        spec["servers"] = [{"url": "http://127.0.0.1"}]
        _API = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
    return _API


@dataclass
class Fault:
    method: str
    path: str  # regular expression over the path
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    apply_first: bool = False  # perform the request, then answer with the fault (a lost response)


@dataclass
class User:
    login: str
    id: int
    type: str = "User"


BOT = User("github-actions[bot]", 41898282, "Bot")
HUMAN = User("octocat", 1)


class FakeGitHub:
    def __init__(self, owner: str = "octo-org", repo: str = "mesh-config", tokens: dict[str, User] | None = None):
        _api()
        self.owner, self.repo = owner, repo
        self.tokens = tokens or {"ghs_actions_token": BOT}
        self.app_tokens = {t for t, u in self.tokens.items() if u.type == "Bot"}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.minimized: set[int] = set()
        self.check_runs: list[dict[str, Any]] = []
        self.issues: dict[int, dict[str, Any]] = {}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.compare: dict[tuple[str, str], str] = {}
        self.read_only: set[str] = set()
        self.faults: list[Fault] = []
        self.violations: list[str] = []
        self.requests: list[tuple[str, str, int]] = []
        self.seen_tokens: list[str] = []
        self._next = 1000
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- state helpers for tests

    def add_pull(self, number: int, head_sha: str, base_sha: str, state: str = "open") -> None:
        self.pulls[number] = {"head": head_sha, "base": base_sha, "state": state}
        self.comments.setdefault(number, [])

    def add_comment(self, number: int, body: str, user: User) -> dict[str, Any]:
        with self._lock:
            return self._new_comment(number, body, user)

    def bodies(self, number: int) -> list[tuple[str, str]]:
        return [(c["user"]["login"], c["body"]) for c in self.comments.get(number, [])]

    # ---- building responses from the published examples

    def _id(self) -> int:
        self._next += 1
        return self._next

    def _user(self, user: User) -> dict[str, Any]:
        data = copy.deepcopy(_EXAMPLES["issue-comment"]["user"])
        data.update(login=user.login, id=user.id, type=user.type, node_id=f"U_{user.id}")
        return data

    def _new_comment(self, number: int, body: str, user: User) -> dict[str, Any]:
        cid = self._id()
        data = copy.deepcopy(_EXAMPLES["issue-comment"])
        data.update(
            id=cid, node_id=f"IC_{cid}", body=body, user=self._user(user),
            url=f"https://api.github.com/repos/{self.owner}/{self.repo}/issues/comments/{cid}",
            html_url=f"https://github.com/{self.owner}/{self.repo}/pull/{number}#issuecomment-{cid}",
            issue_url=f"https://api.github.com/repos/{self.owner}/{self.repo}/issues/{number}",
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            updated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        self.comments.setdefault(number, []).append(data)
        return data

    def _issue(self, number: int) -> dict[str, Any]:
        data = copy.deepcopy(_EXAMPLES["issue"])
        stored = self.issues.get(number, {})
        data.update(number=number, id=number * 7, node_id=f"I_{number}", state=stored.get("state", "open"),
                    title=stored.get("title", f"Pull request {number}"), body=stored.get("body", ""),
                    url=f"https://api.github.com/repos/{self.owner}/{self.repo}/issues/{number}",
                    comments_url=f"https://api.github.com/repos/{self.owner}/{self.repo}/issues/{number}/comments",
                    html_url=f"https://github.com/{self.owner}/{self.repo}/issues/{number}",
                    repository_url=f"https://api.github.com/repos/{self.owner}/{self.repo}")
        if number in self.pulls:
            data["pull_request"] = {
                "url": f"https://api.github.com/repos/{self.owner}/{self.repo}/pulls/{number}",
                "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}",
                "diff_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}.diff",
                "patch_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}.patch"}
        else:
            data.pop("pull_request", None)
            if "user" in stored:
                data["user"] = self._user(stored["user"])
        return data

    # ---- the HTTP side

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, data, headers = fake.handle(method, self.path, dict(self.headers), raw)
                payload = b"" if data is None else json.dumps(data).replace(
                    "https://api.github.com", fake.base).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if payload:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes
               ) -> tuple[int, Any, dict[str, str]]:
        split = urlsplit(target)
        path, query = split.path, parse_qs(split.query)
        token = (headers.get("Authorization") or "").removeprefix("token ").removeprefix("Bearer ")
        self.seen_tokens.append(token)
        if headers.get("X-GitHub-Api-Version") != "2022-11-28":
            self.violations.append(f"{method} {path}: missing or wrong X-GitHub-Api-Version header")
        fault = self._fault(method, path)
        if fault and not fault.apply_first:
            time.sleep(fault.delay)
            self.requests.append((method, path, fault.status))
            return fault.status, {"message": "injected fault", "documentation_url": "https://docs.github.com"}, fault.headers
        user = self.tokens.get(token)
        if user is None:
            self.requests.append((method, path, 401))
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com"}, {}
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self.violations.append(f"{method} {path}: body is not JSON")
        if path == "/graphql":
            status, data = self._graphql(token, body)
        else:
            self._validate_request(method, path, query, raw, headers)
            with self._lock:
                status, data = self._route(method, path, query, body, user, token)
            # GitHub answers 404 for anything missing, though the description lists it on few operations.
            if status < 500 and status != 404:
                self._validate_response(method, path, query, raw, headers, status, data)
        if fault:  # the write happened, the answer is lost
            time.sleep(fault.delay)
            self.requests.append((method, path, fault.status))
            return fault.status, {"message": "injected fault"}, fault.headers
        self.requests.append((method, path, status))
        return status, data, {}

    def _fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and re.fullmatch(fault.path, path):
                    fault.times -= 1
                    return fault
        return None

    def _mock(self, method: str, path: str, query: dict[str, list[str]], raw: bytes, headers: dict[str, str]) -> MockRequest:
        return MockRequest("http://127.0.0.1", method.lower(), path, args={k: v[0] for k, v in query.items()},
                           data=raw or None, content_type="application/json" if raw else None)

    def _validate_request(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                          headers: dict[str, str]) -> None:
        try:
            _api().validate_request(self._mock(method, path, query, raw, headers))
        except Exception as exc:  # noqa: BLE001
            self.violations.append(f"request {method} {path}: {type(exc).__name__}: {str(exc)[:400]}")

    def _validate_response(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                           headers: dict[str, str], status: int, data: Any) -> None:
        response = MockResponse(json.dumps(data).encode() if data is not None else b"", status_code=status,
                                content_type="application/json" if data is not None else None)
        try:
            _api().validate_response(self._mock(method, path, query, raw, headers), response)
        except Exception as exc:  # noqa: BLE001
            self.violations.append(f"response {status} {method} {path}: {type(exc).__name__}: {str(exc)[:400]}")

    def _forbidden(self, token: str) -> tuple[int, Any] | None:
        if token in self.read_only:
            return 403, {"message": "Resource not accessible by integration",
                         "documentation_url": "https://docs.github.com/rest"}
        return None

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any, user: User,
               token: str) -> tuple[int, Any]:
        repo = f"/repos/{self.owner}/{self.repo}"
        if path == "/user" and method == "GET":
            if token in self.app_tokens:
                return 403, {"message": "Resource not accessible by integration",
                             "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"}
            data = copy.deepcopy(_EXAMPLES["private-user"])
            data.update(login=user.login, id=user.id)
            return 200, data
        if not path.startswith(repo):
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
        rest = path[len(repo):]
        if m := re.fullmatch(r"/issues/(\d+)", rest):
            number = int(m.group(1))
            if method == "GET":
                if number not in self.pulls and number not in self.issues:
                    return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
                return 200, self._issue(number)
            if method == "PATCH":
                if denied := self._forbidden(token):
                    return denied
                self.issues.setdefault(number, {}).update({k: v for k, v in (body or {}).items()
                                                           if k in ("title", "body", "state")})
                return 200, self._issue(number)
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(m.group(1))
            if number not in self.pulls and number not in self.issues:
                return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
            if method == "GET":
                per_page = int(query.get("per_page", ["30"])[0])
                page = int(query.get("page", ["1"])[0])
                items = self.comments.get(number, [])[(page - 1) * per_page: page * per_page]
                return 200, items
            if method == "POST":
                if denied := self._forbidden(token):
                    return denied
                text = (body or {}).get("body", "")
                if len(text) > 65536:
                    return 422, {"message": "Validation Failed", "documentation_url": "https://docs.github.com",
                                 "errors": [{"resource": "IssueComment", "code": "custom", "field": "body",
                                             "message": "body is too long (maximum is 65536 characters)"}]}
                if self.pulls.get(number, {}).get("state") == "locked":
                    return 403, {"message": "Unable to create comment because issue is locked.",
                                 "documentation_url": "https://docs.github.com"}
                return 201, self._new_comment(number, text, user)
        if m := re.fullmatch(r"/issues/comments/(\d+)", rest):
            cid = int(m.group(1))
            found = [(n, c) for n, cs in self.comments.items() for c in cs if c["id"] == cid]
            if not found:
                return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
            number, comment = found[0]
            if method == "GET":
                return 200, comment
            if method == "DELETE":
                if denied := self._forbidden(token):
                    return denied
                if comment["user"]["login"] != user.login:
                    self.violations.append(f"deleted comment {cid} written by {comment['user']['login']}")
                    return 403, {"message": "Must have admin rights to Repository.",
                                 "documentation_url": "https://docs.github.com"}
                self.comments[number] = [c for c in self.comments[number] if c["id"] != cid]
                return 204, None
            if method == "PATCH":
                if denied := self._forbidden(token):
                    return denied
                if comment["user"]["login"] != user.login:
                    return 403, {"message": "Must have admin rights to Repository.",
                                 "documentation_url": "https://docs.github.com"}
                comment["body"] = (body or {}).get("body", comment["body"])
                comment["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                return 200, comment
        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            number = int(m.group(1))
            if number not in self.pulls:
                return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
            data = copy.deepcopy(_EXAMPLES["pull-request"])
            data["requested_teams"] = []  # the published example's team lacks the now-required "type"
            data["number"] = number
            data["state"] = self.pulls[number]["state"]
            data["head"]["sha"] = self.pulls[number]["head"]
            data["base"]["sha"] = self.pulls[number]["base"]
            return 200, data
        if m := re.fullmatch(r"/compare/([0-9a-f]{40})\.\.\.([0-9a-f]{40})", rest):
            base = self.compare.get((m.group(1), m.group(2)))
            if base is None:
                return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
            data = copy.deepcopy(_EXAMPLES["commit-comparison"])
            data["merge_base_commit"]["sha"] = base
            return 200, data
        if rest == "/check-runs" and method == "POST":
            if denied := self._forbidden(token):
                return denied
            run = copy.deepcopy(_EXAMPLES["check-run"])
            rid = self._id()
            output = (body or {}).get("output", {})
            run.update(id=rid, name=body.get("name"), head_sha=body.get("head_sha"), status=body.get("status"),
                       conclusion=body.get("conclusion"),
                       html_url=f"https://github.com/{self.owner}/{self.repo}/runs/{rid}",
                       url=f"https://api.github.com/repos/{self.owner}/{self.repo}/check-runs/{rid}")
            run["output"].update(title=output.get("title"), summary=output.get("summary"),
                                 annotations_count=len(output.get("annotations", [])))
            self.check_runs.append({"run": run, "annotations": list(output.get("annotations", []))})
            return 201, run
        if m := re.fullmatch(r"/check-runs/(\d+)", rest):
            rid = int(m.group(1))
            for entry in self.check_runs:
                if entry["run"]["id"] == rid and method == "PATCH":
                    entry["annotations"] += (body or {}).get("output", {}).get("annotations", [])
                    entry["run"]["output"]["annotations_count"] = len(entry["annotations"])
                    return 200, entry["run"]
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
        if rest == "/issues":
            if method == "GET":
                creator = query.get("creator", [None])[0]
                items = [self._issue(n) for n, i in sorted(self.issues.items())
                         if creator is None or i.get("user", HUMAN).login == creator]
                return 200, items
            if method == "POST":
                if denied := self._forbidden(token):
                    return denied
                number = max([*self.issues, *self.pulls, 0]) + 1
                self.issues[number] = {"title": body.get("title"), "body": body.get("body", ""), "state": "open",
                                       "user": user}
                return 201, self._issue(number)
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}

    def _graphql(self, token: str, body: Any) -> tuple[int, Any]:
        query = (body or {}).get("query", "") if isinstance(body, dict) else ""
        variables = (body or {}).get("variables", {}) if isinstance(body, dict) else {}
        if "minimizeComment" not in query:
            self.violations.append(f"graphql: unexpected query {query[:100]!r}")
            return 200, {"errors": [{"message": "unsupported"}]}
        text = json.dumps(variables) + query
        m = re.search(r'"subjectId":\s*"IC_(\d+)"', text)
        if not m or "OUTDATED" not in text:
            self.violations.append(f"graphql minimizeComment without subjectId/OUTDATED: {text[:200]}")
            return 200, {"errors": [{"message": "bad input"}]}
        if token in self.read_only:
            return 200, {"errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]}
        self.minimized.add(int(m.group(1)))
        return 200, {"data": {"minimizeComment": {"minimizedComment": {"isMinimized": True,
                                                                         "minimizedReason": "outdated"}}}}
