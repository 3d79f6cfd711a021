"""Workflows grant what their steps need and no more; the examples pin this action to a real commit."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import load_script

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(ROOT.glob("examples/workflows/*.yml"))
ALL_WORKFLOWS = sorted([*ROOT.glob(".github/workflows/*.yml"), *EXAMPLES])
# Workflows whose every job is made of `uses:` steps, so their needs can be derived from the steps.
DERIVABLE = [*EXAMPLES, ROOT / ".github" / "workflows" / "istio-review.yml"]
ACTION = "istio-pr-bot/istio-pr-bot"
LEVEL = {"none": 0, "read": 1, "write": 2}
pin_action = load_script("pin_action")

Workflow = dict[Any, Any]  # keys are str, except a bare `on`, which YAML 1.1 reads as True


def load(path: Path) -> Workflow:
    data: Workflow = yaml.safe_load(path.read_text())
    return data


def events(workflow: Workflow) -> set[str]:
    on = workflow.get("on", workflow.get(True))
    return {on} if isinstance(on, str) else set(on or ())


def flag(value: object) -> bool:
    return str(value).lower() == "true"


def bot_mode(with_: dict[str, Any], on: set[str]) -> str:
    """The mode the action runs in, as bot/action.py picks it from the input and the event."""
    mode = str(with_.get("mode", "auto"))
    if mode != "auto":
        return mode
    if on & {"pull_request", "pull_request_target", "push"}:
        return "diff"
    return "publish" if on == {"workflow_run"} else "audit"


def step_needs(step: dict[str, Any], on: set[str]) -> dict[str, str]:
    """The token permissions a step needs, from its `uses:` and `with:`."""
    uses = str(step.get("uses", "")).split("@")[0]
    with_ = step.get("with") or {}
    if uses == "actions/checkout":
        return {"contents": "read"}
    if uses == "actions/download-artifact" and "run-id" in with_:
        return {"actions": "read"}  # an artifact of another run
    if uses == "github/codeql-action/upload-sarif":
        return {"security-events": "write"}
    if uses.rstrip("/") in (ACTION, "."):  # this action, by name or from the checkout
        needs = {}
        mode = bot_mode(with_, on)
        commenting = str(with_.get("comment", "update")) != "off"
        if commenting and (mode == "publish" or (mode == "diff" and on & {"pull_request", "pull_request_target"})):
            needs["pull-requests"] = "write"  # the sticky comment
        if flag(with_.get("check-run", "false")):
            needs["checks"] = "write"
        if mode == "audit" and flag(with_.get("audit-issue", "false")):
            needs["issues"] = "write"
        return needs
    return {}


def permission_problems(workflow: Workflow, derive: bool = True) -> list[str]:
    """Per job: permissions set on the job, none written at workflow level; with `derive`, every
    permission a step needs is granted and no write is granted that no step needs."""
    problems = []
    top = workflow.get("permissions")
    if not isinstance(top, dict) or any(level == "write" for level in top.values()):
        problems.append(f"workflow-level permissions must be {{}} or read-only, not {top!r}")
    on = events(workflow)
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions")
        if not isinstance(granted, dict):
            problems.append(f"{name}: no job-level permissions")
            continue
        needed: dict[str, str] = {}
        for step in job.get("steps", []):
            for scope, level in step_needs(step, on).items():
                if LEVEL[level] > LEVEL[needed.get(scope, "none")]:
                    needed[scope] = level
        if not derive:
            continue
        for scope, level in needed.items():
            if LEVEL[granted.get(scope, "none")] < LEVEL[level]:
                problems.append(f"{name}: needs {scope}: {level}")
        for scope, level in granted.items():
            if level == "write" and needed.get(scope) != "write":
                problems.append(f"{name}: grants {scope}: write that no step needs")
    return problems


@pytest.mark.parametrize("path", DERIVABLE, ids=[p.name for p in DERIVABLE])
def test_each_job_grants_exactly_the_writes_its_steps_need(path: Path) -> None:
    assert permission_problems(load(path)) == []


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=[p.name for p in ALL_WORKFLOWS])
def test_permissions_are_set_per_job(path: Path) -> None:
    assert permission_problems(load(path), derive=False) == []


def edited(name: str, job: str, change: Any) -> Workflow:
    workflow = copy.deepcopy(load(ROOT / "examples" / "workflows" / name))
    change(workflow["jobs"][job])
    return workflow


def bot_step(job: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in job["steps"] if str(s.get("uses", "")).startswith(ACTION))
    step.setdefault("with", {})
    return step


@pytest.mark.parametrize(("workflow", "problem"), [
    (edited("pr-check.yml", "review", lambda j: j["permissions"].pop("security-events")),
     "review: needs security-events: write"),
    (edited("pr-check.yml", "review", lambda j: j["permissions"].pop("pull-requests")),
     "review: needs pull-requests: write"),
    (edited("pr-check.yml", "review", lambda j: bot_step(j)["with"].update({"check-run": "true"})),
     "review: needs checks: write"),
    (edited("audit.yml", "audit", lambda j: j["permissions"].update({"issues": "read"})),
     "audit: needs issues: write"),
    (edited("fork-safe-review.yml", "review", lambda j: j["permissions"].update({"pull-requests": "write"})),
     "review: grants pull-requests: write that no step needs"),
    (edited("fork-safe-publish.yml", "publish", lambda j: j["permissions"].pop("actions")),
     "publish: needs actions: read"),
    (edited("audit.yml", "audit", lambda j: bot_step(j)["with"].update({"audit-issue": "false"})),
     "audit: grants issues: write that no step needs"),
    (edited("audit.yml", "audit", lambda j: j.pop("permissions")), "audit: no job-level permissions"),
])
def test_a_missing_or_excess_permission_is_caught(workflow: Workflow, problem: str) -> None:
    assert problem in permission_problems(workflow)


def test_workflow_level_write_is_caught() -> None:
    workflow = copy.deepcopy(load(ROOT / "examples" / "workflows" / "pr-check.yml"))
    workflow["permissions"] = {"contents": "read", "pull-requests": "write"}
    assert any(p.startswith("workflow-level permissions") for p in permission_problems(workflow))


PIN = re.compile(rf"uses:[ \t]*{re.escape(ACTION)}@(\S+)(?:[ \t]+#[ \t]*(\S+))?")


def pins() -> list[tuple[str, str, str | None]]:
    return [(path.name, m.group(1), m.group(2)) for path in pin_action.pinned_files(ROOT)
            for m in PIN.finditer(path.read_text())]


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)


def test_examples_pin_one_commit_with_its_version() -> None:
    found = pins()
    assert {name for name, _, _ in found} >= {p.name for p in EXAMPLES} | {"README.md"}
    shas = {sha for _, sha, _ in found}
    assert len(shas) == 1, f"the examples pin different refs: {found}"
    [sha] = shas
    assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{sha} is not a full commit SHA"
    comments = {comment for _, _, comment in found}
    assert len(comments) == 1 and re.fullmatch(r"v\d+\.\d+\.\d+", str(next(iter(comments)))), found


def test_the_pinned_commit_is_in_this_repository_and_has_that_version() -> None:
    if git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("not a git checkout: the pinned commit cannot be looked up")
    if git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("shallow clone: the pinned commit may be outside it (CI fetches the full history)")
    _, sha, comment = pins()[0]
    assert git("merge-base", "--is-ancestor", sha, "HEAD").returncode == 0, (
        f"{sha} is not a commit in this branch's history: run scripts/pin_action.py with a released commit")
    assert pin_action.resolve(ROOT, sha) == (sha, str(comment).removeprefix("v"))


def test_pin_script_rewrites_every_reference(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "workflows", tmp_path / "examples" / "workflows")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    before = {p: p.read_text() for p in pin_action.pinned_files(tmp_path)}
    changed = pin_action.pin(tmp_path, "f" * 40, "9.8.7")
    assert set(changed) == set(before)
    for path, old in before.items():
        new = path.read_text()
        assert f"uses: {ACTION}@{'f' * 40} # v9.8.7" in new
        assert PIN.sub("", new) == PIN.sub("", old), f"{path.name}: only the pins may change"
    assert pin_action.pin(tmp_path, "f" * 40, "9.8.7") == []


def test_readme_shows_the_pr_check_example_as_it_is() -> None:
    """The README's set-up snippet is examples/workflows/pr-check.yml, so the two cannot drift."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use it in your repository", 1)[1]
    snippet = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert snippet
    example = (ROOT / "examples" / "workflows" / "pr-check.yml").read_text()
    assert snippet.group(1) == re.sub(r"\A(#[^\n]*\n)+", "", example)  # less the header comment
