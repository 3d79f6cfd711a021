"""What a pull request's change to the review's own settings would do once merged: the settings it
changes, in the config file's words, and which of its findings the new settings would not report.

Pure: it compares two Configs and two Reports of the same change; reading the config files from the
base and head revisions is `bot.pull`'s part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from bot.config import Config, RuleSettings
from bot.findings import Finding
from bot.report import ConfigChange, HiddenFinding, Report
from bot.rules import BY_ID

FIRST = ("fail_on", "rules", "paths", "exclude", "comment")  # what decides the check and what it reads
# The config file's words for the fields of `discovery:` and `render:` (bot.targets_config).
WORDS = {"repo_urls": "repo-urls", "fixture_folders": "fixtures", "alternative_folders": "alternatives",
         "allow_remote": "allow-remote"}
RENDER_NOTE = " (used once merged: a pull request is rendered with the base branch's render settings)"


def describe(current: Config, proposed: Config) -> tuple[ConfigChange, ...]:
    """Every setting that differs, key by key (rules and mappings entry by entry): those that decide
    what fails the check and what is read first, then the others."""
    out: list[ConfigChange] = []
    for f in sorted(fields(Config), key=lambda f: FIRST.index(f.name) if f.name in FIRST else len(FIRST)):
        before, after = getattr(current, f.name), getattr(proposed, f.name)
        if before == after:
            continue
        key = f.name.replace("_", "-")
        if f.name == "rules":
            out += _rules(current, proposed)
        elif isinstance(before, Mapping) and isinstance(after, Mapping):
            for name in sorted(set(before) | set(after), key=str):
                if before.get(name) != after.get(name):
                    out.append(ConfigChange(f"{key}.{name}", _show(before.get(name)), _show(after.get(name))))
        elif f.name == "istio_version":
            out.append(ConfigChange(key, ".".join(map(str, before)), ".".join(map(str, after))))
        elif f.name == "targets":
            out += _targets(before, after)
        elif is_dataclass(before) and is_dataclass(after):  # discovery, render: setting by setting
            note = RENDER_NOTE if f.name == "render" else ""
            for part in fields(before):
                old, new = getattr(before, part.name), getattr(after, part.name)
                if old != new:
                    name = WORDS.get(part.name, part.name.replace("_", "-"))
                    out.append(ConfigChange(f"{key}.{name}", _show(old), _show(new) + note))
        else:
            out.append(ConfigChange(key, _show(before), _show(after)))
    return tuple(out)


def merge(origin: Config, base: Config, head: Config) -> Config:
    """The settings once the pull request is merged, key by key: what the pull request changed since
    it started (`origin` -> `head`) on top of the base branch as it is now (`base`, which may have
    moved on). Rules and other mappings merge entry by entry."""
    values: dict[str, Any] = {}
    for f in fields(Config):
        before, ours, theirs = getattr(origin, f.name), getattr(head, f.name), getattr(base, f.name)
        if isinstance(before, Mapping) and isinstance(ours, Mapping) and isinstance(theirs, Mapping):
            merged = dict(theirs)
            for key in set(before) | set(ours):
                if before.get(key) != ours.get(key):
                    if key in ours:
                        merged[key] = ours[key]
                    else:
                        merged.pop(key, None)
            values[f.name] = merged
        else:
            values[f.name] = ours if ours != before else theirs
    return Config(**values)


def _targets(before: tuple[Any, ...] | None, after: tuple[Any, ...] | None) -> list[ConfigChange]:
    """`targets:` by name: those added or removed, and those whose settings change."""
    def names(specs: tuple[Any, ...] | None) -> str:
        return "discovered" if specs is None else "[" + ", ".join(t.name for t in specs) + "]"

    old = {t.name: t for t in before or ()}
    new = {t.name: t for t in after or ()}
    out = []
    if before is None or after is None or old.keys() != new.keys():
        out.append(ConfigChange("targets", names(before), names(after)))
    out += [ConfigChange(f"target {name}", "", "edited in this pull request")
            for name in sorted(old.keys() & new.keys()) if old[name] != new[name]]
    return out


def _rules(current: Config, proposed: Config) -> list[ConfigChange]:
    out = []
    for rule_id in sorted(set(current.rules) | set(proposed.rules)):
        before, after = current.rule(rule_id), proposed.rule(rule_id)
        if before.enabled != after.enabled:
            out.append(ConfigChange(f"rule {rule_id}", _state(before), _state(after)))
        if before.severity != after.severity:
            out.append(ConfigChange(f"rule {rule_id} severity", _severity(rule_id, before), _severity(rule_id, after)))
    return out


def _state(settings: RuleSettings) -> str:
    return "enabled" if settings.enabled else "disabled"


def _severity(rule_id: str, settings: RuleSettings) -> str:
    if settings.severity is not None:
        return settings.severity.value
    rule = BY_ID.get(rule_id)
    return f"the rule's default ({rule.SEVERITY.value})" if rule else "the rule's default"


def _show(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def hidden(current: Report, proposed: Report, settings: Config) -> tuple[HiddenFinding, ...]:
    """The findings this change introduces under the current settings that the proposed settings
    (`settings`, which made `proposed`) would not report, or would report at a lower severity."""
    def key(f: Finding) -> tuple[Any, ...]:  # one resource can be in several deploy targets and clusters
        return f.fingerprint, f.resource.target, f.resource.cluster

    after: dict[tuple[Any, ...], Finding] = {key(f): f for f in proposed.headline()}
    out = []
    for f in current.headline():
        other = after.get(key(f))
        if other is None:
            out.append(HiddenFinding(f, _why(f, settings)))
        elif other.severity.rank < f.severity.rank:
            out.append(HiddenFinding(f, f"severity {f.severity.value} → {other.severity.value}"))
    return tuple(out)


def _why(f: Finding, settings: Config) -> str:
    if not settings.rule(f.rule).enabled:
        return "rule disabled"
    if f.resource.file and not settings.reads(f.resource.file):
        return "file no longer read (paths, exclude)"
    return "no longer reported under the new settings"
