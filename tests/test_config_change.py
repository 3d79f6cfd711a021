"""What a change to the review's own settings is said to change, key by key, and what it would hide."""

from __future__ import annotations

from bot.analyze import load_config
from bot.config_change import describe, hidden
from tests.helpers import diff

BASE = """\
paths: ["*.yaml"]
istio-version: "1.20"
export-to-defaults:
  VirtualService: ["*"]
gateway-namespaces:
  istio=ingressgateway: istio-system
rules:
  subset-missing:
    severity: error
"""
HEAD = """\
paths: ["*.yaml", "*.yml"]
exclude: ["legacy/**"]
istio-version: "1.22"
mesh-mtls: strict
scope-gateway-to-namespace: true
export-to-defaults:
  VirtualService: ["."]
gateway-namespaces:
  istio=ingressgateway: edge
comment:
  on-empty: comment
rules:
  subset-missing:
    enabled: false
  vs-unreachable-rule:
    severity: notice
"""


def test_every_key_that_differs_is_named() -> None:
    changes = [(c.key, c.before, c.after) for c in describe(load_config(BASE), load_config(HEAD))]
    assert changes == [  # what decides the check and what is read first, then the rest
        ("rule subset-missing", "enabled", "disabled"),
        ("rule subset-missing severity", "error", "the rule's default (error)"),
        ("rule vs-unreachable-rule severity", "the rule's default (warning)", "notice"),
        ("paths", "[*.yaml]", "[*.yaml, *.yml]"),
        ("exclude", "[]", "[legacy/**]"),
        ("comment.on-empty", "not set", "comment"),
        ("scope-gateway-to-namespace", "false", "true"),
        ("export-to-defaults.VirtualService", "[*]", "[.]"),
        ("gateway-namespaces.istio=ingressgateway", "istio-system", "edge"),
        ("istio-version", "1.20", "1.22"),
        ("mesh-mtls", "not set", "STRICT"),
    ]
    assert describe(load_config(BASE), load_config(BASE + "\n# a comment\n")) == ()


def test_hidden_findings_say_why() -> None:
    def vs(name: str) -> str:
        return (f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\n  namespace: s\n"
                f"spec:\n  hosts: [{name}]\n  http:\n  - route:\n    - destination: {{host: {name}, subset: v9}}\n")

    base, head = {}, {"legacy/a.yaml": vs("r"), "b.yaml": vs("q")}
    current = load_config("")
    for settings, why in (("exclude: ['legacy/**']", ["file no longer read (paths, exclude)"]),
                          ("rules: {subset-missing: {enabled: false}}", ["rule disabled", "rule disabled"]),
                          ("rules: {subset-missing: {severity: warning}}", ["severity error → warning"] * 2),
                          ("fail-on: never", [])):
        proposed = load_config(settings)
        read = {path: text for path, text in head.items() if proposed.reads(path)}  # as bot.tree selects files
        found = hidden(diff(base, head, current), diff(base, read, proposed), proposed)
        assert [h.why for h in found] == why, settings


def test_once_merged_means_the_pull_requests_edits_on_top_of_the_base_as_it_is_now() -> None:
    from bot.config_change import merge

    origin = load_config("rules:\n  subset-missing: {severity: error}\n")
    base = load_config("fail-on: warning\nrules:\n  subset-missing: {severity: error}\n  vs-unreachable-rule: "
                       "{enabled: false}\n")  # the base branch moved on after the pull request started
    head = load_config("rules:\n  subset-missing: {enabled: false}\n")  # the pull request's only edit
    merged = merge(origin, base, head)
    assert merged.fail_on == "warning" and not merged.rule("vs-unreachable-rule").enabled
    assert not merged.rule("subset-missing").enabled
    assert [(c.key, c.before, c.after) for c in describe(base, merged)] == [
        ("rule subset-missing", "enabled", "disabled"),
        ("rule subset-missing severity", "error", "the rule's default (error)")]
