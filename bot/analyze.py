"""The pipeline, pure: files -> revisions (snapshots) -> changes -> findings and plan -> Report.

Each step is a function of values: `load_revisions`/`load_revision` read files into snapshots,
`diff_revisions`/`audit_revision` run the rules and the plan over them, and `review_diff`/
`review_audit` assemble the Report. Analysis runs with the cyclic collector paused, and on two
cores for a large mesh (`bot.speed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from bot import checks, speed
from bot.changes import Change, Descriptions, describe, descriptions, diff, rows
from bot.config import FILE_NAME, Config, parse_config
from bot.context import Context
from bot.findings import DUPLICATE_KEY, Finding, ParseProblem, RenderProblem, Severity, Skipped, Suppressed
from bot.kinds import qualified_in
from bot.load import Loaded, ParseCache, RenderedDocument, SourceFile, load, load_rendered
from bot.mesh import Mesh
from bot.plan import Plan
from bot.planning import build_plan
from bot.report import ChangedResource, Report
from bot.rules import RULE_IDS
from bot.rules.base import Rule
from bot.subset_changes import SubsetChanges, subset_changes

PARALLEL_RESOURCES = 2_000  # below this, a second process costs more than it saves


def load_config(text: str | None, source: str = FILE_NAME) -> Config:
    """A config file's text, validated against the rules this pipeline runs."""
    return parse_config(text, RULE_IDS, source)


@dataclass(frozen=True)
class Revision:
    """One revision, loaded: its resources as a mesh, its broken files and skipped files, and the
    deploy targets that did not render."""

    mesh: Mesh
    problems: tuple[ParseProblem, ...]
    skipped: tuple[Skipped, ...]
    render_errors: tuple[RenderProblem, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What the rules and the plan say about a diff of two revisions, or about one revision."""

    changes: tuple[ChangedResource, ...]
    findings: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...]
    plan: Plan


@dataclass(frozen=True)
class Review:
    """A report and the snapshots it was computed from (a caller that exits without freeing them
    keeps this value until the end)."""

    report: Report
    snapshots: tuple[Mesh, ...]


def load_revisions(base_files: list[SourceFile], head_files: list[SourceFile], config: Config,
                   base_rendered: Sequence[RenderedDocument] = (), head_rendered: Sequence[RenderedDocument] = (),
                   changed: frozenset[str] | None = None) -> tuple[Revision, Revision]:
    """Base and head as a pull request compares them: touched files are read whole, a blob both
    hold is parsed once, and a file that no longer parses says nothing about its resources (they
    are left out on both sides rather than reported as removed).

    Rendered output (of the deploy targets of one cluster) joins the files. Where one resource is
    defined in several files, the copy in a file the change touches counts on both sides (`changed`:
    the repository paths the change touches; default: the files whose blob differs).
    """
    base_blobs = {f.path: f.blob for f in base_files}
    touched = {f.path for f in head_files if base_blobs.get(f.path) != f.blob}
    cache: ParseCache = {}
    base_loaded = _with_rendered(load(base_files, config, touched, cache), base_rendered, config)
    head_loaded = _with_rendered(load(head_files, config, touched, cache), head_rendered, config)
    broken = {p.file for p in head_loaded.problems if p.kind != DUPLICATE_KEY}  # files read as nothing
    if changed is None:
        changed = frozenset(touched | (base_blobs.keys() - {f.path for f in head_files}))
    return (_revision(base_loaded, config, changed, leave_out=broken), _revision(head_loaded, config, changed))


def load_revision(files: list[SourceFile], config: Config, rendered: Sequence[RenderedDocument] = ()) -> Revision:
    """One revision on its own (an audit): every file through the text pre-filter."""
    return _revision(_with_rendered(load(files, config), rendered, config), config)


def _with_rendered(loaded: Loaded, rendered: Sequence[RenderedDocument], config: Config) -> Loaded:
    if rendered:
        more = load_rendered(rendered, config)
        loaded.resources += more.resources
        loaded.skipped += more.skipped
        loaded.problems += more.problems
    return loaded


def _revision(loaded: Loaded, config: Config, prefer: frozenset[str] = frozenset(),
              leave_out: set[str] | None = None) -> Revision:
    resources = [r for r in loaded.resources if r.file not in leave_out] if leave_out else loaded.resources
    return Revision(Mesh(resources, config.mesh, prefer), tuple(loaded.problems), tuple(loaded.skipped))


def diff_revisions(base: Revision, head: Revision, config: Config) -> Outcome:
    """The changes from base to head, the findings at head (introduced unless the base had them),
    and the staged plan."""
    changes = tuple(diff(list(base.mesh.by_key.values()), list(head.mesh.by_key.values())))
    subsets = subset_changes(changes)
    ctx = Context(head.mesh, base.mesh, changes, subsets, config, head.problems, render_errors=head.render_errors,
                  base_render_errors=base.render_errors)
    found, described = _findings(ctx, checks.enabled(config, diff_mode=True), describe_changes=True)
    # A finding is introduced unless the base had it: ask the base only about those rules and resources.
    base_ctx = Context(base.mesh, None, changes, subsets, config, base.problems,
                       focus=frozenset(f.resource.key for f in found), render_errors=base.render_errors)
    before = {f.fingerprint for f in checks.run(base_ctx, checks.enabled(config, False, {f.rule for f in found}))}
    kept, suppressed = checks.suppress([replace(f, introduced=f.fingerprint not in before) for f in found], head.mesh)
    listed = rows(describe(list(changes), described))
    errors = [f for f in kept if f.introduced and f.severity is Severity.ERROR]  # fixed first, left out of the plan
    return Outcome(listed, tuple(checks.order(kept)), tuple(suppressed), build_plan(ctx, errors))


def audit_revision(revision: Revision, config: Config) -> Outcome:
    """Every finding at one revision (none is introduced: nothing is compared)."""
    ctx = Context(revision.mesh, None, (), SubsetChanges(), config, revision.problems,
                  render_errors=revision.render_errors)
    found, _ = _findings(ctx, checks.enabled(config, diff_mode=False), describe_changes=False)
    kept, suppressed = checks.suppress([replace(f, introduced=False) for f in found], revision.mesh)
    return Outcome((), tuple(checks.order(kept)), tuple(suppressed), Plan(()))


Shared = tuple[list[Finding], Descriptions]  # what one task of the two-core phase answers


def _findings(ctx: Context, rules: list[Rule], describe_changes: bool) -> tuple[list[Finding], Descriptions | None]:
    """Every rule's findings, in rule order, and (when asked, on a large mesh) the descriptions of the
    modified resources: on two cores for a large mesh, where describing is one more task."""
    if len(ctx.head.by_key) < PARALLEL_RESOURCES or not speed.available():
        return checks.run(ctx, rules), None
    tasks: list[Callable[[], Shared]] = [partial(_describe, ctx.changes)] if describe_changes else []
    tasks += [partial(_check, ctx, rule) for rule in rules]
    results = speed.share(tasks)
    described: Descriptions = {}
    for _, part in results:
        described.update(part)
    return [f for found, _ in results for f in found], described if describe_changes else None


def _describe(changes: tuple[Change, ...]) -> Shared:
    return [], descriptions(changes)


def _check(ctx: Context, rule: Rule) -> Shared:
    return checks.check(ctx, rule), {}


def review_diff(base_files: list[SourceFile], head_files: list[SourceFile], config: Config,
                base_label: str | None, head_label: str, skipped: Sequence[Skipped] = ()) -> Review:
    """Compare two revisions as a pull request does."""
    with speed.collector_paused():
        base, head = load_revisions(base_files, head_files, config)
        outcome = diff_revisions(base, head, config)
        report = _report("diff", base_label, head_label, head, outcome, config, skipped, base)
        return Review(report, (head.mesh, base.mesh))


def review_audit(files: list[SourceFile], config: Config, label: str, skipped: Sequence[Skipped] = ()) -> Review:
    """Check one revision as a whole."""
    with speed.collector_paused():
        revision = load_revision(files, config)
        report = _report("audit", None, label, revision, audit_revision(revision, config), config, skipped)
        return Review(report, (revision.mesh,))


def analyze_diff(base_files: list[SourceFile], head_files: list[SourceFile], config: Config,
                 base_label: str | None, head_label: str, skipped: Sequence[Skipped] = ()) -> Report:
    return review_diff(base_files, head_files, config, base_label, head_label, skipped).report


def analyze_audit(files: list[SourceFile], config: Config, label: str, skipped: Sequence[Skipped] = ()) -> Report:
    return review_audit(files, config, label, skipped).report


def report_fields(config: Config, skipped: Iterable[Skipped], meshes: Iterable[Mesh]) -> dict[str, Any]:
    """The Report fields every review fills alike: skipped files (each once, sorted), the rules config
    turns off, the globs read, and the kinds named with their API group."""
    return {
        "skipped": tuple(sorted(dict.fromkeys(skipped), key=lambda s: (s.file, s.reason))),
        "disabled": tuple(sorted(rule_id for rule_id, s in config.rules.items() if not s.enabled)),
        "paths": config.paths,
        "qualified": tuple(sorted(qualified_in(frozenset().union(*(m.kinds for m in meshes))))),
    }


def _report(mode: str, base_label: str | None, head_label: str, head: Revision, outcome: Outcome, config: Config,
            skipped: Sequence[Skipped], *others: Revision) -> Report:
    skips = [*skipped, *head.skipped, *(s for r in others for s in r.skipped)]
    return Report(mode=mode, base=base_label, head=head_label, resources=len(head.mesh.by_key),
                  changes=outcome.changes, findings=outcome.findings, suppressed=outcome.suppressed,
                  plan=outcome.plan, **report_fields(config, skips, [head.mesh, *(r.mesh for r in others)]))
