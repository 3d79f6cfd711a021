"""The Action end to end, as GitHub runs it: a depth-1 clone, the runner's environment, published
webhook payloads, and a GitHub API server that checks every call against the OpenAPI contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import contract
from tests.fakegithub import BOT, HUMAN, FakeGitHub, Fault

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "ghs_actions_token"
REPO = "octo-org/mesh-config"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


def copy_tree(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*.yaml")):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())


class Origin:
    """A remote with main = examples/base and pr = examples/head, plus later pushes."""

    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "origin"
        self.path.mkdir()
        git(self.path, "init", "-q", "-b", "main")
        copy_tree(ROOT / "examples" / "base", self.path)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-qm", "base")
        self.base = git(self.path, "rev-parse", "HEAD")
        git(self.path, "checkout", "-qb", "pr")
        copy_tree(ROOT / "examples" / "head", self.path)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-qm", "pr")
        self.head = git(self.path, "rev-parse", "HEAD")

    def push(self, files: dict[str, str | None]) -> str:
        for name, text in files.items():
            path = self.path / name
            if text is None:
                path.unlink()
            else:
                path.write_text(text)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-qm", "push")
        self.head = git(self.path, "rev-parse", "HEAD")
        return self.head

    def clone(self, tmp: Path, name: str, ref: str) -> Path:
        ws = tmp / name
        git(tmp, "clone", "-q", "--depth", "1", "--branch", ref, f"file://{self.path}", str(ws))
        return ws


def adapt(payload: Any, fake: FakeGitHub) -> Any:
    """Published examples, adapted only in repository and URLs."""
    text = json.dumps(payload).replace("Codertocat/Hello-World", REPO).replace("https://api.github.com", fake.base)
    return json.loads(text)


class Run:
    def __init__(self, tmp: Path, fake: FakeGitHub, origin: Origin) -> None:
        self.tmp, self.fake, self.origin = tmp, fake, origin
        self.count = 0

    def __call__(self, event: str, payload: dict[str, Any], inputs: dict[str, str] | None = None,
                 ref: str = "pr", token: str = TOKEN, extra_env: dict[str, str] | None = None
                 ) -> tuple[int, str, str, dict[str, str]]:
        return self.wait(self.start(event, payload, inputs, ref, token, extra_env))

    def start(self, event: str, payload: dict[str, Any], inputs: dict[str, str] | None = None,
              ref: str = "pr", token: str = TOKEN, extra_env: dict[str, str] | None = None) -> Any:
        self.count += 1
        ws = self.origin.clone(self.tmp, f"ws{self.count}", ref)
        event_path = self.tmp / f"event{self.count}.json"
        event_path.write_text(json.dumps(payload))
        summary, output = self.tmp / f"summary{self.count}.md", self.tmp / f"output{self.count}.txt"
        home = self.tmp / f"home{self.count}"
        home.mkdir()
        env = {
            "PATH": os.environ["PATH"], "HOME": str(home), "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REPOSITORY": REPO,
            "GITHUB_WORKSPACE": str(ws), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
            "GITHUB_API_URL": self.fake.base, "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_SHA": self.origin.head, "GITHUB_RUN_NUMBER": str(self.count),
            "INPUT_GITHUB-TOKEN": token, "ISTIO_PR_BOT_WRITE_PAUSE": "0", "ISTIO_PR_BOT_RETRIES": "2",
            "ISTIO_PR_BOT_BACKOFF": "0.01", "PYTHONPATH": str(ROOT),
        }
        for key, value in (inputs or {}).items():
            env[f"INPUT_{key.upper()}"] = value
        env.update(extra_env or {})
        proc = subprocess.Popen([sys.executable, "-m", "bot", "action"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ws)
        return proc, summary, output, token

    def wait(self, started: Any) -> tuple[int, str, str, dict[str, str]]:
        proc, summary, output, token = started
        stdout, stderr = proc.communicate(timeout=120)
        outputs = parse_outputs(output.read_text() if output.exists() else "")
        text = summary.read_text() if summary.exists() else ""
        assert "Traceback" not in stderr, stderr
        assert token not in stdout + stderr + text + json.dumps(outputs)
        return proc.returncode, stdout, text, outputs


def parse_outputs(text: str) -> dict[str, str]:
    out, lines, i = {}, text.splitlines(), 0
    while i < len(lines):
        name, _, delimiter = lines[i].partition("<<")
        j = lines.index(delimiter, i + 1)
        out[name] = "\n".join(lines[i + 1:j])
        i = j + 1
    return out


@pytest.fixture()
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    origin = Origin(tmp_path)
    with FakeGitHub(*REPO.split("/"), tokens={TOKEN: BOT, "ghp_human": HUMAN}) as fake:
        fake.add_pull(7, origin.head, origin.base)
        fake.compare[(origin.base, origin.head)] = origin.base
        yield fake, origin, Run(tmp_path, fake, origin)
        assert fake.violations == []


def pr_payload(fake: FakeGitHub, origin: Origin, action: str = "synchronize", updated: str = "2026-11-20T10:00:00Z",
               fork: bool = False, head: str | None = None) -> dict[str, Any]:
    payload = adapt(contract.webhook("pull_request", action), fake)
    payload["number"] = 7
    pull = payload["pull_request"]
    pull.update(number=7, updated_at=updated)
    pull["base"]["sha"], pull["head"]["sha"] = origin.base, head or origin.head
    pull["base"]["repo"]["full_name"] = REPO
    pull["head"]["repo"]["full_name"] = "someone/mesh-config" if fork else REPO
    payload["repository"]["full_name"] = REPO
    return payload


def writes(fake: FakeGitHub) -> list[tuple[str, str, int]]:
    return [r for r in fake.requests if r[0] in ("POST", "PATCH", "DELETE")]


def test_pull_request_posts_one_comment_and_reports(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    code, stdout, summary, outputs = run("pull_request", pr_payload(fake, origin))
    assert code == 1  # the example introduces errors; default fail-on is error
    ((author, body),) = fake.bodies(7)
    assert author == "github-actions[bot]" and "<!-- istio-pr-bot -->" in body
    assert body.startswith("### ⛔ Not safe to merge as is: 8 errors, 8 warnings, 2 notices in 11 changed")
    assert f'"head":"{origin.head}"' in body
    assert summary.startswith("### ⛔ Not safe to merge as is")
    assert outputs["errors"] == "8" and outputs["warnings"] == "8" and outputs["max-severity"] == "error"
    assert outputs["comment-url"].endswith(f"#issuecomment-{fake.comments[7][0]['id']}")
    assert outputs["report-json"] == ".istio-pr-bot/report.json"
    assert stdout.count("::error file=") == 8 and "::warning file=shop/reviews.yaml,line=35," in stdout
    assert ("GET", f"/repos/{REPO}/compare/{origin.base}...{origin.head}", 200) in fake.requests


def test_rerun_does_not_resend_and_push_updates_in_place(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    run("pull_request", pr_payload(fake, origin))
    run("pull_request", pr_payload(fake, origin))  # re-run of the same event
    assert len(fake.comments[7]) == 1 and len(writes(fake)) == 1  # identical body: nothing re-sent
    old_head = origin.head
    fixed = (origin.path / "shop" / "ratings.yaml").read_text().replace("subset: beta", "subset: stable")
    new_head = origin.push({"shop/ratings.yaml": fixed})
    fake.add_pull(7, new_head, origin.base)
    fake.compare[(origin.base, new_head)] = origin.base
    code, _, _, _ = run("pull_request", pr_payload(fake, origin, updated="2026-11-20T11:00:00Z"))
    ((_, body),) = fake.bodies(7)
    assert new_head in body and old_head not in body and "7 errors" in body
    assert [m for m, _, _ in writes(fake)] == ["POST", "PATCH"]


def test_an_older_run_never_overwrites_a_newer_one(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    run("pull_request", pr_payload(fake, origin, updated="2026-11-20T12:00:00Z"))
    before = fake.bodies(7)
    code, stdout, _, _ = run("pull_request", pr_payload(fake, origin, updated="2026-11-20T09:00:00Z"))
    assert fake.bodies(7) == before and "a newer run already updated the comment" in stdout
    assert len(writes(fake)) == 1


def test_comment_modes(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    run("pull_request", pr_payload(fake, origin), {"comment": "off"})
    assert fake.comments[7] == [] and writes(fake) == []
    run("pull_request", pr_payload(fake, origin))
    first = fake.comments[7][0]["id"]
    run("pull_request", pr_payload(fake, origin, updated="2026-11-21T00:00:00Z"), {"comment": "new"})
    assert len(fake.comments[7]) == 2
    origin.push({"shop/search.yaml": None})
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    run("pull_request", pr_payload(fake, origin, updated="2026-11-22T00:00:00Z"), {"comment": "hide-and-new"})
    assert len(fake.comments[7]) == 3 and {first, fake.comments[7][1]["id"]} <= fake.minimized


def test_never_touches_comments_it_did_not_write(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.add_comment(7, "quoting the bot: <!-- istio-pr-bot --> looks fine", HUMAN)
    run("pull_request", pr_payload(fake, origin))
    comments = fake.bodies(7)
    assert comments[0] == ("octocat", "quoting the bot: <!-- istio-pr-bot --> looks fine")
    assert len(comments) == 2 and comments[1][0] == "github-actions[bot]"


def test_all_clear_when_a_push_removes_the_istio_changes(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    run("pull_request", pr_payload(fake, origin))
    files: dict[str, str | None] = {str(p.relative_to(origin.path)): None for p in origin.path.rglob("*.yaml")}
    for p in (ROOT / "examples" / "base").rglob("*.yaml"):
        files[str(p.relative_to(ROOT / "examples" / "base"))] = p.read_text()
    origin.push(files)
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, _, _ = run("pull_request", pr_payload(fake, origin, updated="2026-11-20T13:00:00Z"))
    ((_, body),) = fake.bodies(7)
    assert code == 0 and body.startswith("✅ istio-pr-bot: no Istio resources changed in this pull request.")


def test_fork_pull_request_writes_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.read_only.add(TOKEN)
    code, stdout, summary, outputs = run("pull_request", pr_payload(fake, origin, fork=True), {"check-run": "true"})
    assert code == 1 and writes(fake) == [] and fake.comments[7] == []
    assert stdout.count("pull request from a fork") == 1 and summary.startswith("### ⛔")
    assert outputs["errors"] == "8"


def test_read_only_token_is_reported_once_and_keeps_the_verdict(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.read_only.add(TOKEN)
    code, stdout, summary, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 1 and fake.comments[7] == [] and stdout.count("could not update the pull request comment") == 1
    assert summary.startswith("### ⛔")


def test_check_run_carries_every_annotation_in_batches(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    many = "".join(
        f"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: v{i}\n  namespace: shop\n"
        f"spec:\n  hosts: [svc{i}]\n  http:\n  - route:\n    - destination: {{host: svc{i}, subset: nope}}\n"
        for i in range(60))
    origin.push({"shop/many.yaml": many})
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, stdout, _, _ = run("pull_request", pr_payload(fake, origin), {"check-run": "true"})
    (entry,) = fake.check_runs
    assert entry["run"]["conclusion"] == "failure" and entry["run"]["head_sha"] == origin.head
    assert len(entry["annotations"]) == 78  # 68 errors, 8 warnings, 2 notices
    assert [m for m, p, _ in writes(fake) if "check-runs" in p] == ["POST", "PATCH"]
    assert stdout.count("::error file=") == 10 and "more findings are not annotated here" in stdout


def test_push_event_diffs_before_and_after(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    payload = adapt(contract.webhook("push"), fake)
    payload.update(before=origin.base, after=origin.head)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, summary, outputs = run("push", payload)
    assert code == 1 and summary.startswith("### ⛔") and fake.comments[7] == [] and "comment-url" not in outputs


def test_workflow_dispatch_audit_with_tracking_issue(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    payload = adapt(contract.webhook("workflow_dispatch"), fake)
    code, _, summary, outputs = run("workflow_dispatch", payload, {"audit-issue": "true"})
    assert code == 1 and "Istio resources" in summary.splitlines()[0]
    (number,) = [n for n in fake.issues]
    assert fake.issues[number]["state"] == "open" and "<!-- istio-pr-bot:audit -->" in fake.issues[number]["body"]
    run("workflow_dispatch", payload, {"audit-issue": "true"})
    assert list(fake.issues) == [number]  # updated by marker, not duplicated
    clean = {str(p.relative_to(origin.path)): None for p in origin.path.rglob("*.yaml")}
    clean["ok.yaml"] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\n  namespace: shop\n"
    origin.push(clean)
    code, _, _, _ = run("schedule", {"schedule": "0 6 * * *", "repository": payload["repository"],
                                     "sender": payload["sender"]}, {"audit-issue": "true"})
    assert code == 0 and fake.issues[number]["state"] == "closed"


def test_publish_mode_posts_a_verified_artifact(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.read_only.add(TOKEN)
    run("pull_request", pr_payload(fake, origin, fork=True))  # the unprivileged run
    report = json.loads((tmp_path / "ws1" / ".istio-pr-bot" / "report.json").read_text())
    assert report["pull_request"] == {"number": 7, "head_sha": origin.head}
    fake.read_only.discard(TOKEN)
    payload = adapt(contract.webhook("workflow_run", "completed"), fake)
    payload["workflow_run"]["head_sha"] = origin.head
    artifact = tmp_path / "artifact.json"
    artifact.write_text(json.dumps(report))
    code, _, _, outputs = run("workflow_run", payload, {"report": str(artifact)}, ref="main")
    ((_, body),) = fake.bodies(7)
    assert code == 0 and body.startswith("### ⛔ Not safe to merge as is") and outputs["comment-url"]
    report["pull_request"]["number"] = 8  # a tampered artifact claiming another pull request
    fake.add_pull(8, "f" * 40, origin.base)
    artifact.write_text(json.dumps(report))
    code, stdout, _, _ = run("workflow_run", payload, {"report": str(artifact)}, ref="main")
    assert code == 2 and "refusing to post it" in stdout and fake.comments[8] == []


def test_unsupported_event_is_a_clear_no_op(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    code, stdout, _, _ = run("issues", adapt(contract.webhook("issues", "opened"), fake))
    assert code == 0 and "does nothing on 'issues' events" in stdout and fake.requests == []


def test_lost_post_response_is_not_posted_twice(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.faults.append(Fault("POST", rf"/repos/{REPO}/issues/7/comments", 502, apply_first=True))
    code, stdout, _, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 1 and len(fake.comments[7]) == 1


def test_server_errors_exhaust_retries_and_keep_the_verdict(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.faults.append(Fault("GET", rf"/repos/{REPO}/issues/7/comments", 503, times=50))
    code, stdout, summary, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 1 and fake.comments[7] == [] and "could not update the pull request comment" in stdout
    assert summary.startswith("### ⛔")


def test_pull_request_target_reads_base_and_head_from_the_payload(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    code, _, _, outputs = run("pull_request_target", pr_payload(fake, origin), ref="main")  # base checked out
    ((_, body),) = fake.bodies(7)
    assert code == 1 and f'"head":"{origin.head}"' in body and outputs["errors"] == "8"


def test_on_empty_none_posts_nothing_until_there_is_something(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    files: dict[str, str | None] = {str(p.relative_to(origin.path)): None for p in origin.path.rglob("*.yaml")}
    for p in (ROOT / "examples" / "base").rglob("*.yaml"):
        files[str(p.relative_to(ROOT / "examples" / "base"))] = p.read_text()
    files[".istio-pr-bot.yaml"] = "comment:\n  on-empty: none\n"
    origin.push(files)
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, summary, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 0 and fake.comments[7] == [] and summary.startswith("✅")
