#!/usr/bin/env python3
"""Run Istio's own analyzer test cases through `audit` and print how far we agree.

Usage: python scripts/conformance.py [CONFORMANCE_DIR]   (default: ../shared/conformance/istio-analyze)

For each test-table row whose analyzer overlaps one of our rules, the case file (plus its extra
inputs and the harness's default ingress objects) is audited with only that rule enabled, and the
(code, resource) multiset is compared with what `istioctl analyze` expects. Resources without a
namespace stay namespace-less, as in Istio's harness.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bot.analyze import analyze_audit
from bot.config import Config, RuleSettings
from bot.findings import Finding
from bot.load import SourceFile
from bot.rules import RULE_IDS

# analyzer -> (code, our rule, which of the rule's findings count)
MAPPING: dict[str, tuple[str, str, Callable[[Finding], bool]]] = {
    "virtualservice.DestinationRuleAnalyzer": ("IST0101", "subset-missing", lambda f: True),
    "virtualservice.GatewayAnalyzer": ("IST0101", "reference-missing", lambda f: f.detail.startswith("gateway:")),
    "gateway.ConflictingGatewayAnalyzer": ("IST0145", "gateway-host-conflict", lambda f: True),
    "gateway.CertificateAnalyzer": ("IST0138", "gateway-shared-certificate", lambda f: True),
    "virtualservice.ConflictingMeshGatewayHostsAnalyzer": ("IST0109", "vs-fragment-conflict",
                                                           lambda f: f.detail.startswith("mesh:")),
    "schema.ValidationAnalyzer.VirtualService": ("IST0130", "vs-unreachable-rule", lambda f: True),
    "virtualservice.DestinationHostAnalyzer": ("IST0140", "ingress-bypasses-subsets", lambda f: True),
}


def _file(root: str, name: str) -> SourceFile:
    with open(os.path.join(root, name), "rb") as fh:
        data = fh.read()
    return SourceFile(name, data, hashlib.sha1(data, usedforsecurity=False).hexdigest())


def _name(kind: str, namespace: str, name: str) -> str:
    return f"{kind} {name}.{namespace}" if namespace else f"{kind} {name}"


def main(argv: list[str]) -> int:
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                      "conformance", "istio-analyze")
    if not os.path.isfile(os.path.join(root, "expected.json")):
        print(f"conformance data not found in {root}", file=sys.stderr)
        return 2
    with open(os.path.join(root, "expected.json")) as fh:
        data = json.load(fh)
    harness = _file(root, "harness-default-ingress.yaml")
    per_code: dict[str, list[int]] = {}
    exact = detected = total = 0
    for case in data["cases"]:
        if case["analyzer"] not in MAPPING:
            continue
        code, rule, counts = MAPPING[case["analyzer"]]
        names = [case["file"], *(case.get("extra_inputs") or [])]
        files = [_file(os.path.join(root, "cases"), n) for n in names] + [harness]
        config = replace(Config(default_namespace=""),
                         rules={r: RuleSettings(enabled=(r == rule)) for r in RULE_IDS})
        report = analyze_audit(files, config, "conformance")
        ours = Counter(_name(f.resource.kind, f.resource.namespace, f.resource.name)
                       for f in report.findings if f.rule == rule and counts(f))
        theirs = Counter(e["resource"] for e in case["expected"] if e["code"] == code)
        same = ours == theirs
        same_verdict = bool(ours) == bool(theirs) and set(ours) <= set(theirs)
        total += 1
        exact += int(same)
        detected += int(same_verdict)
        stats = per_code.setdefault(code + " " + rule, [0, 0, 0])
        stats[0] += 1
        stats[1] += int(same)
        stats[2] += int(same_verdict)
        mark = "agree" if same else ("same verdict" if same_verdict else "DIFFER")
        print(f"{mark:<13} {code} {rule:<27} {case['test_name']}")
        if not same:
            for name in sorted(set(ours) | set(theirs)):
                if ours[name] != theirs[name]:
                    print(f"{'':14}{name}: istioctl {theirs[name]}, istio-pr-bot {ours[name]}")
    print()
    for key, (n, agreed, verdict) in sorted(per_code.items()):
        print(f"{key:<40} {agreed}/{n} exact, {verdict}/{n} same verdict")
    print(f"{'all':<40} {exact}/{total} exact, {detected}/{total} same verdict")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
