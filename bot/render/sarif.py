"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning (upload with github/codeql-action/upload-sarif)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot import __version__
from bot.findings import Finding, Severity
from bot.report import Report
from bot.rules import RULES
from bot.rules.base import DOCS_BASE, docs_url

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def _location(file: str, line: int) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"},
                                 "region": {"startLine": max(1, line)}}}


def _result(f: Finding, index: dict[str, int], report: Report) -> dict[str, Any]:
    # the cluster joins the identity: the same finding in two clusters is two results
    parts = [f.rule, *f.resource.key, f.detail] + ([f.resource.cluster] if f.resource.cluster else [])
    fingerprint = hashlib.sha256("|".join(parts).encode()).hexdigest()
    where = f" ({f.resource.placement})" if f.resource.placement else ""
    properties: dict[str, Any] = {"introduced": f.introduced}
    if f.resource.cluster:
        properties.update(target=f.resource.target, cluster=f.resource.cluster)
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": f"{report.label(f.resource)}{where} {f.message}" + (f" Fix: {f.fix}" if f.fix else "")},
        "locations": [_location(f.resource.file, f.location_line)],
        "partialFingerprints": {"istioPrBot/v1": fingerprint},
        "properties": properties,
    }
    if f.related:
        result["relatedLocations"] = [{**_location(r.file, r.line), "id": i, "message": {"text": report.label(r)}}
                                      for i, r in enumerate(f.related)]
    return result


def as_dict(report: Report) -> dict[str, Any]:
    rules = [{
        "id": rule.ID,
        "name": "".join(part.capitalize() for part in rule.ID.split("-")),
        "shortDescription": {"text": rule.SUMMARY},
        "fullDescription": {"text": rule.WHY},
        "helpUri": docs_url(rule.ID),
        "help": {"text": f"{rule.WHY} Istio guidance: {rule.GUIDANCE}"},
        "defaultConfiguration": {"level": _LEVEL[rule.SEVERITY]},
    } for rule in RULES]
    index = {rule.ID: i for i, rule in enumerate(RULES)}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "istio-pr-bot", "version": __version__, "informationUri": DOCS_BASE,
                                "rules": rules}},
            "automationDetails": {"id": f"istio-pr-bot/{report.mode}/"},
            "results": [_result(f, index, report) for f in report.findings],
        }],
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"
