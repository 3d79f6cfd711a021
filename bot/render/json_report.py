"""`--format json`, version 1."""

from __future__ import annotations

import json
from typing import Any

from bot.findings import Finding, Ref, Severity
from bot.plan import Step
from bot.report import Report
from bot.rules.base import docs_url


def _ref(ref: Ref) -> dict[str, Any]:
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name, "file": ref.file, "line": ref.line}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule, "severity": f.severity.value, "introduced": f.introduced, "message": f.message,
        "docs": docs_url(f.rule), "resource": _ref(f.resource), "line": f.location_line,
        "related": [_ref(r) for r in f.related], "fix": f.fix,
    }


def _step(s: Step) -> dict[str, Any]:
    r = s.resource
    return {"kind": r.kind, "namespace": r.namespace, "name": r.name, "file": r.file, "note": s.note}


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "version": 1,
        "mode": report.mode,
        "base": report.base,
        "head": report.head,
        "summary": {
            **{s.value: report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE)},
            "introduced": {s.value: report.count(s, introduced_only=True) for s in Severity},
            "suppressed": len(report.suppressed),
            "resources": report.resources,
            "changed": len(report.changes),
        },
        "changes": [
            {"kind": c.resource.kind, "namespace": c.resource.namespace, "name": c.resource.name, "change": c.change,
             "file": c.resource.file, "line": c.resource.line, "paths": list(c.paths), "what": list(c.what)}
            for c in report.changes
        ],
        "findings": [_finding(f) for f in report.findings],
        "suppressed": [{**_finding(s.finding), "reason": s.reason} for s in report.suppressed],
        "plan": {"stages": [
            {"title": st.title, "apply": [_step(s) for s in st.apply], "delete": [_step(s) for s in st.delete],
             "wait": st.wait, "notes": list(st.notes)}
            for st in report.plan.stages
        ]},
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped],
        "disabled_rules": list(report.disabled),
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
