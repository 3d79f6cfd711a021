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
    """A remote with main = examples/base and pr = examples/head (or another pair), plus later pushes."""

    def __init__(self, tmp: Path, base: Path = ROOT / "examples" / "base", head: Path = ROOT / "examples" / "head") -> None:
        self.path = tmp / "origin"
        self.path.mkdir()
        git(self.path, "init", "-q", "-b", "main")
        copy_tree(base, self.path)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-qm", "base")
        self.base = git(self.path, "rev-parse", "HEAD")
        git(self.path, "checkout", "-qb", "pr")
        copy_tree(head, self.path)
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

    def push_base(self, files: dict[str, str]) -> str:
        """Commit on main (the pull request's base) and merge it into pr, as a pull request brought up to date."""
        git(self.path, "checkout", "-q", "main")
        for name, text in files.items():
            (self.path / name).write_text(text)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-qm", "settings")
        self.base = git(self.path, "rev-parse", "HEAD")
        git(self.path, "checkout", "-q", "pr")
        git(self.path, "merge", "-q", "--no-edit", "main")
        self.head = git(self.path, "rev-parse", "HEAD")
        return self.base

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
    origin.push(back_to_base(origin, {}))
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, _, _ = run("pull_request", pr_payload(fake, origin, updated="2026-11-20T13:00:00Z"))
    ((_, body),) = fake.bodies(7)
    assert code == 0 and body.startswith("✅ istio-pr-bot: no Istio resources changed in this pull request.")


def test_paths_that_match_no_manifest_are_named(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    code, stdout, summary, _ = run("workflow_dispatch", adapt(contract.webhook("workflow_dispatch"), fake),
                                   {"paths": "k8s/**/*.yaml"})
    assert code == 0 and summary.startswith("### ⚠️ Nothing reviewed: No rollout risks in 0 Istio resources")
    assert "::warning::istio-pr-bot: no Istio resources in the files read (paths: k8s/**/*.yaml)" in stdout


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


def back_to_base(origin: Origin, extra: dict[str, str | None]) -> dict[str, str | None]:
    """The files that turn the pull request's head back into the base, plus `extra`."""
    files: dict[str, str | None] = {str(p.relative_to(origin.path)): None for p in origin.path.rglob("*.yaml")}
    for p in (ROOT / "examples" / "base").rglob("*.yaml"):
        files[str(p.relative_to(ROOT / "examples" / "base"))] = p.read_text()
    return {**files, **extra}


def test_no_comment_on_a_pull_request_without_istio_changes(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    origin.push(back_to_base(origin, {"README.md": "How we run the mesh.\n"}))
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, summary, outputs = run("pull_request", pr_payload(fake, origin))
    assert code == 0 and fake.comments[7] == [] and writes(fake) == [] and outputs["comment-url"] == ""
    assert summary.startswith("✅ istio-pr-bot: no Istio resources changed")
    # comment.on-empty: comment (on the base branch) asks for one all the same
    origin.push_base({".istio-pr-bot.yaml": "comment:\n  on-empty: comment\n"})
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, _, outputs = run("pull_request", pr_payload(fake, origin, updated="2026-11-20T11:00:00Z"))
    ((_, body),) = fake.bodies(7)
    assert code == 0 and body.startswith("✅ istio-pr-bot: no Istio resources changed") and outputs["comment-url"]


def test_a_comment_from_before_comment_keys_is_still_updated(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    old = fake.add_comment(7, "### ⛔ an earlier review\n\n<!-- istio-pr-bot -->\n<!-- istio-pr-bot:meta "
                              f'{{"head":"{origin.base}","time":"2026-11-19T00:00:00Z"}} -->\n', BOT)
    code, _, _, outputs = run("pull_request", pr_payload(fake, origin))
    ((_, body),) = fake.bodies(7)
    assert code == 1 and fake.comments[7][0]["id"] == old["id"] and body.startswith("### ⛔ Not safe to merge")
    assert [m for m, _, _ in writes(fake)] == ["PATCH"]


def test_comment_keys_racing_keep_one_comment_each(setup) -> None:  # type: ignore[no-untyped-def]
    """A matrix by folder: two legs per key start at once; each key settles on one comment of its own,
    and the comment without a key is never touched."""
    fake, origin, run = setup
    untouched = fake.add_comment(7, "### ✅ whole repository\n\n<!-- istio-pr-bot -->\n", BOT)["body"]
    legs = {"shop": "shop/**", "payments": "payments/**"}

    def race(updated: str) -> None:
        started = [run.start("pull_request", pr_payload(fake, origin, updated=updated),
                             {"comment-key": key, "paths": paths})
                   for key, paths in [*legs.items(), *legs.items()]]
        for leg in started:
            code, _, _, _ = run.wait(leg)
            assert code in (0, 1)

    race("2026-11-20T10:00:00Z")
    assert fake.bodies(7)[0] == ("github-actions[bot]", untouched)
    keyed = {key: [b for _, b in fake.bodies(7) if f"<!-- istio-pr-bot key={key} -->" in b] for key in legs}
    assert {key: len(found) for key, found in keyed.items()} == {"shop": 1, "payments": 1}
    assert keyed["shop"][0].startswith("### ⛔ `shop` Not safe to merge as is: 5 errors")
    assert keyed["payments"][0].startswith("### ⚠️ `payments` Review before merging: 1 warning in 1 changed")
    assert "<!-- istio-pr-bot -->" not in keyed["shop"][0] + keyed["payments"][0]
    ids = {c["id"] for c in fake.comments[7]}

    fixed = (origin.path / "shop" / "ratings.yaml").read_text().replace("subset: beta", "subset: stable")
    origin.push({"shop/ratings.yaml": fixed})
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    race("2026-11-20T11:00:00Z")
    assert {c["id"] for c in fake.comments[7]} == ids  # updated in place, one per key
    assert fake.bodies(7)[0][1] == untouched
    (shop,) = [b for _, b in fake.bodies(7) if "key=shop -->" in b]
    assert shop.startswith("### ⛔ `shop` Not safe to merge as is: 4 errors") and origin.head in shop


def test_a_bad_comment_key_is_refused(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    code, stdout, _, _ = run("pull_request", pr_payload(fake, origin), {"comment-key": "prod -->"})
    assert code == 2 and "input comment-key must be 1 to 64 letters" in stdout and writes(fake) == []


BYPASS = "fail-on: never\nrules:\n  subset-missing:\n    enabled: false\n  dr-tls-conflict:\n    enabled: false\n"


def bypass(fake: FakeGitHub, origin: Origin) -> None:
    """The pull request also turns its own check off: fail-on never, two rules disabled."""
    origin.push({".istio-pr-bot.yaml": BYPASS})
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base


def test_a_pull_request_cannot_loosen_its_own_check(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    bypass(fake, origin)
    code, stdout, summary, outputs = run("pull_request", pr_payload(fake, origin))
    ((_, body),) = fake.bodies(7)
    assert code == 1 and outputs["errors"] == "8"  # judged by the base branch's settings
    for text in (body, summary):
        assert text.startswith("### ⛔ Not safe to merge as is: 8 errors, 8 warnings, 2 notices")
        section = text[text.index("#### 🔧 This pull request changes its own review settings"):text.index("#### ⛔ Errors")]
        assert "The review uses the base branch's settings, which a pull request cannot loosen" in section
        for line in ("- **fail-on**: error → never", "- **rule dr-tls-conflict**: enabled → disabled",
                     "- **rule subset-missing**: enabled → disabled", "**With the new settings this check would pass.**",
                     "The new settings would hide 2 findings of this pull request:"):
            assert line in section, line
        hidden = [line for line in section.splitlines() if line.startswith("- Error `")]
        assert [h.split(" · ")[0] for h in hidden] == ["- Error `dr-tls-conflict`", "- Error `subset-missing`"]
        assert all(h.endswith(": rule disabled") for h in hidden)
    # Its own settings, asked for explicitly, let it pass; the comment still says what the base's would do.
    code, _, _, outputs = run("pull_request", pr_payload(fake, origin, updated="2026-11-20T11:00:00Z"),
                              {"config-from": "head"})
    ((_, body),) = fake.bodies(7)
    assert code == 0 and outputs["errors"] == "6" and body.startswith("### ⛔ Not safe to merge as is: 6 errors")
    assert "the review uses its settings (config-from: head)" in body
    assert "**With the base branch's settings this check would fail.**" in body
    assert "The base branch's settings would also report 2 findings this review leaves out:" in body


def test_pull_request_target_and_publish_read_the_base_settings(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    bypass(fake, origin)
    code, _, _, _ = run("pull_request_target", pr_payload(fake, origin), ref="main")
    ((_, body),) = fake.bodies(7)
    assert code == 1 and "- **fail-on**: error → never" in body
    fake.comments[7].clear()
    fake.read_only.add(TOKEN)
    code, _, _, _ = run("pull_request", pr_payload(fake, origin, fork=True))  # the unprivileged half
    assert code == 1
    report = json.loads((tmp_path / f"ws{run.count}" / ".istio-pr-bot" / "report.json").read_text())
    assert report["config_change"]["used"] == "base" and len(report["config_change"]["hidden"]) == 2
    fake.read_only.discard(TOKEN)
    payload = adapt(contract.webhook("workflow_run", "completed"), fake)
    payload["workflow_run"]["head_sha"] = origin.head
    (tmp_path / "artifact.json").write_text(json.dumps(report))
    code, _, _, _ = run("workflow_run", payload, {"report": str(tmp_path / "artifact.json")}, ref="main")
    ((_, body),) = fake.bodies(7)
    assert code == 0 and "**With the new settings this check would pass.**" in body


def test_settings_the_pull_request_breaks_or_a_template_it_edits(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    template = '{% extends "comment.md.j2" %}{% block footer %}\n\nReviewed under the platform team\'s rules.\n{{ marker }}{% endblock %}'
    origin.push_base({".istio-pr-bot.yaml": "comment:\n  template: review.md.j2\n", "review.md.j2": template})
    origin.push({"review.md.j2": "{{ marker }} all good, merge away", ".istio-pr-bot.yaml":
                 "comment:\n  template: review.md.j2\nfail-on: sometimes\n"})
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, _, _ = run("pull_request", pr_payload(fake, origin))
    ((_, body),) = fake.bodies(7)
    assert code == 1 and "Reviewed under the platform team's rules." in body and "merge away" not in body
    assert "its settings cannot be used: .istio-pr-bot.yaml: fail-on must be one of" in body
    assert "once merged, every review would stop with this error" in body
    origin.push({".istio-pr-bot.yaml": "comment:\n  template: review.md.j2\n"})
    fake.add_pull(7, origin.head, origin.base)
    fake.compare[(origin.base, origin.head)] = origin.base
    code, _, _, _ = run("pull_request", pr_payload(fake, origin, updated="2026-11-20T11:00:00Z"))
    ((_, body),) = fake.bodies(7)
    assert code == 1 and "- **comment template review.md.j2**: edited in this pull request" in body
    assert "Reviewed under the platform team's rules." in body


def test_pull_request_in_a_repository_of_overlays_reviews_each_cluster(
        tmp_path: Path, tools_on_path: str) -> None:
    """The overlay example through the Action: a depth-1 clone, the merge-base fetched, both overlays
    rendered from git objects, the finding annotated on the overlay's file with its target and cluster."""
    fixture = ROOT / "tests" / "targets" / "overlays"
    origin = Origin(tmp_path, fixture / "base", fixture / "head")
    with FakeGitHub(*REPO.split("/"), tokens={TOKEN: BOT}) as fake:
        fake.add_pull(7, origin.head, origin.base)
        fake.compare[(origin.base, origin.head)] = origin.base
        code, stdout, summary, outputs = Run(tmp_path, fake, origin)("pull_request", pr_payload(fake, origin))
        assert fake.violations == []
    assert code == 1 and outputs["errors"] == "1"
    ((_, body),) = fake.bodies(7)
    assert body.startswith("### ⛔ Not safe to merge as is: 1 error in 2 changed Istio resources; "
                           "2 changed targets in 2 clusters")
    # A section per target, the one with the error first: its error, then its cluster's plan.
    order = [body.index(h) for h in ("#### ⛔ overlays/prod · cluster prod · kustomize: 1 error",
                                     "**⛔ Errors introduced by this change (1)**",
                                     "**🚦 Rollout in cluster prod**", "⛔ **Fix the 1 error first.**",
                                     "#### ✅ overlays/dev · cluster dev · kustomize: no findings",
                                     "**🚦 Rollout in cluster dev**", "kubectl apply -f dev/stage-1.yaml")]
    assert order == sorted(order)
    assert "kubectl apply -f overlays/" not in body  # an overlay's file is not what the cluster gets
    assert ("::error file=overlays/prod/virtualservice.yaml,line=1,title=subset-missing%3A VirtualService "
            "shop/reviews (target overlays/prod%2C cluster prod)::") in stdout
    assert "duplicate-resource" not in body
    report = json.loads((tmp_path / "ws1" / ".istio-pr-bot" / "report.json").read_text())
    assert report["version"] == 2 and [(f["rule"], f["cluster"]) for f in report["findings"]] == [("subset-missing", "prod")]
    plan = tmp_path / "ws1" / ".istio-pr-bot" / "plan"
    assert sorted(p.relative_to(plan).as_posix() for p in plan.rglob("*.yaml")) == ["dev/stage-1.yaml"]
    assert "  labels:\n    env: dev\n  name: reviews\n  namespace: shop\n" in (plan / "dev" / "stage-1.yaml").read_text()
