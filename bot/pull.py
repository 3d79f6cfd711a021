"""A change reviewed as a pull request, with settings the pull request cannot loosen.

The config file and the comment template it names come from the base side by default (the base
branch, or --base-dir): a pull request that sets `fail-on: never` or turns rules off is still judged
by the settings it would change. When the pull request edits them, the review runs a second time
with its own settings and the report says what would change once merged (`bot.config_change`).
`config_from="head"` reads them from the pull request instead, for repositories that want that; the
comparison with the base is made all the same.

How helm and kustomize run (config `render:`) always comes from the base side, whichever side the
other settings come from: a pull request cannot switch the network on for rendering its own
manifests. A repository of deploy targets is reviewed target by target (`bot.targets_review`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot import git, targets_review, tree
from bot.analyze import Review, load_config
from bot.config import FILE_NAME, Config
from bot.config_change import describe, hidden, merge
from bot.errors import BotError
from bot.report import ConfigChange, ConfigReview
from bot.targets import RenderSettings
from bot.targets_render import find_tools

Reader = Callable[[str], str | None]  # a path from the root -> that file's text on one side (None: no file)
ReviewWith = Callable[[Config], Review]  # the change, reviewed with these settings
CONFIG_FROM = ("base", "head")


def _same(config: Config) -> Config:
    return config


@dataclass(frozen=True)
class Settings:
    """One side's settings as read: the config (None when it is not valid) and the template it names."""

    config: Config | None
    error: str  # why the config or its template cannot be used ('' when they can)
    text: str | None  # the config file's text (None: no file)
    template: str | None  # the comment template's text (None: none named)


@dataclass(frozen=True)
class Choice:
    """Where the settings come from, and what overrides them."""

    config_from: str = "base"  # base | head
    config_file: str = FILE_NAME  # from the repository root
    explicit: Config | None = None  # a --config FILE: used on every side, nothing to compare
    adjust: Callable[[Config], Config] = _same  # overrides (inputs, flags) applied to every side's settings
    fail_on: str = ""  # overrides every side's fail-on when judging whether the check fails


@dataclass(frozen=True)
class Reviewed:
    review: Review
    config: Config  # the settings the review ran with
    template: str | None  # the comment template they name (its text)


def read_settings(read: Reader, config_file: str, explicit: Config | None = None,
                  adjust: Callable[[Config], Config] = _same) -> Settings:
    """A side's config file and template; `explicit` (a --config FILE) replaces the file. What cannot
    be read or used is an error value: the side may be a pull request's, and it decides what it holds."""
    text = None
    try:
        text = None if explicit else read(config_file)
        config = adjust(explicit or load_config(text, config_file))
        path = config.comment.get("template")
        if path and (os.path.isabs(str(path)) or ".." in str(path).replace("\\", "/").split("/")):
            raise BotError(f"comment template {path} must be a path inside the repository")
        template = read(str(path)) if path else None
    except BotError as exc:
        return Settings(None, str(exc), text, None)
    if path and template is None:
        return Settings(None, f"comment template {path} not found", text, None)
    return Settings(config, "", text, template)


def review_change(base: Reader, origin: Reader, head: Reader, review_with: ReviewWith,
                  choice: Choice = Choice()) -> Reviewed:
    """Review base -> head with settings from `choice.config_from`'s side (`render:` from the base's).

    `origin` reads the side the pull request started from (the merge-base): the settings change only
    if the pull request itself edits them there. `review_with(config)` reviews the change as `config`
    selects and judges it.
    """
    if choice.config_from not in CONFIG_FROM:
        raise BotError(f"config-from must be base or head, got {choice.config_from!r}")
    from_base = choice.config_from == "base"
    current = read_settings(base, choice.config_file, choice.explicit, choice.adjust)
    proposed = read_settings(head, choice.config_file, choice.explicit, choice.adjust)
    if choice.config_file != FILE_NAME and choice.explicit is None and current.text is None and proposed.text is None:
        raise BotError(f"config file {choice.config_file} not found at the base or the head revision")
    used, other = (current, proposed) if from_base else (proposed, current)
    if used.config is None:
        side = "base" if from_base else "head (config-from: head)"
        raise BotError(f"the {side} revision's settings cannot be used: {used.error}")
    render = current.config.render if current.config is not None else RenderSettings()
    ran = replace(used.config, render=render)
    review = review_with(ran)
    start = read_settings(origin, choice.config_file, None, choice.adjust)
    if choice.explicit is not None or _raw(start) == _raw(proposed):
        return Reviewed(review, ran, used.template)
    if current.config is None or proposed.config is None:
        change = ConfigReview(choice.config_file, choice.config_from, error=other.error)
        return Reviewed(_with(review, change), ran, used.template)
    # Once merged: the pull request's edits on top of the base branch as it is now (it may have moved on).
    merged = merge(start.config, current.config, proposed.config) if start.config else proposed.config
    second = review_with(replace(merged if from_base else current.config, render=render))
    now, after = (review, second) if from_base else (second, review)
    change = ConfigReview(
        choice.config_file, choice.config_from,
        describe(current.config, merged) + _template_change(start, current, proposed),
        hidden(now.report, after.report, merged),
        fails_now=bool(now.report.failing(choice.fail_on or current.config.fail_on)),
        fails_after=bool(after.report.failing(choice.fail_on or merged.fail_on)))
    return Reviewed(_with(review, change, second), ran, used.template)


def _raw(settings: Settings) -> tuple[str | None, str | None, str]:
    """What a side holds: its config file, template and why they cannot be used (an edit changes one)."""
    return settings.text, settings.template, settings.error


def _with(review: Review, change: ConfigReview, second: Review | None = None) -> Review:
    snapshots = review.snapshots + (second.snapshots if second else ())
    return Review(replace(review.report, config_change=change), snapshots)


def _template_change(start: Settings, current: Settings, proposed: Settings) -> tuple[ConfigChange, ...]:
    """The template the settings name stays, but the pull request edits its text."""
    path = current.config.comment.get("template") if current.config else None
    named = proposed.config.comment.get("template") if proposed.config else None
    if path and path == named and start.template is not None and proposed.template != start.template:
        return (ConfigChange(f"comment template {path}", "", "edited in this pull request"),)
    return ()


def git_reader(repo: str, commit: str) -> Reader:
    def read(path: str) -> str | None:
        data = git.read_file(repo, commit, path)
        return None if data is None else data.decode("utf-8", "replace")

    return read


def dir_reader(root: str) -> Reader:
    def read(path: str) -> str | None:
        full = os.path.join(root, path)
        try:
            with open(full, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise BotError(f"cannot read {full}: {exc.strerror}") from None

    return read


def _by_target(trees: tree.Trees, labels: tuple[str, str]) -> ReviewWith:
    """Review the two revisions of `trees` target by target (as one plain tree when there are none); the
    renderers are looked for only when a touched target needs them."""
    def review(config: Config) -> Review:
        return targets_review.review_diff(trees, trees.collect(config), config, labels[0], labels[1],
                                          lambda: find_tools(config.render))

    return review


def review_git(repo: str, base: str, merge_base: str, head: str, choice: Choice = Choice()) -> Reviewed:
    """A pull request in a git repository: `base` (the target branch's commit) gives the settings,
    `merge_base` -> `head` is the change."""
    trees = tree.GitTrees(repo, [merge_base, head])
    return review_change(git_reader(repo, base), git_reader(repo, merge_base), git_reader(repo, head),
                         _by_target(trees, (merge_base, head)), choice)


def review_dirs(base_dir: str, head_dir: str, choice: Choice = Choice()) -> Reviewed:
    """Two folders (e.g. rendered trees): the base folder gives the settings; only the head's skipped
    files concern the change."""
    trees = tree.DirTrees([base_dir, head_dir])
    base = dir_reader(base_dir)
    return review_change(base, base, dir_reader(head_dir), _by_target(trees, (base_dir, head_dir)), choice)
