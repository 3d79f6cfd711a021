"""The pure pipeline: files -> resources -> changes -> findings -> plan -> Report."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterator

from bot import forked
from bot.changes import Change, Descriptions, describe, descriptions, diff
from bot.config import Config
from bot.context import Context
from bot.findings import Finding, Severity, Skipped, Suppressed
from bot.load import Loaded, ParseCache, SourceFile, load
from bot.mesh import Mesh
from bot.plan import Plan, build_plan
from bot.rules import RULES
from bot.rules.base import Rule
from bot.subset_changes import SubsetChanges, subset_changes

FAIL_RANK = {"error": 3, "warning": 2, "notice": 1, "never": 99}


@dataclass
class Report:
    mode: str  # diff | audit
    base: str | None
    head: str
    resources: int
    changes: list[Change]
    findings: list[Finding]
    suppressed: list[Suppressed]
    plan: Plan
    skipped: list[Skipped]
    config: Config
    disabled: list[str] = field(default_factory=list)
    # The snapshots analysed, kept with the report: freeing a large one object by object takes longer
    # than writing the report, and the command line exits without freeing anything (cli.entry).
    snapshots: tuple[Mesh, ...] = field(default=(), repr=False, compare=False)

    def count(self, severity: Severity, introduced_only: bool = False) -> int:
        return sum(1 for f in self.findings if f.severity is severity and (f.introduced or not introduced_only))

    def headline(self) -> list[Finding]:
        """The findings the verdict speaks of: introduced ones in a diff, all in an audit."""
        return [f for f in self.findings if self.mode == "audit" or f.introduced]

    def earlier(self) -> list[Finding]:
        """Findings the change did not introduce (none in an audit)."""
        return [f for f in self.findings if not (self.mode == "audit" or f.introduced)]

    def failing(self, fail_on: str) -> list[Finding]:
        """Headline findings at or above `fail_on`."""
        threshold = FAIL_RANK[fail_on]
        return [f for f in self.headline() if f.severity.rank >= threshold]


PARALLEL_RESOURCES = 2_000  # below this, a second process costs more than it saves
# Rough shares of rule time on the 10,000-service benchmark: only to balance the two processes.
_COST = {"subset-missing": 35, "vs-fragment-conflict": 15, "vs-unreachable-rule": 13, "dr-fragment-conflict": 8,
         "dr-tls-conflict": 6, "ingress-bypasses-subsets": 5, "subset-policy-unused": 4, "duplicate-resource": 4}
_RANK = {rule.ID: i for i, rule in enumerate(RULES)}


def _enabled(config: Config, diff_mode: bool, only: set[str] | None = None) -> list[Rule]:
    return [rule for rule in RULES
            if config.rule(rule.ID).enabled and not (rule.DIFF_ONLY and not diff_mode)
            and (only is None or rule.ID in only)]


def _run_rules(ctx: Context, diff_mode: bool, only: set[str] | None = None) -> list[Finding]:
    return _apply(ctx, _enabled(ctx.config, diff_mode, only))


def _apply(ctx: Context, rules: list[Rule]) -> list[Finding]:
    out: list[Finding] = []
    for rule in rules:
        severity = ctx.config.rule(rule.ID).severity
        for found in rule.check(ctx):
            out.append(replace(found, severity=severity) if severity else found)
    return out


def _head_findings(ctx: Context, diff_mode: bool) -> tuple[list[Finding], Descriptions | None]:
    """Every rule on the head, and in a diff the changes' descriptions: on two cores for a large mesh.

    The findings come in rule order either way; the descriptions are None when not computed here.
    """
    rules = _enabled(ctx.config, diff_mode)
    if len(ctx.head.by_key) < PARALLEL_RESOURCES or not forked.available():
        return _apply(ctx, rules), None
    theirs: list[Rule] = []
    mine: list[Rule] = []
    weight = [0, 0]
    for rule in sorted(rules, key=lambda r: -_COST.get(r.ID, 1)):  # greedy: heaviest first, to the lighter side
        side = 0 if weight[0] <= weight[1] else 1
        (theirs, mine)[side].append(rule)
        weight[side] += _COST.get(rule.ID, 1)
    theirs.sort(key=lambda r: _RANK[r.ID])
    mine.sort(key=lambda r: _RANK[r.ID])
    (found, described), more = forked.both(
        lambda: (_apply(ctx, theirs), descriptions(ctx.changes) if diff_mode else None), lambda: _apply(ctx, mine))
    return sorted(found + more, key=lambda f: _RANK[f.rule]), described  # stable: each rule's own order stays


def _suppress(findings: list[Finding], mesh: Mesh) -> tuple[list[Finding], list[Suppressed]]:
    kept, suppressed = [], []
    for f in findings:
        res = mesh.by_key.get(f.resource.key)
        if res is not None and f.rule in res.ignored_rules():
            suppressed.append(Suppressed(f))
        else:
            kept.append(f)
    return kept, suppressed


def _order(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (not f.introduced, -f.severity.rank, f.resource.file,
                                           f.location_line, f.rule, f.detail))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Analysis builds millions of small containers that live until the report is done; the cyclic
    collector would rescan them again and again (about a third of the run time on a large repo)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyze_diff(base_files: list[SourceFile], head_files: list[SourceFile], config: Config,
                 base_label: str | None, head_label: str, skipped: list[Skipped] | None = None) -> Report:
    """Compare two revisions as a pull request does."""
    with _collector_paused():
        return _analyze_diff(base_files, head_files, config, base_label, head_label, skipped)


def _analyze_diff(base_files: list[SourceFile], head_files: list[SourceFile], config: Config,
                  base_label: str | None, head_label: str, skipped: list[Skipped] | None) -> Report:
    base_blobs = {f.path: f.blob for f in base_files}
    touched = {f.path for f in head_files if base_blobs.get(f.path) != f.blob}
    cache: ParseCache = {}
    base_loaded = load(base_files, config, touched, cache)
    head_loaded = load(head_files, config, touched, cache)
    # A file that no longer parses says nothing about its resources: leave them out on both sides
    # rather than report them as removed.
    broken = {p.file for p in head_loaded.problems}
    base_resources = [r for r in base_loaded.resources if r.file not in broken]
    base_mesh, head_mesh = Mesh(base_resources, config.mesh), Mesh(head_loaded.resources, config.mesh)
    changes = tuple(diff(list(base_mesh.by_key.values()), list(head_mesh.by_key.values())))
    subsets = subset_changes(changes)  # once, for the two ordering rules and the plan
    head_ctx = Context(head_mesh, base_mesh, changes, subsets, config, tuple(head_loaded.problems))
    base_ctx = Context(base_mesh, None, changes, subsets, config, tuple(base_loaded.problems))
    found, described = _head_findings(head_ctx, diff_mode=True)
    # A finding is introduced unless the base had it: ask the base only about those rules and resources.
    base_ctx = replace(base_ctx, focus=frozenset(f.resource.key for f in found))
    before = {f.fingerprint for f in _run_rules(base_ctx, diff_mode=False, only={f.rule for f in found})}
    findings = [replace(f, introduced=f.fingerprint not in before) for f in found]
    findings, suppressed = _suppress(findings, head_mesh)
    return Report(
        mode="diff", base=base_label, head=head_label, resources=len(head_mesh.by_key),
        changes=describe(list(changes), described), findings=_order(findings), suppressed=suppressed,
        plan=build_plan(head_ctx), skipped=_skips(skipped, head_loaded, base_loaded),
        config=config, disabled=_disabled(config), snapshots=(head_mesh, base_mesh),
    )


def analyze_audit(files: list[SourceFile], config: Config, label: str,
                  skipped: list[Skipped] | None = None) -> Report:
    """Check one revision as a whole."""
    with _collector_paused():
        return _analyze_audit(files, config, label, skipped)


def _analyze_audit(files: list[SourceFile], config: Config, label: str, skipped: list[Skipped] | None) -> Report:
    loaded = load(files, config)
    mesh = Mesh(loaded.resources, config.mesh)
    ctx = Context(mesh, None, (), SubsetChanges(), config, tuple(loaded.problems))
    findings = [replace(f, introduced=False) for f in _head_findings(ctx, diff_mode=False)[0]]
    findings, suppressed = _suppress(findings, mesh)
    return Report(
        mode="audit", base=None, head=label, resources=len(mesh.by_key), changes=[],
        findings=_order(findings), suppressed=suppressed, plan=Plan(()), skipped=_skips(skipped, loaded),
        config=config, disabled=_disabled(config), snapshots=(mesh,),
    )


def _skips(extra: list[Skipped] | None, *loaded: Loaded) -> list[Skipped]:
    out = list(extra or [])
    for part in loaded:
        out += part.skipped
    return sorted(dict.fromkeys(out), key=lambda s: (s.file, s.reason))


def _disabled(config: Config) -> list[str]:
    return sorted(rule_id for rule_id, s in config.rules.items() if not s.enabled)
