"""Command line: the only place (with the Action entry point) that reads argv, prints and exits."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot import __version__, speed

if TYPE_CHECKING:
    from bot.analyze import Review
    from bot.config import Config
    from bot.pull import Choice
    from bot.report import Report
    from bot.targets_render import Tools
    from bot.tree import Trees

FORMATS = ("text", "markdown", "json", "sarif")
FAIL_ON = ("error", "warning", "notice", "never")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and each command's (to word a usage error in the command's terms)."""
    parser = argparse.ArgumentParser(
        prog="istio-pr-bot",
        description="Review Istio manifest changes for rollout risks and print a staged apply plan.")
    parser.add_argument("--version", action="version", version=f"istio-pr-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{diff,audit,targets,action}")

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
    d.add_argument("--plan-dir", metavar="DIR", help="write the plan's generated documents (stage-N.yaml) here")
    d.add_argument("--config-from", choices=("base", "head"), default="base",
                   help="read .istio-pr-bot.yaml and the comment template from the base side (default: a change "
                        "cannot loosen its own review) or from the head")

    a = sub.add_parser("audit", parents=[common], help="check every Istio resource at one revision")
    a.add_argument("--repo", metavar="DIR", default=".", help="git repository (default: current directory)")
    a.add_argument("--ref", metavar="REV", help="revision to audit (default: HEAD; a non-git folder is read as is)")
    a.add_argument("paths", nargs="*", metavar="PATH", help="limit the audit to these files or folders")

    t = sub.add_parser("targets", help="list the deploy targets discovery finds (or the config names), "
                                        "their sources, inputs and clusters")
    t.add_argument("--repo", metavar="DIR", default=".", help="git repository (default: current directory)")
    t.add_argument("--ref", metavar="REV", help="revision (default: HEAD; a non-git folder is read as is)")
    t.add_argument("--format", choices=("text", "json"), default="text")
    t.add_argument("--config", metavar="FILE", help="config file (default: .istio-pr-bot.yaml at the root)")
    t.add_argument("--debug", action="store_true", help="show a traceback on failure")

    act = sub.add_parser("action", help="run as a GitHub Action step (reads the runner's environment)")
    return parser, {"diff": d, "audit": a, "targets": t, "action": act}


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
    parser, commands = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse would answer with the top-level usage; the command's is the useful one
        (commands[args.command] if args.command else parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if not args.command:
        parser.print_usage(sys.stderr)
        print("istio-pr-bot: error: choose a command: diff, audit or targets", file=sys.stderr)
        return 2
    if args.command == "action":
        from bot.action import main as action_main

        return action_main(keep=keep)
    from bot.errors import BotError

    try:
        return _run(args, commands[args.command], keep)
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

    if args.command == "targets":
        sys.stdout.write(_targets(args))
        return 0
    if args.command == "diff":
        dirs = args.base_dir is not None or args.head_dir is not None
        revs = args.base is not None or args.head is not None
        if dirs == revs or (dirs and not (args.base_dir and args.head_dir)) or (revs and not (args.base and args.head)):
            parser.error("diff needs either --base and --head, or --base-dir and --head-dir")
        review, config, template = _diff_dirs(args) if dirs else _diff_git(args)
    else:
        review, config = _audit(args)
        template = _template(config, args) if args.format == "markdown" else None
    if keep is not None:
        keep.append(review)
    report = review.report
    fail_on = args.fail_on or config.fail_on
    text = _render(report, template, args)
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


def _config(args: argparse.Namespace, root: str | None, text_at: tuple[str, str] | None = None) -> Config:
    """The config: --config FILE, else the file at the root of the tree (`text_at`: (repository,
    commit) of a bare clone, read from git objects)."""
    from bot.analyze import load_config
    from bot.config import FILE_NAME, parse_version

    text = _config_text(args, root, text_at)
    config = load_config(text, args.config or FILE_NAME)
    if getattr(args, "istio_version", None):
        from dataclasses import replace

        config = replace(config, istio_version=parse_version(args.istio_version, "--istio-version"))
    return config


def _config_text(args: argparse.Namespace, root: str | None, text_at: tuple[str, str] | None = None) -> str | None:
    from bot import git
    from bot.config import FILE_NAME
    from bot.errors import BotError

    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise BotError(f"cannot read config {args.config}: {exc.strerror}") from None
    if text_at is not None:
        data = git.read_file(text_at[0], text_at[1], FILE_NAME)
        return data.decode("utf-8", "replace") if data is not None else None
    source = os.path.join(root, FILE_NAME) if root else None
    if source and os.path.isfile(source):
        with open(source, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    return None


def _tools(config: Config) -> Callable[[], Tools]:
    from bot.targets_render import find_tools

    return lambda: find_tools(config.render)


def _git_root(args: argparse.Namespace) -> tuple[str, bool]:
    from bot import git

    root = git.toplevel(args.repo)
    return root, git.has_work_tree(root)


def _folder(flag: str, path: str) -> str:
    """`path`, checked to be a folder, with a message that names the option when it is not."""
    from bot.errors import BotError

    if not os.path.isdir(path):
        raise BotError(f"{flag} {path}: {'not a directory' if os.path.exists(path) else 'no such directory'}")
    return path


def _choice(args: argparse.Namespace, urls: Sequence[str] = ()) -> Choice:
    """Where a diff's settings come from: --config FILE, else the --config-from side's config file;
    `urls` name the repository (its remotes) for discovery."""
    from dataclasses import replace

    from bot import targets_review
    from bot.config import parse_version
    from bot.pull import Choice

    explicit = _config(args, None) if args.config else None
    version = parse_version(args.istio_version, "--istio-version") if args.istio_version else None

    def adjust(config: Config) -> Config:
        if version:
            config = replace(config, istio_version=version)
        return targets_review.with_repo_urls(config, urls)

    return Choice(args.config_from, explicit=explicit, fail_on=args.fail_on or "", adjust=adjust)


def _diff_git(args: argparse.Namespace) -> tuple[Review, Config, str | None]:
    from bot import git
    from bot.pull import review_git

    root = git.toplevel(_folder("--repo", args.repo))
    base, head = git.resolve(root, args.base), git.resolve(root, args.head)
    merge_base = git.merge_base(root, base, head)
    reviewed = review_git(root, base, merge_base, head, _choice(args, git.remote_urls(root)))
    return reviewed.review, reviewed.config, reviewed.template


def _diff_dirs(args: argparse.Namespace) -> tuple[Review, Config, str | None]:
    from bot.pull import review_dirs

    reviewed = review_dirs(_folder("--base-dir", args.base_dir), _folder("--head-dir", args.head_dir), _choice(args))
    return reviewed.review, reviewed.config, reviewed.template


def _one_revision(args: argparse.Namespace, paths: list[str]) -> tuple[Trees, Config, str, tuple[str, ...]]:
    """What an audit or the targets command reads: --ref (default HEAD) of the repository, or a
    folder that is not one, as it is; with the config, the revision's label and the PATHs in scope."""
    from bot import git, targets_review, tree
    from bot.errors import BotError

    _folder("--repo", args.repo)
    try:
        root, work_tree = _git_root(args)
    except BotError:
        if args.ref:
            raise
        return tree.DirTrees([args.repo]), _config(args, args.repo), args.repo, _scope(paths, args.repo, args.repo)
    commit = git.resolve(root, args.ref or "HEAD")
    config = _config(args, root, None if work_tree else (root, commit))
    config = targets_review.with_repo_urls(config, git.remote_urls(root))
    return tree.GitTrees(root, [commit]), config, commit, _scope(paths, root, args.repo)


def _audit(args: argparse.Namespace) -> tuple[Review, Config]:
    from bot import targets_review

    trees, config, label, only = _one_revision(args, args.paths)
    collected = trees.collect(config, only)
    return targets_review.review_audit(trees, collected, config, label, _tools(config), only), config


def _targets(args: argparse.Namespace) -> str:
    """The `targets` command: what discovery finds (or the config names) at one revision."""
    from bot import targets_review
    from bot.render import targets_listing
    from bot.targets_render import describe_tools, find_tools

    trees, config, label, _ = _one_revision(args, [])
    collected = trees.collect(config)
    found = targets_review.find_targets(trees.listings[0].files.keys(), collected.texts[0], config)
    listing = targets_listing.Listing(label, found, targets_review.plain(found, config),
                                      describe_tools(find_tools(config.render)))
    return targets_listing.render_json(listing) if args.format == "json" else targets_listing.render_text(listing)


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


def _render(report: Report, template: str | None, args: argparse.Namespace) -> str:
    if args.format == "json":
        from bot.render import json_report

        return json_report.render(report)
    if args.format == "sarif":
        from bot.render import sarif

        return sarif.render(report)
    if args.format == "markdown":
        from bot.render import markdown

        return markdown.render(report, link_base=args.link_base, template_text=template)
    from bot.render import text

    colour = not args.output and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return text.render(report, colour=colour)


def _template(config: Config, args: argparse.Namespace) -> str | None:
    """An audit's comment template (config comment.template), relative to the folder audited."""
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
            os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
            with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
                fh.write(content)
    except OSError as exc:
        raise BotError(f"cannot write the plan to {folder}: {exc.strerror}") from None
