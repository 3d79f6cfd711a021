"""Reading manifests: shapes, encodings, kinds, lines, and what is skipped."""

from __future__ import annotations

import pytest

from bot.changes import describe, diff
from bot.config import Config
from bot.findings import DUPLICATE_KEY, OVER_LIMIT, REFUSED
from bot.kinds import KINDS, Kind
from bot.load import parse_file

VS = "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: {n}\n  namespace: shop\nspec:\n  hosts: [reviews]\n"


def _parse(text: str | bytes, full: bool = True):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return parse_file("f.yaml", data, Config(), full)


def test_multi_document_lines_and_namespace_default() -> None:
    text = "# comment\n---\n" + VS.format(n="a") + "---\n" + VS.format(n="b").replace("  namespace: shop\n", "")
    parsed = _parse(text)
    assert [(r.name, r.namespace, r.line) for r in parsed.resources] == [("a", "shop", 3), ("b", "default", 11)]


def test_list_items_crlf_bom_and_anchors() -> None:
    text = ("\ufeffapiVersion: v1\r\nkind: List\r\nitems:\r\n- &vs\r\n  apiVersion: networking.istio.io/v1alpha3\r\n"
            "  kind: VirtualService\r\n  metadata: {name: x, namespace: shop}\r\n  spec: {hosts: [a]}\r\n")
    parsed = _parse(text.encode("utf-8"))
    assert [(r.kind, r.name, r.api_version) for r in parsed.resources] == [("VirtualService", "x", "networking.istio.io/v1alpha3")]


def test_other_kinds_and_groups_are_ignored() -> None:
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\n"
            "apiVersion: example.com/v1\nkind: VirtualService\nmetadata: {name: fake}\n---\n" + VS.format(n="real"))
    assert [r.name for r in _parse(text).resources] == ["real"]


def test_helm_templates_and_binary_files_are_skipped_with_a_reason() -> None:
    assert "Helm" in _parse("metadata:\n  name: {{ .Values.name }}\n").skipped[0].reason
    assert "binary" in _parse(b"\x00\x01kind: x").skipped[0].reason


def test_what_kubectl_refuses_is_a_problem_with_a_line() -> None:
    broken = _parse(VS.format(n="a") + "  http: [\n")
    assert broken.problem and broken.problem.line == 9 and not broken.resources  # where libyaml gave up
    encoding = _parse(b"a: 1\nkind: \xff\xfe\n")
    assert encoding.problem and encoding.problem.line == 2 and "UTF-8" in encoding.problem.reason
    separator = _parse(VS.format(n="a") + "--- !!map\n" + VS.format(n="b"))
    assert separator.problem and separator.problem.line == 8 and not separator.resources
    directive = _parse("%YAML 1.1\n---\n" + VS.format(n="a"))
    assert directive.problem and directive.problem.line == 1
    assert all(p.problem and p.problem.kind == REFUSED for p in (broken, encoding, separator, directive))


def test_repeated_keys_keep_the_last_value_and_are_noted() -> None:
    dup = _parse(VS.format(n="a") + "  hosts: [other]\n")
    assert dup.problem is None and dup.resources[0].spec["hosts"] == ["other"]
    (note,) = dup.notes
    assert (note.kind, note.line) == (DUPLICATE_KEY, 8) and "repeats key 'hosts' (first at line 7)" in note.reason


def test_json_streams_and_what_follows_a_document_end() -> None:
    first = '{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "a", "namespace": "s"}}'
    parsed = _parse(first + "\n" + first.replace('"a"', '"b"') + "\n")
    assert [(r.name, r.line) for r in parsed.resources] == [("a", 1), ("b", 2)]
    ended = _parse(VS.format(n="a") + "...\n" + VS.format(n="b"))
    assert [r.name for r in ended.resources] == ["a"] and "ignored by kubectl" in ended.skipped[0].reason


def test_nesting_beyond_the_reviews_limit_is_not_reviewed_but_not_refused() -> None:
    deep = _parse(VS.format(n="a") + "  x: " + "[" * 600 + "]" * 600 + "\n")
    assert deep.problem and deep.problem.kind == OVER_LIMIT and not deep.resources


def test_resource_without_name_is_skipped_not_dropped_silently() -> None:
    parsed = _parse("apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n")
    assert parsed.skipped and "metadata.name" in parsed.skipped[0].reason


def test_prefilter_skips_other_documents_without_parsing_them() -> None:
    text = "kind: ConfigMap\ndata: {a: [\n---\n" + VS.format(n="a")
    assert [r.name for r in _parse(text, full=False).resources] == ["a"]
    assert _parse(text, full=True).problem is not None


def test_field_lines() -> None:
    res = _parse("---\n" + VS.format(n="a")).resources[0]
    assert res.field_line("spec", "hosts") == 8
    assert res.field_line("spec", "nothing") is None


def test_moves_reordering_comments_and_quoting_are_not_changes() -> None:
    a = _parse(VS.format(n="a")).resources
    moved = parse_file("elsewhere/g.yaml", ("# new comment\nkind: VirtualService\napiVersion: 'networking.istio.io/v1beta1'\n"
                       "spec:\n  hosts: [\"reviews\"]\nmetadata:\n  namespace: shop\n  name: a\n").encode(), Config()).resources
    assert diff(a, moved) == []


def test_named_lists_compare_by_name() -> None:
    dr = ("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r, namespace: s}\n"
          "spec:\n  host: r\n  subsets:\n{subsets}")
    before = _parse(dr.replace("{subsets}", "  - {name: v1}\n  - {name: v2}\n")).resources
    after = _parse(dr.replace("{subsets}", "  - {name: v2}\n  - {name: v3}\n")).resources
    (change,) = describe(diff(before, after))
    assert change.paths == ("spec.subsets[v1]", "spec.subsets[v3]")
    assert change.what == ("subset v1 removed", "subset v3 added")
    reordered = _parse(dr.replace("{subsets}", "  - {name: v2}\n  - {name: v1}\n")).resources
    assert diff(before, reordered) == []


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_kind_is_read_whole_and_through_the_prefilter(kind: Kind) -> None:
    api_version = kind.api_versions[0] if kind.api_versions else f"{kind.group}/v1"
    text = f"apiVersion: {api_version}\nkind: {kind.manifest_kind}\nmetadata: {{name: x, namespace: ns}}\n"
    other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ns}\n---\n"
    assert [r.kind for r in _parse(other + text).resources] == [kind.name]
    assert [r.kind for r in _parse(other + text, full=False).resources] == [kind.name]
    assert _parse(text.replace(api_version, "example.com/v1"), full=True).resources == []
