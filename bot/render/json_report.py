"""`--format json`, version 2 (README, "JSON report").

Every resource is named by `kind` as manifests write it and its API `group` ("" for the core group),
so the Gateway API Gateway is `{"kind": "Gateway", "group": "gateway.networking.k8s.io"}` and Istio's
is `{"kind": "Gateway", "group": "networking.istio.io"}`; a cluster-scoped resource (Namespace,
GatewayClass) has `namespace: ""`. A change is `added`, `removed`, `modified` or `renamed`; a renamed
one names its old self in `previous`. Every change, finding, plan step and left-out resource carries its
deploy target and cluster, every stage its cluster, and `targets` lists the targets. Version 1 named
kinds as the bot does internally (`KubernetesGateway`) and had no `group`, `previous`, `qualified_kinds`,
targets or clusters.
"""

from __future__ import annotations

import json
from typing import Any

from bot.findings import Finding, Ref, Severity
from bot.kinds import external
from bot.plan import Step
from bot.report import ConfigReview, Report, TargetRow
from bot.rules.base import docs_url

VERSION = 2



def _kind(kind: str) -> dict[str, str]:
    written, group = external(kind)
    return {"kind": written, "group": group}


def _ref(ref: Ref) -> dict[str, Any]:
    return {**_kind(ref.kind), "namespace": ref.namespace, "name": ref.name, "file": ref.file, "line": ref.line}


def _placed(ref: Ref) -> dict[str, Any]:
    """The deploy target and cluster a resource is in (null when the repository is one plain tree)."""
    return {"target": ref.target or None, "cluster": ref.cluster or None}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule, "severity": f.severity.value, "introduced": f.introduced, "message": f.message,
        "docs": docs_url(f.rule), "resource": _ref(f.resource), "line": f.location_line,
        "related": [_ref(r) for r in f.related], "fix": f.fix, **_placed(f.resource),
    }


def _step(s: Step) -> dict[str, Any]:
    r = s.resource
    out = {**_kind(r.kind), "namespace": r.namespace, "name": r.name, "file": r.file, "note": s.note,
           "target": r.target or None}
    if s.generated:  # not a repository file as it is: the document itself, for whoever applies the plan
        out |= {"generated": s.generated, "document": s.source}
    return out


def _target(t: TargetRow) -> dict[str, Any]:
    return {"name": t.name, "cluster": t.cluster, "kind": t.kind, "path": t.path, "touched": t.touched,
            "status": t.status, "reason": t.reason, "renders": t.renders}


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "version": VERSION,
        "mode": report.mode,
        "base": report.base,
        "head": report.head,
        "summary": {
            **{s.value: report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE)},
            "introduced": {s.value: report.count(s, introduced_only=True) for s in Severity},
            "suppressed": len(report.suppressed),
            "resources": report.resources,
            "changed": len(report.changes),
            "not_reviewed": len(report.not_reviewed()),
        },
        "changes": [
            {**_ref(c.resource), "change": c.change, "paths": list(c.paths), "what": list(c.what),
             **({"previous": _ref(c.previous)} if c.previous is not None else {}), **_placed(c.resource)}
            for c in report.changes
        ],
        "findings": [_finding(f) for f in report.findings],
        "suppressed": [{**_finding(s.finding), "reason": s.reason} for s in report.suppressed],
        "plan": {
            "stages": [
                {"title": st.title, "files": list(st.files), "apply": [_step(s) for s in st.apply],
                 "delete": [_step(s) for s in st.delete], "wait": st.wait, "notes": list(st.notes),
                 "cluster": st.cluster or None}
                for st in report.plan.stages
            ],
            "left_out": [{**_ref(r), **_placed(r)} for r in report.plan.left_out],
        },
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped],
        "disabled_rules": list(report.disabled),
        "paths": list(report.paths),
        "config_change": _config_change(report.config_change),
        "targets": [_target(t) for t in report.targets],
        "qualified_kinds": [_kind(k) for k in report.qualified],
    }


def _config_change(change: ConfigReview | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "file": change.file, "used": change.used, "error": change.error,
        "changes": [{"key": c.key, "before": c.before, "after": c.after} for c in change.changes],
        "hidden": [{**_finding(h.finding), "why": h.why} for h in change.hidden],
        "fails_now": change.fails_now, "fails_after": change.fails_after,
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
