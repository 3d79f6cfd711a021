"""The GitHub Action entry point (`istio-pr-bot action`): reads the runner's environment, runs the
same engine as the CLI, and publishes the result as a comment, annotations, a check run, a job
summary and step outputs. It never fails a build because GitHub could not be written to: the exit
code is the verdict's."""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from bot import git, tree
from bot.analyze import Review, load_config, review_audit, review_diff
from bot.config import FILE_NAME, FAIL_ON, Config, parse_version
from bot.errors import BotError
from bot.findings import Severity
from bot.report import Report

SUPPORTED = ("pull_request", "pull_request_target", "push", "workflow_dispatch", "schedule", "workflow_run")
COMMENT_MODES = ("update", "hide-and-new", "new", "off")
MODES = ("auto", "diff", "audit", "publish")
SUMMARY_BYTES = 1_000_000  # GitHub drops a step summary over 1 MiB entirely
ISSUE_MARKER = "<!-- istio-pr-bot:audit -->"
ZERO = "0" * 40


@dataclass
class Inputs:
    token: str = ""
    config: str = ""
    paths: tuple[str, ...] = ()
    fail_on: str = ""
    istio_version: str = ""
    comment: str = "update"
    annotations: bool = True
    check_run: bool = False
    mode: str = "auto"
    base: str = ""
    head: str = ""
    audit_issue: bool = False
    report: str = ".istio-pr-bot/report.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def get(name: str, default: str = "") -> str:
            for key in (f"INPUT_{name.upper()}", f"INPUT_{name.upper().replace('-', '_')}"):
                if env.get(key, "").strip():
                    return env[key].strip()
            return default

        def flag(name: str, default: bool) -> bool:
            value = get(name, "true" if default else "false").lower()
            if value not in ("true", "false"):
                raise BotError(f"input {name} must be true or false, got {value!r}")
            return value == "true"

        def choice(name: str, options: tuple[str, ...], default: str) -> str:
            value = get(name, default)
            if value not in options:
                raise BotError(f"input {name} must be one of {', '.join(options)}, got {value!r}")
            return value

        return cls(
            token=get("github-token", env.get("GITHUB_TOKEN", "")),
            config=get("config"),
            paths=tuple(p.strip() for p in get("paths").replace("\n", ",").split(",") if p.strip()),
            fail_on=choice("fail-on", ("",) + FAIL_ON, ""),
            istio_version=get("istio-version"),
            comment=choice("comment", COMMENT_MODES, "update"),
            annotations=flag("annotations", True),
            check_run=flag("check-run", False),
            mode=choice("mode", MODES, "auto"),
            base=get("base"),
            head=get("head"),
            audit_issue=flag("audit-issue", False),
            report=get("report", ".istio-pr-bot/report.json"),
        )


@dataclass
class Runner:
    """What GitHub gives a step: environment, event payload, files for outputs and the summary."""

    env: Mapping[str, str]
    out: TextIO
    inputs: Inputs
    event: str
    payload: dict[str, Any]
    workspace: str
    repository: str
    notes: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str], out: TextIO) -> Runner:
        path = env.get("GITHUB_EVENT_PATH", "")
        payload: dict[str, Any] = {}
        if path:
            try:
                with open(path, encoding="utf-8") as fh:
                    loaded = json.load(fh)
                payload = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError) as exc:
                raise BotError(f"cannot read the event payload {path}: {exc}") from None
        return cls(env, out, Inputs.from_env(env), env.get("GITHUB_EVENT_NAME", ""), payload,
                   env.get("GITHUB_WORKSPACE", os.getcwd()), env.get("GITHUB_REPOSITORY", ""))

    def log(self, text: str) -> None:
        self.out.write(text.replace(self.inputs.token, "***") if self.inputs.token else text)
        if not text.endswith("\n"):
            self.out.write("\n")

    def notice(self, text: str) -> None:
        self.log(f"::notice::{_escape(text)}")

    def warn(self, text: str) -> None:
        self.log(f"::warning::{_escape(text)}")

    def set_output(self, name: str, value: str) -> None:
        self.outputs[name] = value

    def flush_outputs(self) -> None:
        path = self.env.get("GITHUB_OUTPUT")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as fh:
            for name, value in self.outputs.items():
                delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
                fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def summary(self, text: str) -> None:
        path = self.env.get("GITHUB_STEP_SUMMARY")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def main(env: Mapping[str, str] | None = None, out: TextIO | None = None, keep: list[object] | None = None) -> int:
    """Run as a step; `keep` receives what the run built, to outlive this call (see `bot.cli.entry`)."""
    env = os.environ if env is None else env
    out = sys.stdout if out is None else out
    try:
        runner = Runner.from_env(env, out)
    except BotError as exc:
        out.write(f"::error::{_escape(f'istio-pr-bot: {exc}')}\n")
        return 2
    try:
        return _run(runner, keep)
    except BotError as exc:
        runner.log(f"::error::{_escape(f'istio-pr-bot: {exc}')}")
        return 2
    except Exception as exc:  # noqa: BLE001 - a required check reports, it does not crash
        if env.get("RUNNER_DEBUG") == "1":
            raise
        runner.log(f"::error::{_escape(f'istio-pr-bot: internal error: {type(exc).__name__}: {exc}')}")
        return 2


def _mode(runner: Runner) -> str:
    if runner.inputs.mode != "auto":
        return runner.inputs.mode
    if runner.event in ("pull_request", "pull_request_target", "push"):
        return "diff"
    if runner.event == "workflow_run":
        return "publish"
    return "audit"


def _config(runner: Runner) -> Config:
    path = runner.inputs.config or os.path.join(runner.workspace, FILE_NAME)
    text = None
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    elif runner.inputs.config:
        raise BotError(f"config file {runner.inputs.config} not found")
    config = load_config(text, runner.inputs.config or FILE_NAME)
    if runner.inputs.istio_version:
        config = replace(config, istio_version=parse_version(runner.inputs.istio_version, "istio-version"))
    if runner.inputs.paths:
        config = replace(config, paths=runner.inputs.paths)
    return config


def _github(runner: Runner) -> Any:
    if not runner.inputs.token or not runner.repository:
        return None
    from bot.github import GitHub

    pause = float(runner.env.get("ISTIO_PR_BOT_WRITE_PAUSE", "0.5"))
    retries = int(runner.env.get("ISTIO_PR_BOT_RETRIES", "4"))
    backoff = float(runner.env.get("ISTIO_PR_BOT_BACKOFF", "1.0"))
    timeout = int(runner.env.get("ISTIO_PR_BOT_TIMEOUT", "15"))
    return GitHub(runner.inputs.token, runner.env.get("GITHUB_API_URL", "https://api.github.com"),
                  runner.repository, write_pause=pause, retries=retries, backoff=backoff, timeout=timeout)


def _pull(payload: dict[str, Any]) -> dict[str, Any]:
    pull = payload.get("pull_request")
    return pull if isinstance(pull, dict) else {}


def _sha(value: Any) -> str:
    return value if isinstance(value, str) and len(value) == 40 and all(c in "0123456789abcdef" for c in value) else ""


def _refs(runner: Runner) -> tuple[str, str, int | None]:
    """(base, head, pull request number) for a diff."""
    if runner.inputs.base and runner.inputs.head:
        number = _pull(runner.payload).get("number")
        return runner.inputs.base, runner.inputs.head, number if isinstance(number, int) else None
    if runner.event in ("pull_request", "pull_request_target"):
        pull = _pull(runner.payload)
        base = _sha(pull.get("base", {}).get("sha")) if isinstance(pull.get("base"), dict) else ""
        head = _sha(pull.get("head", {}).get("sha")) if isinstance(pull.get("head"), dict) else ""
        if not base or not head:
            raise BotError("the pull_request payload has no base/head SHA")
        number = pull.get("number")
        return base, head, number if isinstance(number, int) else None
    if runner.event == "push":
        return _sha(runner.payload.get("before")), _sha(runner.payload.get("after")), None
    raise BotError(f"mode diff needs a pull_request or push event, or the base and head inputs (event: {runner.event})")


def _is_fork(runner: Runner) -> bool:
    if runner.event != "pull_request":
        return False
    head_repo = _pull(runner.payload).get("head", {}).get("repo") if isinstance(_pull(runner.payload).get("head"), dict) else None
    name = head_repo.get("full_name") if isinstance(head_repo, dict) else None
    return bool(name) and name != runner.repository


def _ensure_commits(runner: Runner, gh: Any, base: str, head: str) -> str:
    """Make sure base (as the merge-base) and head exist locally; a depth-1 checkout lacks them."""
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


def _run(runner: Runner, keep: list[object] | None) -> int:
    if runner.event not in SUPPORTED:
        runner.notice(f"istio-pr-bot does nothing on '{runner.event}' events (it runs on {', '.join(SUPPORTED)})")
        return 0
    git.trust(runner.workspace)
    mode = _mode(runner)
    if mode == "publish":
        return _publish(runner)
    config = _config(runner)
    gh = _github(runner)
    number = None
    review: Review | None = None
    if mode == "diff":
        base, head, number = _refs(runner)
        if not base or base == ZERO:
            runner.notice("no base commit (a new branch): auditing the pushed revision instead")
            mode, head = "audit", head or "HEAD"
        else:
            merge_base = _ensure_commits(runner, gh, base, head)
            (base_files, head_files), skipped = tree.from_git(runner.workspace, [merge_base, head], config)
            review = review_diff(base_files, head_files, config, merge_base, head, skipped)
    if mode == "audit":
        head = runner.inputs.head or runner.env.get("GITHUB_SHA", "") or "HEAD"
        commit = git.resolve(runner.workspace, head)
        (files,), skipped = tree.from_git(runner.workspace, [commit], config)
        review = review_audit(files, config, commit, skipped)
    assert review is not None
    if keep is not None:
        keep.append(review)
    report = review.report
    fail_on = runner.inputs.fail_on or config.fail_on
    _publish_report(runner, report, gh, number, fail_on, config)
    return 1 if report.failing(fail_on) else 0


def _link_base(runner: Runner, head: str) -> str:
    server = runner.env.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{runner.repository}/blob/{head}" if runner.repository and _sha(head) else ""


def _write_files(runner: Runner, report: Report, number: int | None) -> None:
    from bot.plan import stage_files
    from bot.render import json_report, sarif

    folder = Path(runner.workspace) / ".istio-pr-bot"
    folder.mkdir(parents=True, exist_ok=True)
    data = json_report.as_dict(report)
    if number is not None:
        data["pull_request"] = {"number": number, "head_sha": report.head}
    (folder / "report.json").write_text(json.dumps(data, indent=2) + "\n")
    (folder / "report.sarif").write_text(sarif.render(report))
    plan_dir = folder / "plan"
    plan_dir.mkdir(exist_ok=True)
    for name, text in stage_files(report.plan).items():
        (plan_dir / name).write_text(text)


def _publish_report(runner: Runner, report: Report, gh: Any, number: int | None, fail_on: str, config: Config,
                    write_files: bool = True) -> None:
    from bot.render import annotations, markdown
    from bot.render.summary import max_severity

    link = _link_base(runner, report.head)
    if write_files:
        _write_files(runner, report, number)
        runner.set_output("report-json", ".istio-pr-bot/report.json")
        runner.set_output("sarif", ".istio-pr-bot/report.sarif")
        runner.set_output("plan-dir", ".istio-pr-bot/plan")
    template = _template(runner, config)
    runner.summary(_summary(report, link, template))
    if runner.inputs.annotations:
        runner.log(annotations.render(report))
    for severity in Severity:
        runner.set_output(f"{severity.value}s", str(sum(1 for f in report.headline() if f.severity is severity)))
    top = max_severity(report)
    runner.set_output("max-severity", top.value if top else "none")
    read_only = _is_fork(runner)
    if read_only:
        runner.notice("pull request from a fork: the token is read-only, so no comment or check run is written; "
                      "the job summary, annotations and exit code carry the result (see the README for the "
                      "two-workflow recipe that comments on fork pull requests)")
    writes_ok = gh is not None and not read_only
    if writes_ok and number is not None and runner.inputs.comment != "off" and report.mode == "diff":
        body = markdown.render(report, link_base=link or None, template_text=template)
        quiet = not report.changes and not report.findings and config.comment.get("on-empty") == "none"
        url = _sticky(runner, gh, number, body, only_update=quiet)
        runner.set_output("comment-url", url)
    if writes_ok and runner.inputs.check_run:
        _check_run(runner, gh, report, fail_on)
    if writes_ok and report.mode == "audit" and runner.inputs.audit_issue:
        _audit_issue(runner, gh, report, link, template)
    runner.flush_outputs()


def _template(runner: Runner, config: Config) -> str | None:
    path = config.comment.get("template") if isinstance(config.comment, dict) else None
    if not path:
        return None
    full = os.path.join(runner.workspace, str(path))
    try:
        with open(full, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        raise BotError(f"comment template {path} not found") from None


def _summary(report: Report, link: str, template: str | None) -> str:
    from bot.render import markdown

    limit = SUMMARY_BYTES
    while True:
        text = markdown.render(report, link_base=link or None, template_text=template, limit=limit)
        if len(text.encode("utf-8")) <= SUMMARY_BYTES:
            return text
        limit //= 2


def _when(runner: Runner) -> str:
    pull = _pull(runner.payload)
    stamp = pull.get("updated_at")
    if isinstance(stamp, str) and stamp:
        return stamp
    return f"run-{int(runner.env.get('GITHUB_RUN_NUMBER', '0') or 0):012d}"


def _try_write(runner: Runner, what: str, fn: Callable[[], Any]) -> Any:
    """Run a write; a failure is reported once and does not change the verdict."""
    try:
        return fn()
    except BotError as exc:
        status = getattr(exc, "status", None)
        if status == 403:
            runner.warn(f"istio-pr-bot could not {what}: the token may not write here ({exc}); give the job "
                        "`pull-requests: write` (comments) or `checks: write` (check runs)")
        else:
            runner.warn(f"istio-pr-bot could not {what}: {exc}; the verdict, summary and annotations stand")
        return None


def _sticky(runner: Runner, gh: Any, number: int, body: str, only_update: bool = False) -> str:
    from bot import sticky

    head = _sha(_pull(runner.payload).get("head", {}).get("sha")) if isinstance(_pull(runner.payload).get("head"), dict) else ""
    when = _when(runner)
    body = sticky.stamp(body, head, when)

    def sync() -> str:
        me = gh.identity()
        decision = sticky.decide(gh.comments(number), me, body, when, runner.inputs.comment)
        if only_update and decision.action == "create":
            return ""  # on-empty: none, and no earlier comment to turn into an all-clear
        url = decision.target.url if decision.target else ""
        if decision.action in ("create", "update") and head and runner.event != "workflow_run":
            current, _ = gh.pull_head(number)
            if current != head:  # pushed again meanwhile: that push's run owns the comment
                runner.log(f"istio-pr-bot: comment not changed: the pull request moved on to {current[:12]}")
                return url
        if decision.action == "update" and decision.target:
            url = gh.edit_comment(number, decision.target, body).url
        elif decision.action == "create":
            url = _create_once(gh, number, body, me)
        elif decision.reason:
            runner.log(f"istio-pr-bot: comment not changed: {decision.reason}")
        for old in decision.hide:
            gh.minimize_comment(number, old)
        if decision.action == "create" and runner.inputs.comment == "update":
            url = _settle(gh, number, me, url)
        return url

    return _try_write(runner, "update the pull request comment", sync) or ""


def _settle(gh: Any, number: int, me: str, url: str) -> str:
    """Two runs that both found no comment both create one: keep the newest, delete the others.

    Every run reaches the same choice (newest event time, then lowest id), so racing runs converge
    on one comment; only comments this identity wrote are ever deleted.
    """
    from bot import sticky

    mine = sticky.ours(gh.comments(number), me)
    if len(mine) <= 1:
        return url
    keep = max(mine, key=lambda c: (sticky.meta(c.body).get("time", ""), -c.id))
    for comment in mine:
        if comment.id != keep.id:
            gh.delete_comment(number, comment)
    return keep.url


def _create_once(gh: Any, number: int, body: str, me: str, attempts: int = 3) -> str:
    """POST the comment; after a failure, look for it before posting again: never two comments."""
    import time

    from bot import sticky

    for attempt in range(attempts):
        try:
            return str(gh.create_comment(number, body).url)
        except BotError as exc:
            if getattr(exc, "status", None) in (403, 404, 422) or attempt == attempts - 1:
                raise
            time.sleep(gh.backoff * 2**attempt)
            for comment in reversed(sticky.ours(gh.comments(number), me)):
                if sticky.meta(comment.body) == sticky.meta(body):
                    return comment.url  # the lost POST was stored after all
    raise AssertionError("unreachable")


def _check_run(runner: Runner, gh: Any, report: Report, fail_on: str) -> None:
    from bot.render.summary import verdict

    level = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
    items = [{
        "path": f.resource.file, "start_line": f.location_line, "end_line": f.location_line,
        "annotation_level": level[f.severity], "title": f"{f.rule}: {f.resource.display}"[:255],
        "message": (f.message + (f" Fix: {f.fix}" if f.fix else ""))[:60_000],
    } for f in report.headline()]
    conclusion = "failure" if report.failing(fail_on) else "success"
    head = report.head if _sha(report.head) else runner.env.get("GITHUB_SHA", "")
    _try_write(runner, "create the check run",
               lambda: gh.check_run("istio-pr-bot", head, conclusion, verdict(report)[:255],
                                    verdict(report), items))


def _audit_issue(runner: Runner, gh: Any, report: Report, link: str, template: str | None) -> None:
    from bot.render import markdown

    def sync() -> None:
        me = gh.identity()
        found = gh.find_issue(ISSUE_MARKER, me)
        clean = not report.findings
        body = ISSUE_MARKER + "\n" + markdown.render(report, link_base=link or None, template_text=template)
        if found is None and clean:
            return
        number, state, old = found if found else (None, "open", "")
        target_state = "closed" if clean else "open"
        if found and old == body and state == target_state:
            return
        url = gh.save_issue(number, "istio-pr-bot audit: Istio configuration findings", body, target_state)
        runner.set_output("audit-issue-url", url)

    _try_write(runner, "update the audit issue", sync)


def _publish(runner: Runner) -> int:
    """workflow_run: post a report made by a pull_request run, without running any PR code."""
    from bot.report_json import load_report

    path = os.path.join(runner.workspace, runner.inputs.report)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise BotError(f"cannot read the report artifact {runner.inputs.report}: {exc}") from None
    report = load_report(data)
    run = runner.payload.get("workflow_run") if isinstance(runner.payload.get("workflow_run"), dict) else {}
    claimed = data.get("pull_request") if isinstance(data.get("pull_request"), dict) else {}
    number = claimed.get("number")
    head = _sha(run.get("head_sha"))
    gh = _github(runner)
    if not isinstance(number, int) or not head or gh is None:
        raise BotError("publish mode needs a workflow_run event, a token, and a report from a pull_request run")
    actual_head, state = gh.pull_head(number)
    if actual_head != head or _sha(claimed.get("head_sha")) != head:
        raise BotError(f"the report claims pull request #{number}, whose head is not the commit this run "
                       "was triggered for; refusing to post it")
    if state != "open":
        runner.notice(f"pull request #{number} is {state}; nothing to post")
        return 0
    payload = dict(runner.payload)
    payload["pull_request"] = {"number": number, "head": {"sha": head}, "updated_at": run.get("updated_at", "")}
    runner.payload = payload
    fail_on = runner.inputs.fail_on or "error"
    _publish_report(runner, report, gh, number, fail_on, Config(), write_files=False)
    return 0
