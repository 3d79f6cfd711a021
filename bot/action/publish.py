"""Publishing a report from a step: files in the workspace, the job summary, annotations, step outputs,
the pull request comment, a check run and the audit issue. A write GitHub refuses is reported once
and never changes the verdict."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.action import sticky
from bot.action.client import GitHubClient
from bot.action.event import commit_id
from bot.action.runner import Runner
from bot.config import Config
from bot.errors import BotError
from bot.findings import Severity
from bot.plan import stage_files
from bot.render import annotations as workflow_commands
from bot.render import json_report, markdown, sarif
from bot.render.summary import max_severity, verdict
from bot.report import Report

SUMMARY_BYTES = 1_000_000  # GitHub drops a step summary over 1 MiB entirely
ISSUE_MARKER = "<!-- istio-pr-bot:audit -->"
FORK_NOTICE = ("pull request from a fork: the token is read-only, so no comment or check run is written; the job "
               "summary, annotations and exit code carry the result (see the README for the two-workflow recipe "
               "that comments on fork pull requests)")
T = TypeVar("T")


def publish(runner: Runner, report: Report, gh: GitHubClient | None, target: sticky.Target | None, fail_on: str,
            config: Config, write_files: bool = True) -> None:
    """Everything a step shows of `report`; `target` is the pull request to comment on (None: none)."""
    link = runner.link_base(report.head)
    if write_files:
        _write_files(runner, report, target.number if target else None)
        runner.set_output("report-json", ".istio-pr-bot/report.json")
        runner.set_output("sarif", ".istio-pr-bot/report.sarif")
        runner.set_output("plan-dir", ".istio-pr-bot/plan")
    template = _template(runner, config)
    runner.summary(_summary(report, link, template))
    if runner.inputs.annotations:
        runner.log(workflow_commands.render(report))
    for severity in Severity:
        runner.set_output(f"{severity.value}s", str(sum(1 for f in report.headline() if f.severity is severity)))
    top = max_severity(report)
    runner.set_output("max-severity", top.value if top else "none")
    read_only = runner.event.from_fork(runner.repository)
    if read_only:
        runner.notice(FORK_NOTICE)
    if gh is None or read_only:
        runner.flush_outputs()
        return
    if target is not None and runner.inputs.comment != "off" and report.mode == "diff":
        body = markdown.render(report, link_base=link or None, template_text=template)
        quiet = not report.changes and not report.findings and config.comment.get("on-empty") == "none"
        url = _try_write(runner, "update the pull request comment",
                         lambda: sticky.sync(gh, target, body, runner.inputs.comment, runner.log, only_update=quiet))
        runner.set_output("comment-url", url or "")
    if runner.inputs.check_run:
        _check_run(runner, gh, report, fail_on)
    if report.mode == "audit" and runner.inputs.audit_issue:
        _try_write(runner, "update the audit issue", lambda: _audit_issue(runner, gh, report, link, template))
    runner.flush_outputs()


def _write_files(runner: Runner, report: Report, number: int | None) -> None:
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


def _template(runner: Runner, config: Config) -> str | None:
    """The user's comment template (config comment.template), relative to the workspace."""
    path = config.comment.get("template")
    if not path:
        return None
    try:
        with open(os.path.join(runner.workspace, str(path)), encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        raise BotError(f"comment template {path} not found") from None


def _summary(report: Report, link: str, template: str | None) -> str:
    limit = SUMMARY_BYTES
    while True:
        text = markdown.render(report, link_base=link or None, template_text=template, limit=limit)
        if len(text.encode("utf-8")) <= SUMMARY_BYTES:
            return text
        limit //= 2


def _try_write(runner: Runner, what: str, write: Callable[[], T]) -> T | None:
    """Run a write; a failure is reported once and does not change the verdict."""
    try:
        return write()
    except BotError as exc:
        if getattr(exc, "status", None) == 403:
            runner.warn(f"istio-pr-bot could not {what}: the token may not write here ({exc}); give the job "
                        "`pull-requests: write` (comments) or `checks: write` (check runs)")
        else:
            runner.warn(f"istio-pr-bot could not {what}: {exc}; the verdict, summary and annotations stand")
        return None


def _check_run(runner: Runner, gh: GitHubClient, report: Report, fail_on: str) -> None:
    level = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
    items = [{
        "path": f.resource.file, "start_line": f.location_line, "end_line": f.location_line,
        "annotation_level": level[f.severity], "title": f"{f.rule}: {f.resource.display}"[:255],
        "message": (f.message + (f" Fix: {f.fix}" if f.fix else ""))[:60_000],
    } for f in report.headline()]
    conclusion = "failure" if report.failing(fail_on) else "success"
    head = report.head if commit_id(report.head) else runner.env.get("GITHUB_SHA", "")
    _try_write(runner, "create the check run",
               lambda: gh.check_run("istio-pr-bot", head, conclusion, verdict(report)[:255], verdict(report), items))


def _audit_issue(runner: Runner, gh: GitHubClient, report: Report, link: str, template: str | None) -> None:
    """One tracking issue for an audit's findings, closed when the repository is clean."""
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
