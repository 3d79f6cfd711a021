"""The GitHub Action entry point (`istio-pr-bot action`): reads the runner's environment, runs the
same pipeline as the CLI, and publishes the result as a comment, annotations, a check run, a job
summary and step outputs. It never fails a build because GitHub could not be written to: the exit
code is the verdict's."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import TextIO

from bot import git, targets_review, tree
from bot.action.client import GitHubClient, connect
from bot.action.commits import ensure_commits
from bot.action.event import commit_id
from bot.action.inputs import comment_key
from bot.action.publish import publish
from bot.action.runner import Runner
from bot.action.sticky import Target
from bot.analyze import Review, load_config
from bot.config import FILE_NAME, Config, parse_version
from bot.errors import BotError
from bot.pull import Choice, Reader, dir_reader, git_reader, read_settings, review_git
from bot.render.annotations import escape_data as escape
from bot.targets_render import find_tools

SUPPORTED = ("pull_request", "pull_request_target", "push", "workflow_dispatch", "schedule", "workflow_run")
ZERO = "0" * 40  # a push that created the branch has no `before`


def main(env: Mapping[str, str] | None = None, out: TextIO | None = None, keep: list[object] | None = None) -> int:
    """Run as a step; `keep` receives what the run built, to outlive this call (see `bot.cli.entry`)."""
    env = os.environ if env is None else env
    out = sys.stdout if out is None else out
    try:
        runner = Runner.from_env(env, out)
    except BotError as exc:
        out.write(f"::error::{escape(f'istio-pr-bot: {exc}')}\n")
        return 2
    try:
        return _run(runner, keep)
    except BotError as exc:
        runner.log(f"::error::{escape(f'istio-pr-bot: {exc}')}")
        return 2
    except Exception as exc:
        if env.get("RUNNER_DEBUG") == "1":
            raise
        runner.log(f"::error::{escape(f'istio-pr-bot: internal error: {type(exc).__name__}: {exc}')}")
        return 2


def _run(runner: Runner, keep: list[object] | None) -> int:
    event = runner.event
    if event.name not in SUPPORTED:
        runner.notice(f"istio-pr-bot does nothing on '{event.name}' events (it runs on {', '.join(SUPPORTED)})")
        return 0
    git.trust(runner.workspace)
    mode = _mode(runner)
    if mode == "publish":
        return _publish(runner)
    gh = connect(runner)
    review: Review | None = None
    number: int | None = None
    choice = _choice(runner)
    if mode == "diff":
        base, head, number = _refs(runner)
        if not base or base == ZERO:
            runner.notice("no base commit (a new branch): auditing the pushed revision instead")
        else:
            merge_base = ensure_commits(runner, gh, base, head)
            reviewed = review_git(runner.workspace, base, merge_base, head, choice)
            review, config, template = reviewed.review, reviewed.config, reviewed.template
    if review is None:
        commit = git.resolve(runner.workspace, runner.inputs.head or runner.env.get("GITHUB_SHA", "") or "HEAD")
        config, template = _settings(git_reader(runner.workspace, commit), choice, "the audited revision")
        trees = tree.GitTrees(runner.workspace, [commit])
        review = targets_review.review_audit(trees, trees.collect(config), config, commit,
                                             lambda: find_tools(config.render))
    if keep is not None:
        keep.append(review)
    fail_on = runner.inputs.fail_on or config.fail_on
    target = None
    if number is not None:
        target = Target(number, event.pull.head, runner.event_time(event.pull.updated_at),
                        recheck_head=event.name != "workflow_run")
    publish(runner, review.report, gh, target, fail_on, config, template, key=runner.inputs.comment_key)
    return 1 if review.report.failing(fail_on) else 0


def _mode(runner: Runner) -> str:
    if runner.inputs.mode != "auto":
        return runner.inputs.mode
    if runner.event.name in ("pull_request", "pull_request_target", "push"):
        return "diff"
    if runner.event.name == "workflow_run":
        return "publish"
    return "audit"


def _choice(runner: Runner) -> Choice:
    """Where the settings come from: the config input (a path from the repository root, or an absolute
    path read as it is), on the side config-from names; the inputs override them."""
    inputs = runner.inputs
    explicit = None
    if inputs.config and os.path.isabs(inputs.config):
        try:
            with open(inputs.config, encoding="utf-8", errors="replace") as fh:
                explicit = load_config(fh.read(), inputs.config)
        except OSError:
            raise BotError(f"config file {inputs.config} not found") from None
    path = os.path.normpath(inputs.config).replace(os.sep, "/") if inputs.config and not explicit else FILE_NAME
    version = parse_version(inputs.istio_version, "istio-version") if inputs.istio_version else None

    urls = [runner.repository_url(), *git.remote_urls(runner.workspace)]  # what names this repository

    def adjust(config: Config) -> Config:
        if version:
            config = replace(config, istio_version=version)
        if inputs.paths:
            config = replace(config, paths=inputs.paths)
        return targets_review.with_repo_urls(config, urls)

    return Choice(inputs.config_from, path, explicit, adjust, inputs.fail_on)


def _settings(read: Reader, choice: Choice, where: str) -> tuple[Config, str | None]:
    """The config and comment template one revision holds (an audit's, or publish mode's checkout)."""
    settings = read_settings(read, choice.config_file, choice.explicit, choice.adjust)
    if settings.config is None:
        raise BotError(f"the settings of {where} cannot be used: {settings.error}")
    if choice.config_file != FILE_NAME and settings.text is None and choice.explicit is None:
        raise BotError(f"config file {choice.config_file} not found in {where}")
    return settings.config, settings.template


def _refs(runner: Runner) -> tuple[str, str, int | None]:
    """(base, head, pull request number) for a diff."""
    event, inputs = runner.event, runner.inputs
    if inputs.base and inputs.head:
        return inputs.base, inputs.head, event.pull.number
    if event.name in ("pull_request", "pull_request_target"):
        if not event.pull.base or not event.pull.head:
            raise BotError("the pull_request payload has no base/head SHA")
        return event.pull.base, event.pull.head, event.pull.number
    if event.name == "push":
        return event.before, event.after, None
    raise BotError(f"mode diff needs a pull_request or push event, or the base and head inputs (event: {event.name})")


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
    claimed = data.get("pull_request") if isinstance(data.get("pull_request"), dict) else {}
    number, head = claimed.get("number"), runner.event.run_head
    gh: GitHubClient | None = connect(runner)
    if not isinstance(number, int) or not head or gh is None:
        raise BotError("publish mode needs a workflow_run event, a token, and a report from a pull_request run")
    actual_head, state = gh.pull_head(number)
    if actual_head != head or commit_id(claimed.get("head_sha")) != head:
        raise BotError(f"the report claims pull request #{number}, whose head is not the commit this run "
                       "was triggered for; refusing to post it")
    if state != "open":
        runner.notice(f"pull request #{number} is {state}; nothing to post")
        return 0
    target = Target(number, head, runner.event_time(runner.event.run_updated_at), recheck_head=False)
    # Settings from this run's checkout (the default branch), never from the artifact.
    config, template = _settings(dir_reader(runner.workspace), _choice(runner), "the checked-out revision")
    # The key the pull_request run used, unless this step names one (checked as an input: the artifact is untrusted).
    claimed_key = claimed.get("comment_key")
    key = runner.inputs.comment_key or comment_key(claimed_key if isinstance(claimed_key, str) else "")
    publish(runner, report, gh, target, runner.inputs.fail_on or config.fail_on, config, template, write_files=False,
            key=key)
    return 0

