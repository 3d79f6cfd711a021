"""Publishing a report from a step: files in the workspace, the job summary, annotations, step outputs,
the pull request comment, a check run and the audit issue. A write GitHub refuses is reported once
and never changes the verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
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
from bot.render.summary import max_severity, nothing_found, verdict
from bot.report import Report

SUMMARY_BYTES = 1_000_000  # GitHub drops a step summary over 1 MiB entirely
ISSUE_MARKER = "<!-- istio-pr-bot:audit -->"  # the default comment key's; another key adds itself
FORK_NOTICE = ("pull request from a fork: the token is read-only, so no comment or check run is written; the job "
               "summary, annotations and exit code carry the result (see the README for the two-workflow recipe "
               "that comments on fork pull requests)")
T = TypeVar("T")


def publish(runner: Runner, report: Report, gh: GitHubClient | None, target: sticky.Target | None, fail_on: str,
            config: Config, template: str | None, write_files: bool = True, key: str = "") -> None:
    """Everything a step shows of `report`; `target` is the pull request to comment on (None: none);
    `template` the comment template's text (None: ours); `key` the comment key (each keeps its own
    comment, check run, audit issue and files)."""
    link = runner.link_base(report.head)
    if write_files:
        folder = _write_files(runner, report, target.number if target else None, key)
        runner.set_output("report-json", f"{folder}/report.json")
        runner.set_output("sarif", f"{folder}/report.sarif")
        runner.set_output("plan-dir", f"{folder}/plan")
    runner.summary(_summary(report, link, template, key))
    if hint := nothing_found(report):
        runner.warn(f"istio-pr-bot: {hint}")
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
        body = markdown.render(report, link_base=link or None, template_text=template, key=key)
        quiet = report.quiet and config.on_empty == "none"
        keyed = replace(target, marker=markdown.marker(key))
        url = _try_write(runner, "update the pull request comment",
                         lambda: sticky.sync(gh, keyed, body, runner.inputs.comment, runner.log, only_update=quiet))
        runner.set_output("comment-url", url or "")
    if runner.inputs.check_run:
        _check_run(runner, gh, report, fail_on, key)
    if report.mode == "audit" and runner.inputs.audit_issue:
        _try_write(runner, "update the audit issue", lambda: _audit_issue(runner, gh, report, link, template, key))
    runner.flush_outputs()


def _write_files(runner: Runner, report: Report, number: int | None, key: str) -> str:
    """The report, SARIF and plan files in the workspace; their folder, relative to it (one per comment key,
    so two steps of one job keep theirs)."""
    name = ".istio-pr-bot" + (f"/{key}" if key else "")
    folder = Path(runner.workspace) / name
    folder.mkdir(parents=True, exist_ok=True)
    data = json_report.as_dict(report)
    if number is not None:
        data["pull_request"] = {"number": number, "head_sha": report.head}
        if key:
            data["pull_request"]["comment_key"] = key
    (folder / "report.json").write_text(json.dumps(data, indent=2) + "\n")
    (folder / "report.sarif").write_text(sarif.render(report))
    plan_dir = folder / "plan"
    plan_dir.mkdir(exist_ok=True)
    for file, text in stage_files(report.plan).items():
        (plan_dir / file).parent.mkdir(parents=True, exist_ok=True)  # a folder per cluster
        (plan_dir / file).write_text(text)
    return name


def _summary(report: Report, link: str, template: str | None, key: str) -> str:
    limit = SUMMARY_BYTES
    while True:
        text = markdown.render(report, link_base=link or None, template_text=template, limit=limit, key=key)
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


def _check_run(runner: Runner, gh: GitHubClient, report: Report, fail_on: str, key: str) -> None:
    level = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
    items = [{
        "path": f.resource.file, "start_line": f.location_line, "end_line": f.location_line,
        "annotation_level": level[f.severity], "title": workflow_commands.heading(f, report.label(f.resource))[:255],
        "message": (f.message + (f" Fix: {f.fix}" if f.fix else ""))[:60_000],
    } for f in report.headline()]
    conclusion = "failure" if report.failing(fail_on) else "success"
    head = report.head if commit_id(report.head) else runner.env.get("GITHUB_SHA", "")
    name = f"istio-pr-bot ({key})" if key else "istio-pr-bot"
    _try_write(runner, "create the check run",
               lambda: gh.check_run(name, head, conclusion, verdict(report)[:255], verdict(report), items))


def _audit_issue(runner: Runner, gh: GitHubClient, report: Report, link: str, template: str | None,
                 key: str) -> None:
    """One tracking issue for an audit's findings (per comment key), closed when the repository is clean."""
    me = gh.identity()
    issue_marker = ISSUE_MARKER.replace(" -->", f" key={key} -->") if key else ISSUE_MARKER
    found = gh.find_issue(issue_marker, me)
    clean = not report.findings
    body = issue_marker + "\n" + markdown.render(report, link_base=link or None, template_text=template, key=key)
    if found is None and clean:
        return
    number, state, old = found if found else (None, "open", "")
    target_state = "closed" if clean else "open"
    if found and old == body and state == target_state:
        return
    title = f"istio-pr-bot audit{f' ({key})' if key else ''}: Istio configuration findings"
    url = gh.save_issue(number, title, body, target_state)
    runner.set_output("audit-issue-url", url)
