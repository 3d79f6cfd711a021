"""The review comment: goldens, and its structure as GitHub's renderer (cmark-gfm) sees it."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from bot.buildtools import Renderers
from bot.config import Config
from bot.findings import Finding, Ref, Severity
from bot.plan import Plan, Stage, Step
from bot.render import markdown
from bot.report import ChangedResource, Report, TargetRow
from bot.rules import RULE_IDS
from bot.targets import RenderSettings
from tests.helpers import audit, diff, review_trees

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
LINK = "https://github.com/acme/mesh/blob/0123456789abcdef0123456789abcdef01234567"


def html(text: str) -> str:
    # UNSAFE keeps raw HTML, so a value that smuggled HTML in would show up here.
    return cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.open_details = 0
        self.max_depth = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "details":
            self.open_details += 1
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.open_details -= 1


def structure(text: str) -> Structure:
    parser = Structure()
    parser.feed(html(text))
    return parser


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.yaml"))}


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; review it and rerun with UPDATE_GOLDEN=1"


def test_bundled_example_comment() -> None:
    report = diff(tree(ROOT / "examples" / "base"), tree(ROOT / "examples" / "head"))
    text = markdown.render(report, link_base=LINK)
    check_golden("example-comment.md", text)
    s = structure(text)
    assert text.startswith("### ⛔ Not safe to merge as is: 8 errors, 8 warnings, 2 notices in 11 changed Istio resources")
    assert text.rstrip().endswith(markdown.MARKER)
    # What a reviewer sees first, in order: the verdict, the errors, the plan; the rest is folded.
    order = [text.index(h) for h in ("#### ⛔ Errors introduced by this change (8)", "#### 🚦 Rollout",
                                     "<details><summary>⚠️ 8 warnings and ℹ️ 2 notices introduced by this change",
                                     "<details><summary>Changed Istio resources (11)")]
    assert order == sorted(order)
    assert "#### ⚠️" not in text and "#### ℹ️" not in text
    folded = text[text.index("<details><summary>⚠️"):]
    assert folded.index("`subset-add-order`") < folded.index("</details>")  # warnings are inside the fold
    assert s.tags.count("table") == 1 and s.tags.count("tr") == 12  # header + 11 changes
    assert s.open_details == 0 and "<details open>" not in text
    # The plan names repository files where it can and generates only what it must.
    assert "⛔ **Fix the 8 errors first.**" in text
    assert "kubectl apply -f shop/reviews-tuning.yaml" in text and "kubectl apply -f shop/reviews.yaml" in text
    assert "kubectl apply -f stage-1.yaml" in text and "kubectl apply -f stage-3.yaml" not in text
    assert s.tags.count("pre") == 5  # one command block per stage, and the two generated documents
    assert any(link == f"{LINK}/shop/reviews.yaml#L35" for link in s.links)
    for rule in ("subset-add-order", "subset-remove-order", "exportto-narrowed"):
        assert f"https://github.com/istio-pr-bot/istio-pr-bot/blob/main/docs/rules/{rule}.md" in s.links


def test_clean_change_says_apply_in_one_step() -> None:
    dr = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  namespace: s\nspec:\n  host: r\n"
    text = markdown.render(diff({"a.yaml": dr}, {"a.yaml": dr + "  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n"}))
    check_golden("comments/clean.md", text)
    assert text.startswith("### ✅ Safe to merge: No rollout risks in 1 changed Istio resource")
    assert "No ordering hazard: apply in one step." in text and "stage-1.yaml" not in text and "GitOps" not in text


def test_no_istio_change_is_one_line() -> None:
    dr = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  namespace: s\nspec:\n  host: r\n"
    text = markdown.render(diff({"a.yaml": dr}, {"a.yaml": dr, "README.md": "docs"}))
    assert text.splitlines()[0] == "✅ istio-pr-bot: no Istio resources changed in this pull request."
    assert markdown.MARKER in text


def test_no_istio_resource_at_all_names_paths() -> None:
    report = diff({}, {"deploy/app.yaml": "kind: Deployment\n"}, Config(paths=("deploy/*.yaml",)))
    text = markdown.render(report)
    first = text.splitlines()[0]
    assert first.startswith("⚠️ istio-pr-bot: no Istio resources in the files read (paths: deploy/\\*.yaml)")
    assert "set \\`paths\\`" in first and markdown.MARKER in text
    audit_text = markdown.render(audit({"deploy/app.yaml": "kind: Deployment\n"}))
    assert audit_text.startswith("### ⚠️ Nothing reviewed: No rollout risks in 0 Istio resources\n\nNo Istio resources")


def _firing(rule: str) -> Path:
    return sorted(p for p in (ROOT / "tests" / "rules" / rule).glob("fires*"))[0]


@pytest.mark.parametrize("rule", [r for r in RULE_IDS if not (_firing(r) / "head").is_dir()])
def test_each_rule_renders(rule: str) -> None:
    case = _firing(rule)
    base = {"manifest.yaml": (case / "base.yaml").read_text()} if (case / "base.yaml").exists() else {}
    text = markdown.render(diff(base, {"manifest.yaml": (case / "head.yaml").read_text()}), link_base=LINK)
    _check_rule_comment(rule, text)


@pytest.mark.parametrize("rule", [r for r in RULE_IDS if (_firing(r) / "head").is_dir()])
def test_each_target_rule_renders(rule: str, renderers: Renderers) -> None:
    case = _firing(rule)
    report = review_trees(case / "base", case / "head", Config(), renderers, RenderSettings())
    _check_rule_comment(rule, markdown.render(report, link_base=LINK))


def _check_rule_comment(rule: str, text: str) -> None:
    check_golden(f"comments/{rule}.md", text)
    s = structure(text)
    assert f"https://github.com/istio-pr-bot/istio-pr-bot/blob/main/docs/rules/{rule}.md" in s.links
    assert s.open_details == 0


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "@org/team",
    "](javascript:alert(1))",
    "name`with``ticks",
    "<!-- hidden",
    "fixes #123",
    "https://evil.example/x",
    "a|b|c",
    "line\nbreak",
    "x" * 70_000,
]


def _hostile_manifest(i: int, name: str) -> str:
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return (f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {quoted}\n"
            f"  namespace: ns{i}\nspec:\n  hosts:\n  - {quoted}\n  http:\n  - route:\n    - destination:\n"
            f"        host: {quoted}\n        subset: {quoted}\n---\n")


def test_hostile_names_cannot_inject() -> None:
    head = {f"f{i}.yaml": _hostile_manifest(i, name) for i, name in enumerate(HOSTILE)}
    text = markdown.render(diff({}, head), link_base=LINK)
    check_golden("comments/hostile.md", text)
    out = html(text)
    assert len(text) <= markdown.LIMIT
    assert "<img" not in out and "javascript:" not in [a for a in structure(text).links]
    assert not any(link.startswith("javascript") or "evil.example" in link for link in structure(text).links)
    assert "<!-- hidden" not in out and text.count("<!--") == 1  # only our marker
    assert not re.search(r"@\w", out) and not re.search(r"#\d", out)  # no mentions, no references
    s = structure(text)
    rows = re.findall(r"<tr>", out)
    assert len(rows) == 1 + len(HOSTILE)  # each hostile name stays in its own table row
    assert s.open_details == 0
    assert "x" * 300 not in text  # the 70,000-character name is shortened


def _big_change(n: int) -> tuple[dict[str, str], dict[str, str]]:
    base, head = {}, {}
    for i in range(n):
        dr = (f"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: svc{i}\n  namespace: team{i % 7}\n"
              f"spec:\n  host: svc{i}\n  subsets:\n  - name: v1\n    labels: {{version: v1}}\n")
        vs = (f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: svc{i}\n  namespace: team{i % 7}\n"
              f"spec:\n  hosts: [svc{i}]\n  http:\n  - route:\n    - destination: {{host: svc{i}, subset: v1}}\n")
        base[f"svc{i}.yaml"] = dr + "---\n" + vs
        head[f"svc{i}.yaml"] = (dr + "  - name: v2\n    labels: {version: v2}\n  trafficPolicy:\n    tls: {mode: DISABLE}\n"
                                "---\n" + vs.replace("subset: v1}", "subset: v2}") + "  - route:\n    - destination: {host: x}\n")
    head["pa.yaml"] = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls: {mode: STRICT}\n"
    return base, head


def test_five_hundred_changes_fit_and_keep_what_matters() -> None:
    base, head = _big_change(250)  # 250 DRs + 250 VSs + 1 PeerAuthentication = 501 changed resources
    report = diff(base, head)
    assert len(report.changes) == 501
    text = markdown.render(report, link_base=LINK)
    check_golden("comments/five-hundred.md", text)
    s = structure(text)
    assert len(text) <= markdown.LIMIT
    assert text.startswith("### ⛔ Not safe to merge as is: 250 errors, 500 warnings in 501 changed Istio resources")
    assert "#### ⛔ Errors introduced by this change (250)" in text
    assert "shortened to fit GitHub's comment limit" in text and "full report is in the job summary" in text
    assert s.open_details == 0 and text.count("```") % 2 == 0
    # Every change carries an error or follows one: the plan says to fix them first and names the first few.
    assert "⛔ **Fix the 250 errors first.**" in text and "and 488 more." in text


@pytest.mark.parametrize("limit", [3_000, 8_000, 20_000])
def test_cutting_closes_everything(limit: int) -> None:
    text = markdown.render(diff(*_big_change(60)), limit=limit)
    s = structure(text)
    assert len(text) <= limit and s.open_details == 0 and text.count("```") % 2 == 0
    assert text.startswith("### ⛔") and text.rstrip().endswith(markdown.MARKER)


def test_user_template_can_override_a_block() -> None:
    template = '{% extends "comment.md.j2" %}{% block plan %}\n\nOur own rollout policy applies.{% endblock %}'
    text = markdown.render(diff(*_big_change(1)), template_text=template)
    assert "Our own rollout policy applies." in text and "🚦 Rollout" not in text and markdown.MARKER in text


def test_warnings_fold_when_errors_lead_or_when_many() -> None:
    def vs(i: int) -> str:  # a rule after a catch-all: one vs-unreachable-rule warning
        return (f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: v{i}\n  namespace: s\n"
                f"spec:\n  hosts: [v{i}]\n  http:\n  - route:\n    - destination: {{host: v{i}}}\n"
                f"  - match: [{{uri: {{prefix: /a}}}}]\n    route:\n    - destination: {{host: v{i}}}\n")

    def text(n: int) -> str:
        return markdown.render(diff({}, {f"f{i}.yaml": vs(i) for i in range(n)}))

    few, many = text(5), text(6)
    assert "#### ⚠️ Warnings introduced by this change (5)" in few and "<details><summary>⚠️" not in few
    assert "#### ⚠️" not in many and "<details><summary>⚠️ 6 warnings introduced by this change</summary>" in many


def _targets_report(warnings_in_c: int, error_in_b: bool) -> Report:
    """Three targets, each in a cluster named for it, each changing one resource: `a` without findings,
    `b` with an error or nothing, `c` with some warnings."""
    def ref(target: str, name: str) -> Ref:
        return Ref("VirtualService", "shop", name, f"{target}/vs.yaml", 1, target, target)

    found = [Finding("vs-unreachable-rule", Severity.WARNING, "a rule after a catch-all", ref("c", f"v{i}"))
             for i in range(warnings_in_c)]
    found += [Finding("subset-missing", Severity.ERROR, "no such subset", ref("b", "r"))] if error_in_b else []
    changes = tuple(ChangedResource("modified", ref(t, "r")) for t in "abc")
    rows = tuple(TargetRow(t, t, "kustomize", f"{t}/kustomization.yaml", True, "reviewed") for t in "abc")
    return Report("diff", "base", "head", 3, changes, tuple(found), (), Plan(()), (), targets=rows)


def test_target_sections_keep_the_folding_rules() -> None:
    """Errors stay open and lead (their cluster's section first, then the worst); a section's warnings
    fold behind one line when an error leads the comment, or when they are more than five."""
    text = markdown.render(_targets_report(2, error_in_b=True))
    order = [text.index(h) for h in ("#### ⛔ cluster b · kustomize: 1 error", "**⛔ Errors introduced by this change (1)**",
                                     "#### ⚠️ cluster c · kustomize: 2 warnings",
                                     "<details><summary>⚠️ 2 warnings introduced by this change</summary>",
                                     "#### ✅ cluster a · kustomize: no findings")]
    assert order == sorted(order)
    assert "**⚠️ Warnings" not in text and structure(text).open_details == 0
    few = markdown.render(_targets_report(5, error_in_b=False))
    assert "**⚠️ Warnings introduced by this change (5)**" in few and "<details><summary>⚠️" not in few
    assert few.index("#### ⚠️ cluster c") < few.index("#### ✅ cluster a") < few.index("#### ✅ cluster b")
    many = markdown.render(_targets_report(6, error_in_b=False))
    assert "**⚠️ Warnings" not in many and "<details><summary>⚠️ 6 warnings introduced by this change</summary>" in many


def test_target_sections_render_with_gfm(renderers: Renderers) -> None:
    case = ROOT / "tests" / "targets" / "overlays"
    text = markdown.render(review_trees(case / "base", case / "head", Config(), renderers, RenderSettings()),
                           link_base=LINK)
    s = structure(text)
    assert s.tags.count("h3") == 1 and s.tags.count("h4") == 2 and s.tags.count("table") == 2
    assert s.open_details == 0 and "<details open>" not in text
    assert s.tags.count("pre") == 2  # dev's command block and its generated document; prod's change is held back
    assert f"{LINK}/overlays/prod/virtualservice.yaml#L1" in s.links


def test_hostile_target_and_cluster_names_cannot_inject() -> None:
    """A report read back in publish mode is untrusted: a target's name, cluster, kind, path and reason
    are escaped wherever they appear, and a cluster's folder of stage documents is a plain name."""
    def ref(name: str) -> Ref:
        return Ref("VirtualService", "shop", "r", "app/vs.yaml", 1, name, name)

    rows, found, stages = [], [], []
    for i, bad in enumerate(HOSTILE[:-1]):
        rows.append(TargetRow(bad, bad, bad, bad, True, "not reviewed" if i % 2 else "reviewed", bad))
        found.append(Finding("subset-missing", Severity.ERROR, "no such subset", ref(bad)))
        step = Step("apply", ref(bad), "kind: VirtualService\n", generated=f"rendered from app/vs.yaml by target {bad}")
        stages.append(Stage("Apply all changes in one step", (step,), None, cluster=bad))
    report = Report("diff", "base", "head", 1, (), tuple(found), (), Plan(tuple(stages)), (), targets=tuple(rows))
    text = markdown.render(report, link_base=LINK)
    out, s = html(text), structure(text)
    assert "<img" not in out and not any(link.startswith("javascript") or "evil.example" in link for link in s.links)
    assert "<!-- hidden" not in out and text.count("<!--") == 1  # only our marker
    assert not re.search(r"@\w", out) and not re.search(r"#\d", out)  # no mentions, no references
    assert s.open_details == 0 and text.count("```") % 2 == 0
    commands = re.findall(r"kubectl apply -f (\S+)", text)
    assert len(commands) == len(stages) and all(re.fullmatch(r"[A-Za-z0-9._-]+/stage-1\.yaml", c) for c in commands)
