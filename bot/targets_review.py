"""A review by deploy target: each cluster is its own mesh.

The targets of each revision are discovered (or taken from the `targets:` config) from one listing of
its files; a repository with no rendered targets and no folders of alternatives is reviewed exactly
as before, as one plain tree. Otherwise base and head targets are paired by name and cluster, and
only clusters whose targets' inputs the change touches are read: every target of such a cluster (so
its mesh is whole), a target the change does not touch once for both sides. Each touched cluster is
diffed on its own and the outcomes are merged, every change, finding and plan stage carrying its
target and cluster.

A target that fails to render at head keeps what is deployed (the base output stands in for it) and
gets a `render-error` finding; one that fails only at base is compared with nothing, with a notice;
one that cannot be read at all (a tool is missing, a remote base, values from outside the
repository) is left out on both sides and listed as not reviewed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import cast

from bot import analyze, checks, globs, speed
from bot.analyze import Outcome, Review, Revision
from bot.config import Config
from bot.discover import configured, discover
from bot.findings import Finding, Ref, RenderProblem, Skipped
from bot.load import RenderedDocument, SourceFile
from bot.mesh import Mesh
from bot.plan import Plan
from bot.report import Report, TargetRow
from bot.targets import Cluster, Discovery, SourceKind, Target, touched
from bot.targets_render import Output, Tools, needed, read_target, renders
from bot.tree import Collected, Trees, wanted

ToolsFactory = Callable[[], Tools]


@dataclass(frozen=True)
class Pair:
    """One target as it is at base and at head (None where it does not exist)."""

    base: Target | None
    head: Target | None

    @property
    def target(self) -> Target:
        """The target as at head, or as at base when the change removes it."""
        return cast(Target, self.head or self.base)  # a pair holds at least one side

    @property
    def cluster(self) -> Cluster:
        return self.target.cluster


def find_targets(paths: Collection[str], texts: dict[str, bytes], config: Config) -> Discovery:
    """One revision's targets: the `targets:` config when set, else discovery; targets defined in an
    excluded file (config `exclude`) are left out."""
    if config.targets is not None:
        return configured(config.targets, paths, texts, config.discovery)
    found = discover(paths, texts, config.discovery)
    if not config.exclude:
        return found
    kept = tuple(t for t in found.targets if not (t.defined_in and globs.match(t.defined_in, config.exclude)))
    return replace(found, targets=kept)


def with_repo_urls(config: Config, urls: Iterable[str]) -> Config:
    """The config with the URLs that name this repository (its remotes, the Action's repository) for
    discovery, unless `discovery.repo-urls` gives them; local paths are not URLs of it."""
    network = tuple(dict.fromkeys(u for u in urls if re.match(r"^(?:[a-z][a-z0-9+.-]*://(?!/)|[^/@:]+@[^/:]+:)", u)
                                  and not u.startswith("file:")))
    if config.discovery.repo_urls or not network:
        return config
    return replace(config, discovery=replace(config.discovery, repo_urls=network))


def plain(found: Discovery, config: Config) -> bool:
    """Whether a revision is one plain tree, reviewed exactly as a repository without targets."""
    return config.targets is None and all(t.kind is SourceKind.PLAIN and not t.alternatives for t in found.targets)


def review_diff(trees: Trees, collected: Collected, config: Config, base_label: str, head_label: str,
                tools: ToolsFactory) -> Review:
    """Compare the two revisions of `trees` (base, head) target by target."""
    base_found, head_found = (find_targets(t.files.keys(), texts, config)
                              for t, texts in zip(trees.listings, collected.texts, strict=True))
    if plain(base_found, config) and plain(head_found, config):
        return analyze.review_diff(collected.files[0], collected.files[1], config, base_label, head_label,
                                   collected.skipped)
    base_files, head_files = (t.files for t in trees.listings)
    changed = frozenset(p for p in base_files.keys() | head_files.keys() if base_files.get(p) != head_files.get(p))
    pairs = _pairs(base_found.targets, head_found.targets)
    hit = {p.cluster for p in pairs if touched(p.base, p.head, changed)}
    chosen = [p for p in pairs if p.cluster in hit]
    needs_tools = any(renders(t) for p in chosen for t in (p.base, p.head) if t is not None)
    reader = _Reader(trees, collected, config, tools() if needs_tools else None)
    outputs = reader.outputs(chosen, changed)
    with speed.collector_paused():
        results = [_diff_cluster(cluster, [p for p in chosen if p.cluster == cluster], outputs, config, changed)
                   for cluster in sorted(hit, key=lambda c: (c.name, c.server))]
    rows = [_row(p, p in outputs, outputs.get(p), touched(p.base, p.head, changed)) for p in pairs]
    read = {f for p in chosen for t in (p.base, p.head) if t is not None for f in _reads(t)}
    strays = [Skipped(path, _why_not_read(path, base_found, head_found))
              for path in sorted(changed) if wanted(path, config) and path not in read]
    report = _report("diff", base_label, head_label, results, config, [*collected.skipped, *strays], rows)
    return Review(report, tuple(m for r in results for m in r.meshes))


def review_audit(trees: Trees, collected: Collected, config: Config, label: str, tools: ToolsFactory,
                 only: tuple[str, ...] = ()) -> Review:
    """Check one revision target by target (with `only`, the targets that read something below those paths)."""
    found = find_targets(trees.listings[0].files.keys(), collected.texts[0], config)
    if plain(found, config):
        return analyze.review_audit(collected.files[0], config, label, collected.skipped)
    pairs = [Pair(None, t) for t in found.targets if not only or _reads_below(t, only)]
    reader = _Reader(trees, collected, config, tools() if any(renders(p.target) for p in pairs) else None, sides=1)
    outputs = reader.outputs(pairs, frozenset())
    clusters = sorted({p.cluster for p in pairs}, key=lambda c: (c.name, c.server))
    with speed.collector_paused():
        results = [_audit_cluster(c, [p for p in pairs if p.cluster == c], outputs, config) for c in clusters]
    rows = [_row(p, True, outputs.get(p), False) for p in pairs]
    report = _report("audit", None, label, results, config, collected.skipped, rows)
    return Review(report, tuple(m for r in results for m in r.meshes))


# --- reading targets

Sides = tuple[Output | None, Output | None]  # (base, head); None where the target does not exist


class _Reader:
    """Reads the targets of the touched clusters: each side's files in one pass, a target the change
    does not touch once for both sides."""

    def __init__(self, trees: Trees, collected: Collected, config: Config, tools: Tools | None,
                 sides: int = 2) -> None:
        self.trees = trees
        self.plain = [{f.path: f for f in files} for files in collected.files]
        self.config = config
        self.tools = tools
        self.sides = sides

    def outputs(self, pairs: Sequence[Pair], changed: frozenset[str]) -> dict[Pair, Sides]:
        head_side = self.sides - 1
        jobs: list[tuple[Pair, int, Target]] = []  # (pair, side, target): what to read
        for pair in pairs:
            if self.sides == 2 and pair.base is not None and touched(pair.base, pair.head, changed):
                jobs.append((pair, 0, pair.base))
            if pair.head is not None:
                jobs.append((pair, head_side, pair.head))
        contents = []
        for side in range(self.sides):
            listing = self.trees.listings[side].files
            paths = set().union(*(needed(t, listing.keys()) for _, s, t in jobs if s == side))
            contents.append(self.trees.read(side, paths) if paths else {})
        done: dict[tuple[Pair, int], Output] = {}
        for pair, side, target in jobs:
            listing = self.trees.listings[side].files
            files = {p: contents[side][p] for p in needed(target, listing.keys()) if p in contents[side]}
            done[(pair, side)] = read_target(target, files, self.plain[side], self.config, self.tools)
        out: dict[Pair, Sides] = {}
        for pair in pairs:
            head = done.get((pair, head_side))
            base = done.get((pair, 0), head if pair.base is not None and self.sides == 2 else None)
            out[pair] = (base if self.sides == 2 else None, head)
        return out


# --- one cluster

@dataclass(frozen=True)
class _ClusterResult:
    outcome: Outcome
    head: Revision
    meshes: tuple[Mesh, ...]
    resources: int


@dataclass
class _Side:
    files: list[SourceFile]
    documents: list[RenderedDocument]
    errors: list[RenderProblem]

    @classmethod
    def empty(cls) -> _Side:
        return cls([], [], [])

    def add(self, output: Output) -> None:
        self.files += output.files
        self.documents += output.documents


def _split(pairs: Iterable[Pair], outputs: dict[Pair, Sides]) -> tuple[_Side, _Side]:
    """Base and head of one cluster: what each target holds, with the fallbacks for failures."""
    base, head = _Side.empty(), _Side.empty()
    for pair in pairs:
        before, after = outputs[pair]
        if any(o is not None and o.skipped is not None for o in (before, after)):
            continue  # not reviewed: left out on both sides
        if before is not None and before.error is not None:
            base.errors.append(_problem(pair.base or pair.target, before.error))
        elif before is not None:
            base.add(before)
        if after is not None and after.error is not None:
            head.errors.append(_problem(pair.target, after.error))
            if before is not None and before.ok:
                head.add(before)  # what is deployed stays deployed
        elif after is not None:
            head.add(after)
    return base, head


def _diff_cluster(cluster: Cluster, pairs: list[Pair], outputs: dict[Pair, Sides], config: Config,
                  changed: frozenset[str]) -> _ClusterResult:
    base, head = _split(pairs, outputs)
    base_rev, head_rev = analyze.load_revisions(base.files, head.files, config, base.documents, head.documents,
                                                changed)
    base_rev = replace(base_rev, render_errors=tuple(base.errors))
    head_rev = replace(head_rev, render_errors=tuple(head.errors))
    outcome = analyze.diff_revisions(base_rev, head_rev, config)
    return _ClusterResult(_in_cluster(outcome, cluster), head_rev, (base_rev.mesh, head_rev.mesh),
                          len(head_rev.mesh.by_key))


def _audit_cluster(cluster: Cluster, pairs: list[Pair], outputs: dict[Pair, Sides], config: Config) -> _ClusterResult:
    _, head = _split(pairs, outputs)
    revision = analyze.load_revision(head.files, config, head.documents)
    revision = replace(revision, render_errors=tuple(head.errors))
    outcome = analyze.audit_revision(revision, config)
    return _ClusterResult(_in_cluster(outcome, cluster), revision, (revision.mesh,), len(revision.mesh.by_key))


def _in_cluster(outcome: Outcome, cluster: Cluster) -> Outcome:
    """The outcome as the cluster's: its stages (their generated documents go to the cluster's folder),
    and the findings and left-out resources that name no cluster yet (a file that does not parse)."""
    def placed(ref: Ref) -> Ref:
        return ref if ref.cluster else replace(ref, cluster=cluster.name)

    def found(f: Finding) -> Finding:
        return f if f.resource.cluster else replace(f, resource=placed(f.resource))

    stages = tuple(replace(s, cluster=cluster.name) for s in outcome.plan.stages)
    return replace(outcome, findings=tuple(found(f) for f in outcome.findings),
                   suppressed=tuple(replace(s, finding=found(s.finding)) for s in outcome.suppressed),
                   plan=Plan(stages, tuple(placed(r) for r in outcome.plan.left_out)))


def _problem(target: Target, message: str) -> RenderProblem:
    return RenderProblem(target.name, target.cluster.name, target.defined_in or target.root or ".", message)


# --- assembling

def _pairs(base: Sequence[Target], head: Sequence[Target]) -> list[Pair]:
    before = {(t.name, t.cluster): t for t in base}
    after = {(t.name, t.cluster): t for t in head}
    keys = sorted(before.keys() | after.keys(), key=lambda k: (k[1].name, k[1].server, k[0]))
    return [Pair(before.get(k), after.get(k)) for k in keys]


def _row(pair: Pair, read: bool, sides: Sides | None, hit: bool) -> TargetRow:
    target = pair.target
    path = target.defined_in or target.root or "."
    outputs = {id(o): o for o in sides or () if o is not None}  # read once for both sides: counted once
    count = sum(o.renders for o in outputs.values())
    row = TargetRow(target.name, target.cluster.name, target.kind.value, path, hit, "reviewed", "", count)
    if not read or sides is None:
        return replace(row, status="unchanged")
    skipped = next((o.skipped for o in sides if o is not None and o.skipped), None)
    if skipped is not None:
        return replace(row, status="not reviewed", reason=skipped)
    before, after = sides
    if after is not None and after.error is not None:
        return replace(row, status="render error", reason=after.error.splitlines()[0])
    if before is not None and before.error is not None:
        return replace(row, reason="did not render at base: " + before.error.splitlines()[0])
    notes = [*target.unresolved, *target.notes]
    return replace(row, reason="; ".join(notes))


def _reads(target: Target) -> Iterable[str]:
    yield from (f for s in target.sources for f in s.files)
    yield from target.inputs


def _reads_below(target: Target, only: tuple[str, ...]) -> bool:
    """Whether the target reads a file below one of `only`, or a folder holding one of them."""
    def below(path: str, folder: str) -> bool:
        return folder == "" or path == folder or path.startswith(folder + "/")

    reads = [i.rstrip("/") for i in _reads(target)] + ([target.defined_in] if target.defined_in else [])
    return any(below(i, o.rstrip("/")) or below(o, i) for i in reads for o in only)


def _why_not_read(path: str, *found: Discovery) -> str:
    for discovery in found:
        reason = dict(discovery.left_out).get(path)
        if reason:
            return f"{reason}: left out of the review (config discovery.fixtures)"
    return "not read by any deploy target (istio-pr-bot targets lists them)"


def _report(mode: str, base_label: str | None, head_label: str, results: list[_ClusterResult], config: Config,
            skipped: Sequence[Skipped], rows: list[TargetRow]) -> Report:
    findings = checks.order([f for r in results for f in r.outcome.findings])
    skips = [*skipped, *(s for r in results for s in r.head.skipped)]
    return Report(mode=mode, base=base_label, head=head_label, resources=sum(r.resources for r in results),
                  changes=tuple(c for r in results for c in r.outcome.changes), findings=tuple(findings),
                  suppressed=tuple(s for r in results for s in r.outcome.suppressed),
                  plan=Plan(tuple(s for r in results for s in r.outcome.plan.stages),
                            tuple(ref for r in results for ref in r.outcome.plan.left_out)),
                  targets=tuple(rows), **analyze.report_fields(config, skips, [m for r in results for m in r.meshes]))
