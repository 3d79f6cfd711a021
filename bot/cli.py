"""Command line: the only place (with the Action entry point) that reads argv, prints and exits."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot import __version__, speed

if TYPE_CHECKING:
    from bot.analyze import Review
    from bot.config import Config
    from bot.report import Report

FORMATS = ("text", "markdown", "json", "sarif")
FAIL_ON = ("error", "warning", "notice", "never")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="istio-pr-bot",
        description="Review Istio manifest changes for rollout risks and print a staged apply plan.")
    parser.add_argument("--version", action="version", version=f"istio-pr-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{diff,audit,action}")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=FORMATS, default="text")
    common.add_argument("--output", metavar="FILE", help="write the report here instead of standard output")
    common.add_argument("--config", metavar="FILE", help="config file (default: .istio-pr-bot.yaml at the root)")
    common.add_argument("--fail-on", choices=FAIL_ON, help="exit 1 at or above this severity (default: error)")
    common.add_argument("--istio-version", metavar="X.Y", help="Istio version the cluster runs (default: current)")
    common.add_argument("--link-base", metavar="URL", help="link file names to this URL (e.g. .../blob/<sha>)")
    common.add_argument("--debug", action="store_true", help="show a traceback on failure")

    d = sub.add_parser("diff", parents=[common], help="review the change between two revisions or two folders")
    d.add_argument("--repo", metavar="DIR", default=".", help="git repository (default: current directory)")
    d.add_argument("--base", metavar="REV", help="base revision (the PR's target)")
    d.add_argument("--head", metavar="REV", help="head revision (the PR's branch)")
    d.add_argument("--base-dir", metavar="DIR", help="folder holding the base tree (e.g. rendered manifests)")
    d.add_argument("--head-dir", metavar="DIR", help="folder holding the head tree")
    d.add_argument("--plan-dir", metavar="DIR", help="write stage-N.yaml files of the staged plan here")

    a = sub.add_parser("audit", parents=[common], help="check every Istio resource at one revision")
    a.add_argument("--repo", metavar="DIR", default=".", help="git repository (default: current directory)")
    a.add_argument("--ref", metavar="REV", help="revision to audit (default: HEAD; a non-git folder is read as is)")
    a.add_argument("paths", nargs="*", metavar="PATH", help="limit the audit to these files or folders")

    sub.add_parser("action", help="run as a GitHub Action step (reads the runner's environment)")
    return parser


def entry() -> None:
    """The `istio-pr-bot` command: `main`, then exit at once.

    A run is short and builds millions of small objects that live until it ends: the cyclic
    collector would only rescan them (a tenth of a large run), and freeing them one by one at exit
    would take as long again. So the collector stays off, what the run built is kept (`keep`), and
    at the end only the output streams are flushed.
    """
    kept: list[object] = []
    with speed.collector_paused():
        code = main(keep=kept)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or 2
    os._exit(code)


def main(argv: Sequence[str] | None = None, keep: list[object] | None = None) -> int:
    """Run one command; `keep` receives what the run built, to outlive this call (see `entry`)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_usage(sys.stderr)
        print("istio-pr-bot: error: choose a command: diff or audit", file=sys.stderr)
        return 2
    if args.command == "action":
        from bot.action import main as action_main

        return action_main(keep=keep)
    from bot.errors import BotError

    try:
        return _run(args, parser, keep)
    except BotError as exc:
        print(f"istio-pr-bot: error: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"istio-pr-bot: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser, keep: list[object] | None = None) -> int:
    from bot.errors import BotError

    if args.command == "diff":
        dirs = args.base_dir is not None or args.head_dir is not None
        revs = args.base is not None or args.head is not None
        if dirs == revs or (dirs and not (args.base_dir and args.head_dir)) or (revs and not (args.base and args.head)):
            parser.error("diff needs either --base and --head, or --base-dir and --head-dir")
        review, config = _diff_dirs(args) if dirs else _diff_git(args)
    else:
        review, config = _audit(args)
    if keep is not None:
        keep.append(review)
    report = review.report
    fail_on = args.fail_on or config.fail_on
    text = _render(report, config, args)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise BotError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    if getattr(args, "plan_dir", None):
        _write_plan(report, args.plan_dir)
    return 1 if report.failing(fail_on) else 0


def _config(args: argparse.Namespace, root: str | None) -> Config:
    from bot.analyze import load_config
    from bot.config import FILE_NAME, parse_version
    from bot.errors import BotError

    source = args.config or (os.path.join(root, FILE_NAME) if root else None)
    text = None
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise BotError(f"cannot read config {args.config}: {exc.strerror}") from None
    elif source and os.path.isfile(source):
        with open(source, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    config = load_config(text, args.config or FILE_NAME)
    if args.istio_version:
        from dataclasses import replace

        config = replace(config, istio_version=parse_version(args.istio_version, "--istio-version"))
    return config


def _diff_git(args: argparse.Namespace) -> tuple[Review, Config]:
    from bot import git, tree
    from bot.analyze import review_diff

    root = git.toplevel(args.repo)
    config = _config(args, root)
    base, head = git.resolve(root, args.base), git.resolve(root, args.head)
    merge_base = git.merge_base(root, base, head)
    (base_files, head_files), skipped = tree.from_git(root, [merge_base, head], config)
    return review_diff(base_files, head_files, config, merge_base, head, skipped), config


def _diff_dirs(args: argparse.Namespace) -> tuple[Review, Config]:
    from bot import tree
    from bot.analyze import review_diff

    config = _config(args, args.head_dir)
    base_files, _ = tree.from_dir(args.base_dir, config)  # only the head's skips concern the PR
    head_files, head_skipped = tree.from_dir(args.head_dir, config)
    return review_diff(base_files, head_files, config, args.base_dir, args.head_dir, head_skipped), config


def _audit(args: argparse.Namespace) -> tuple[Review, Config]:
    from bot import git, tree
    from bot.analyze import review_audit
    from bot.errors import BotError

    try:
        root = git.toplevel(args.repo)
    except BotError:
        if args.ref:
            raise
        config = _config(args, args.repo)
        only = _scope(args.paths, args.repo, args.repo)
        files, skipped = tree.from_dir(args.repo, config, only)
        return review_audit(files, config, args.repo, skipped), config
    config = _config(args, root)
    only = _scope(args.paths, root, args.repo)
    commit = git.resolve(root, args.ref or "HEAD")
    (files,), skipped = tree.from_git(root, [commit], config, only)
    return review_audit(files, config, commit, skipped), config


def _scope(paths: list[str], root: str, anchor: str) -> tuple[str, ...]:
    """The audit's PATH arguments as paths from the tree's root: a relative one is taken from `anchor`
    (--repo), an absolute one as it is; a path outside the tree is an error."""
    from bot.errors import BotError

    out: list[str] = []
    for path in paths:
        full = os.path.abspath(os.path.join(anchor, path))
        rel = os.path.relpath(full, os.path.abspath(root))
        if rel == ".." or rel.startswith(".." + os.sep):  # perhaps through a symbolic link: compare real paths
            rel = os.path.relpath(os.path.realpath(full), os.path.realpath(root))
        if rel == ".." or rel.startswith(".." + os.sep):
            raise BotError(f"{path} is outside {root}, the tree being audited: give paths inside it")
        out.append(rel.replace(os.sep, "/"))
    return () if "." in out else tuple(out)  # the root itself: the whole tree


def _render(report: Report, config: Config, args: argparse.Namespace) -> str:
    if args.format == "json":
        from bot.render import json_report

        return json_report.render(report)
    if args.format == "sarif":
        from bot.render import sarif

        return sarif.render(report)
    if args.format == "markdown":
        from bot.render import markdown

        return markdown.render(report, link_base=args.link_base, template_text=_template(config, args))
    from bot.render import text

    colour = not args.output and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return text.render(report, colour=colour)


def _template(config: Config, args: argparse.Namespace) -> str | None:
    """The user's comment template (config comment.template), relative to the repository root."""
    from bot.errors import BotError

    path = config.comment.get("template")
    if not path:
        return None
    root = getattr(args, "head_dir", None) or getattr(args, "repo", ".") or "."
    full = path if os.path.isabs(path) else os.path.join(root, path)
    try:
        with open(full, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        raise BotError(f"comment template {path} not found") from None


def _write_plan(report: Report, folder: str) -> None:
    from bot.errors import BotError
    from bot.plan import stage_files

    try:
        os.makedirs(folder, exist_ok=True)
        for name, content in stage_files(report.plan).items():
            with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
                fh.write(content)
    except OSError as exc:
        raise BotError(f"cannot write the plan to {folder}: {exc.strerror}") from None
