"""The comment's sections by deploy target: one per target the change touches, or that has findings,
or that could not be read, clusters with the worst findings first, each cluster's plan in its last
section."""

from __future__ import annotations

from typing import Any

from bot.findings import Finding, Ref, Severity
from bot.plan import by_cluster
from bot.render.change_rows import change_rows
from bot.render.cutting import Cut
from bot.render.finding_groups import ICONS, folded, severity_groups
from bot.render.rollout_plan import rollout_plan
from bot.render.summary import plural
from bot.report import Report, TargetRow


def target_sections(report: Report, link_base: str | None,
                    cut: Cut) -> tuple[list[dict[str, Any]], list[Finding], list[dict[str, Any]]]:
    """A section per target the change touches, or that has findings, or that could not be read (the
    clusters with the worst findings first), each cluster's plan in the cluster's last section; the
    findings that belong to no section; and the plans of clusters that have none."""
    headline = report.headline()

    def of(ref: Ref, t: TargetRow) -> bool:
        return (ref.target, ref.cluster) == (t.name, t.cluster)

    shown = [t for t in report.targets if t.touched or t.status in ("not reviewed", "render error")
             or any(of(c.resource, t) for c in report.changes) or any(of(f.resource, t) for f in headline)]
    mine: list[list[Finding]] = [[] for _ in shown]
    unplaced = []
    for f in headline:  # its target's section, else the first of its cluster's (a file that does not parse)
        where = next((i for i, t in enumerate(shown) if of(f.resource, t)),
                     next((i for i, t in enumerate(shown) if f.resource.cluster and t.cluster == f.resource.cluster),
                          None))
        if where is None:
            unplaced.append(f)
        else:
            mine[where].append(f)
    # Clusters by their worst finding (errors first); the targets of one cluster stay together.
    clusters = list(dict.fromkeys(t.cluster for t in shown))
    worst = dict.fromkeys(clusters, 0)
    for t, found in zip(shown, mine, strict=True):
        worst[t.cluster] = max([worst[t.cluster], *(f.severity.rank for f in found)])
    order = sorted(range(len(shown)), key=lambda i: (-worst[shown[i].cluster], clusters.index(shown[i].cluster)))
    plans = dict(by_cluster(report.plan))
    last = {shown[i].cluster: i for i in order}
    sections = []
    for i in order:
        t, found = shown[i], mine[i]
        changes = [c for c in report.changes if of(c.resource, t)]
        top = max((f.severity for f in found), key=lambda s: s.rank, default=None)
        counts = [plural(sum(1 for f in found if f.severity is s), s.value)
                  for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE)]
        counts = [c for c in counts if not c.startswith("0 ")]
        summary = "not reviewed" if t.status == "not reviewed" else (
            f"{', '.join(counts) or 'no findings'}, {plural(len(changes), 'changed Istio resource')}")
        plan = plans.pop(t.cluster, None) if last[t.cluster] == i else None
        sharing = [s.name for s in shown if s.cluster == t.cluster]
        scope = f"cluster {t.cluster}" + (f" (targets {', '.join(sharing)})" if len(sharing) > 1 else "")
        sections.append({
            "name": t.name, "cluster": t.cluster, "kind": t.kind, "path": t.path, "status": t.status,
            "reason": t.reason, "summary": summary,
            "icon": "⏭️" if t.status == "not reviewed" else ICONS[top] if top else "✅",
            "title": f"{t.name} · cluster {t.cluster}" if t.name != t.cluster else f"cluster {t.cluster}",
            **folded(report, severity_groups(report, found, link_base, cut)),
            **change_rows(report, changes, link_base, cut),
            "plan": rollout_plan(report, plan, cut, t.cluster, scope) if plan else None,
        })
    left = [rollout_plan(report, plan, cut, cluster, f"cluster {cluster}") for cluster, plan in plans.items()]
    return sections, unplaced, left
