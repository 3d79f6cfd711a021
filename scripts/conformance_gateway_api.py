"""Run the Gateway API conformance manifests through `audit` and print how far we agree.

Usage: python scripts/conformance_gateway_api.py [CONFORMANCE_DIR]
       (default: tests/conformance/gateway-api, copies of kubernetes-sigs/gateway-api v1.6.1; see its NOTICE)

Each case of expected.json names an object, a condition the suite's Go test asserts on it and, for some,
the responses it expects. As the suite's harness does, `base/manifests.yaml` and one test file are
applied together, with the Gateway class placeholder set to `istio`. The audit's findings are read as the
condition they predict:

- a route `Accepted=False` reason R: a route-unattached finding on that parentRef, with reason R;
  `Accepted=True`: no route-unattached finding on that parentRef;
- a route `ResolvedRefs=False` reason R: a route-backend-unresolved finding with reason R; `True`: none
  with a backend reason;
- a listener `ResolvedRefs=False` / `Programmed=False`: a listener-invalid or listener-certificate-unresolved
  finding on that listener with that reason (any, when the test accepts any); `Programmed=True`: none;
- a listener `Conflicted=True` reason R: a listener-conflict finding on that listener with reason R; a
  ListenerSet `Accepted=False ListenersNotValid`: such a finding on each of its listeners;
- a request expected to fail once an object is deleted (a ReferenceGrant): a diff of that deletion reports
  it (route-backend-unresolved, introduced);
- status green but traffic failing (a rule answering 500; a 421 for a misdirected HTTP/2 request): the
  finding that predicts it (route-backend-unresolved NoBackends; https-connection-reuse on the Gateway).

A case agrees when the prediction matches; otherwise the line says what the bot reported, and the
known reason for the difference (KNOWN below) is printed with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bot.analyze import analyze_audit, analyze_diff
from bot.config import Config
from bot.findings import Finding
from bot.load import SourceFile

DEFAULT = os.path.join(os.path.dirname(__file__), "..", "tests", "conformance", "gateway-api")
CLASS = "istio"
LISTENER_RULES = ("listener-invalid", "listener-certificate-unresolved", "listener-conflict")
BACKEND_REASONS = ("BackendNotFound", "RefNotPermitted", "InvalidKind")

# Why the bot cannot agree on these cases; printed next to a disagreement, never used to decide one.
KNOWN = {
    "attach-to-unresolved-listener": "the listener's certificate Secret does not exist; the bot does not read "
                                     "Secrets (rarely kept in git), so it cannot see that",
    "listener-bad-cert-nonexistent-secret": "the Secret does not exist; the bot does not read Secrets",
    "listener-bad-cert-malformed-secret": "the Secret holds no valid PEM data; the bot does not read Secrets",
}


def _source(path: str, name: str) -> SourceFile:
    with open(path, "rb") as fh:
        data = fh.read().replace(b"{GATEWAY_CLASS_NAME}", CLASS.encode())
    return SourceFile(name, data, hashlib.sha1(data, usedforsecurity=False).hexdigest())


def _key(text: str) -> tuple[str, str, str]:
    kind, namespace, name = text.split("/", 2)
    return ("KubernetesGateway" if kind == "Gateway" else kind, namespace, name)


def _on(findings: Sequence[Finding], resource: str, rules: tuple[str, ...]) -> list[Finding]:
    key = _key(resource)
    return [f for f in findings if f.rule in rules and f.resource.key == key]


def _parent_findings(findings: Sequence[Finding], case: dict[str, Any], rules: tuple[str, ...]) -> list[Finding]:
    kind, namespace, name = case["parent"].split("/", 2)
    return [f for f in _on(findings, case["resource"], rules) if f" {kind} {namespace}/{name}" in f" {f.detail}"
            or f":{kind} {namespace}/{name}" in f.detail]


def _listener_findings(findings: Sequence[Finding], resource: str, listener: str) -> list[Finding]:
    out = []
    for f in _on(findings, resource, LISTENER_RULES):
        if f.rule == "listener-conflict":
            if f":{listener}:" in f":{f.detail.split(':', 1)[1]}":
                out.append(f)
        elif f.detail.split(":", 1)[0] == listener:
            out.append(f)
    return out


def _reason(f: Finding) -> str:
    if f.rule == "route-backend-unresolved":
        return f.detail.split(":", 1)[0]
    return f.detail.rsplit(":", 1)[-1]


def predict(case: dict[str, Any], findings: Sequence[Finding], listeners_of: dict[str, list[str]]) -> tuple[bool, str]:
    """(agrees, what the bot said) for one case."""
    condition, status, reason = case["condition"], case["status"], case.get("reason")
    kind = case["resource"].split("/", 1)[0]
    traffic = [t for t in case.get("traffic") or [] if "after" not in t]  # "after": checked by `revoked`
    fails_500 = any(t["expect"].get("status") == 500 for t in traffic)
    misdirected = any(t["expect"].get("status") == 421 for t in traffic)
    if "parent" in case:
        if condition == "Accepted":
            found = _parent_findings(findings, case, ("route-unattached", "route-detached"))
            said = ", ".join(sorted({_reason(f) for f in found})) or "attached"
            if status == "False":
                return any(_reason(f) == reason for f in found), said
            ok = not found
            if misdirected:
                reuse = _on(findings, case["parent"], ("https-connection-reuse",))
                ok = ok and bool(reuse)
                said += ", HTTP/2 reuse 404 predicted" if reuse else ", no reuse warning"
            return ok, said
        found = [f for f in _on(findings, case["resource"], ("route-backend-unresolved",))]
        reasons = sorted({_reason(f) for f in found})
        said = ", ".join(reasons) or "resolved"
        if status == "False":
            return reason in reasons, said
        ok = not any(r in BACKEND_REASONS for r in reasons)
        if fails_500:
            ok = ok and "NoBackends" in reasons
        return ok, said
    if kind == "ListenerSet" and "listener" not in case:
        names = listeners_of.get(case["resource"], [])
        conflicted = [n for n in names if any(f.rule == "listener-conflict"
                                               for f in _listener_findings(findings, case["resource"], n))]
        said = f"{len(conflicted)} of {len(names)} listeners conflicted"
        return (len(conflicted) == len(names) and bool(names)) == (status == "False"), said
    found = _listener_findings(findings, case["resource"], case["listener"])
    reasons = sorted({_reason(f) for f in found})
    said = ", ".join(reasons) or "no listener finding"
    failing = (condition in ("ResolvedRefs", "Programmed", "Accepted") and status == "False") or (
        condition == "Conflicted" and status == "True")
    if not failing:
        return not found, said
    return (bool(found) if reason is None else reason in reasons), said


def _without(source: SourceFile, kind: str, namespace: str, name: str) -> SourceFile:
    """The file without the document that defines kind namespace/name."""
    import yaml

    text = source.data.decode()
    kept = []
    for doc in text.split("\n---\n"):
        body = yaml.safe_load(doc)
        meta = (body or {}).get("metadata") or {} if isinstance(body, dict) else {}
        if not (isinstance(body, dict) and body.get("kind") == kind and meta.get("name") == name
                and meta.get("namespace") == namespace):
            kept.append(doc)
    data = "\n---\n".join(kept).encode()
    return SourceFile(source.path, data, hashlib.sha1(data, usedforsecurity=False).hexdigest())


def revoked(case: dict[str, Any], files: list[SourceFile]) -> tuple[bool, str] | None:
    """For a request expected to fail after an object is deleted: does a diff of that deletion predict it?"""
    after = [t for t in case.get("traffic") or [] if t.get("after", "").startswith("delete ")]
    if not after:
        return None
    _, kind, ref = after[0]["after"].split(" ", 2)
    namespace, name = ref.split("/", 1)
    head = [files[0], _without(files[1], kind, namespace, name)]
    report = analyze_diff(files, head, Config(), "before", "after")
    found = [f for f in _on(report.findings, case["resource"], ("route-backend-unresolved",)) if f.introduced]
    said = ", ".join(sorted({_reason(f) for f in found})) or "nothing"
    return bool(found), f"after deleting {kind} {ref}: {said}"


def _listener_names(files: list[SourceFile]) -> dict[str, list[str]]:
    import yaml

    out: dict[str, list[str]] = {}
    for f in files:
        for doc in yaml.safe_load_all(f.data):
            if isinstance(doc, dict) and doc.get("kind") == "ListenerSet":
                meta = doc.get("metadata") or {}
                names = [str(x.get("name")) for x in (doc.get("spec") or {}).get("listeners") or []]
                out[f"ListenerSet/{meta.get('namespace')}/{meta.get('name')}"] = names
    return out


def run(root: str) -> tuple[list[tuple[dict[str, Any], bool, str]], str]:
    with open(os.path.join(root, "expected.json")) as fh:
        data = json.load(fh)
    base = _source(os.path.join(root, "base", "manifests.yaml"), "base/manifests.yaml")
    reports: dict[str, Sequence[Finding]] = {}
    results = []
    for case in data["cases"]:
        name = case["file"]
        files = [base, _source(os.path.join(root, name), name)]
        if name not in reports:
            reports[name] = analyze_audit(files, Config(), "conformance").findings
        ok, said = predict(case, reports[name], _listener_names(files))
        later = revoked(case, files)
        if later is not None:
            ok, said = ok and later[0], f"{said}; {later[1]}"
        results.append((case, ok, said))
    return results, data["source"]["ref"]


def main(argv: list[str]) -> int:
    root = argv[1] if len(argv) > 1 else DEFAULT
    if not os.path.isfile(os.path.join(root, "expected.json")):
        print(f"conformance data not found in {root}", file=sys.stderr)
        return 2
    results, ref = run(root)
    for case, ok, said in results:
        expected = f"{case['condition']}={case['status']}" + (f" {case['reason']}" if case.get("reason") else "")
        print(f"{'agree' if ok else 'DIFFER':<7} {case['id']:<46} expected {expected:<40} bot: {said}")
        if not ok and case["id"] in KNOWN:
            print(f"{'':8}known: {KNOWN[case['id']]}")
    agree = sum(ok for _, ok, _ in results)
    print(f"\ngateway-api {ref} conformance: {agree}/{len(results)} cases agree")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
