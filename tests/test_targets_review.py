"""Reviews by deploy target end to end, with the pinned helm and kustomize: the fixture pull requests in
git mode (golden `report.txt` per fixture; UPDATE_GOLDEN=1 rewrites them, then review them), bare
clones, what is rendered and what is not, failures, and the targets command."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.buildtools import Renderers
from bot.cli import main
from bot.config import Config
from bot.plan import commands, stage_files
from bot.render import markdown
from bot.report_json import load_report
from bot.targets import RenderSettings
from tests.helpers import review_trees
from tests.targets_helpers import pull_request, run_git

FIXTURES = Path(__file__).resolve().parent / "targets"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
DR = ("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n  namespace: shop\n"
      "spec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n")
VS = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: shop\n"
      "spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {{host: reviews, subset: {subset}}}\n")
K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, out


def review(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> dict[str, Any]:
    _, out = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json", *extra)
    data: dict[str, Any] = json.loads(out)
    return data


def found(data: dict[str, Any]) -> list[tuple[str, str, str, str, str, bool]]:
    """(rule, severity, file:line, target, cluster, introduced) of every finding."""
    return sorted((f["rule"], f["severity"], f"{f['resource']['file']}:{f['line']}", f["target"], f["cluster"],
                   f["introduced"]) for f in data["findings"])


def targets(data: dict[str, Any]) -> dict[tuple[str, str], tuple[str, int]]:
    """(name, cluster) -> (status, renders)."""
    return {(t["name"], t["cluster"]): (t["status"], t["renders"]) for t in data["targets"]}


def make_repo(tmp_path: Path, base: dict[str, str], head: dict[str, str]) -> Path:
    case = tmp_path / "case"
    for side, files in (("base", base), ("head", head)):
        for name, text in files.items():
            path = case / side / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (case / side).mkdir(parents=True, exist_ok=True)
    return pull_request(case, tmp_path / "repo")


@pytest.mark.parametrize("case", CASES)
def test_fixture_pull_request_report(case: str, tools_on_path: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    repo = pull_request(FIXTURES / case, tmp_path / "repo")
    _, got = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr")
    golden = FIXTURES / case / "report.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(got)
    assert got == golden.read_text()


def test_overlays_prod_route_to_a_subset_its_rule_lacks_and_no_duplicates(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = review(capsys, pull_request(FIXTURES / "overlays", tmp_path / "repo"))
    assert found(data) == [("subset-missing", "error", "overlays/prod/virtualservice.yaml:1", "overlays/prod", "prod",
                            True)]
    assert data["version"] == 2
    assert {(c["target"], c["cluster"]) for c in data["changes"]} == {("overlays/dev", "dev"), ("overlays/prod", "prod")}
    assert targets(data) == {("overlays/dev", "dev"): ("reviewed", 2), ("overlays/prod", "prod"): ("reviewed", 2)}


def test_chart_changes_point_at_the_template_and_stage_per_cluster(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = review(capsys, pull_request(FIXTURES / "chart", tmp_path / "repo"))
    assert found(data) == [("subset-add-order", "warning", "charts/shop/templates/virtualservice.yaml:2",
                            "charts/shop@prod", "prod", True)]
    stages = [(s["cluster"], [(a["kind"], a["file"], a["target"]) for a in s["apply"]]) for s in data["plan"]["stages"]]
    assert stages == [("prod", [("DestinationRule", "charts/shop/templates/destinationrule.yaml", "charts/shop@prod")]),
                      ("prod", [("VirtualService", "charts/shop/templates/virtualservice.yaml", "charts/shop@prod")])]


def test_argocd_renders_only_touched_clusters(tools_on_path: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = review(capsys, pull_request(FIXTURES / "argocd", tmp_path / "repo"))
    assert [(f[0], f[2], f[3]) for f in found(data)] == [
        ("subset-missing", "charts/shop/templates/virtualservice.yaml:2", "shop-chart-prod"),
        ("subset-missing", "overlays/prod/virtualservice.yaml:1", "shop-prod")]
    assert targets(data)[("shop-dev", "dev")] == ("unchanged", 0)


def test_an_untouched_target_of_a_touched_cluster_is_rendered_once(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = review(capsys, pull_request(FIXTURES / "flux", tmp_path / "repo"))
    assert targets(data) == {("flux-system", "dev"): ("unchanged", 0), ("shop", "dev"): ("unchanged", 0),
                             ("flux-system", "prod"): ("reviewed", 1), ("shop", "prod"): ("reviewed", 2)}
    assert [(f[0], f[3], f[4]) for f in found(data)] == [("subset-missing", "shop", "prod")]


def test_alternatives_are_paired_by_file_and_old_duplicates_are_not_new(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = review(capsys, pull_request(FIXTURES / "alternatives", tmp_path / "repo"))
    assert found(data) == [
        ("duplicate-resource", "error", "examples/canary/step-2.yaml:1", "examples", "examples", False),
        ("subset-missing", "error", "examples/canary/step-2.yaml:12", "examples", "examples", True)]


def test_json_report_reads_back_with_targets_and_clusters(tools_on_path: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = review(capsys, pull_request(FIXTURES / "chart", tmp_path / "repo"))
    report = load_report(data)
    assert [(f.resource.target, f.resource.cluster) for f in report.findings] == [("charts/shop@prod", "prod")]
    assert {s.cluster for s in report.plan.stages} == {"prod"}
    assert [(t.name, t.status) for t in report.targets] == [("charts/shop@dev", "reviewed"),
                                                           ("charts/shop@prod", "reviewed")]
    assert markdown.render(report).startswith("### ⚠️ Review before merging: 1 warning in 2 changed Istio resources; "
                                               "2 changed targets in 2 clusters")


def test_bare_clone_gives_the_same_report_and_nothing_is_left_behind(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pull_request(FIXTURES / "argocd", tmp_path / "repo")
    (repo / "overlays" / "prod" / "virtualservice.yaml").write_text("not: committed\n")
    status = run_git(repo, "status", "--porcelain")
    bare = tmp_path / "bare.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert review(capsys, bare) == review(capsys, repo)
    assert list(scratch.iterdir()) == []  # every export removed
    assert run_git(repo, "status", "--porcelain") == status
    assert (repo / "overlays" / "prod" / "virtualservice.yaml").read_text() == "not: committed\n"


def test_missing_renderers_leave_targets_not_reviewed_and_say_so(tmp_path: Path) -> None:
    case = FIXTURES / "overlays"
    report = review_trees(case / "base", case / "head", Config(), Renderers(), RenderSettings())
    assert [(t.name, t.status, t.reason.split(":")[0]) for t in report.targets] == [
        ("overlays/dev", "not reviewed", "kustomize is not installed"),
        ("overlays/prod", "not reviewed", "kustomize is not installed")]
    assert report.changes == () and report.findings == ()
    text = markdown.render(report)
    assert text.startswith("### ⏭️ Not fully reviewed: No rollout risks in 0 changed Istio resources; "
                           "2 changed targets in 2 clusters, 2 not reviewed")
    assert "2 targets not reviewed" in text and "kubectl.docs.kubernetes.io/installation/kustomize" in text


def test_head_that_fails_to_render_keeps_the_base_and_is_an_error(renderers: Renderers, tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(FIXTURES / "overlays", case)
    (case / "head" / "overlays" / "prod" / "destinationrule.yaml").unlink()  # named by its kustomization
    report = review_trees(case / "base", case / "head", Config(), renderers, RenderSettings())
    assert [(f.rule, f.severity.value, f.resource.file, f.resource.cluster) for f in report.findings] == [
        ("render-error", "error", "overlays/prod/kustomization.yaml", "prod")]
    assert report.findings[0].message.startswith("does not render: ")
    assert [(c.change, c.resource.cluster) for c in report.changes] == [("modified", "dev")]  # nothing removed
    assert [t.status for t in report.targets] == ["reviewed", "render error"]


def test_base_that_failed_to_render_is_a_notice(renderers: Renderers, tmp_path: Path) -> None:
    base = tmp_path / "base"
    head = tmp_path / "head"
    for side, resources in ((base, "[dr.yaml, vs.yaml, missing.yaml]"), (head, "[dr.yaml, vs.yaml]")):
        (side / "app").mkdir(parents=True)
        (side / "app" / "kustomization.yaml").write_text(K + f"resources: {resources}\n")
        (side / "app" / "dr.yaml").write_text(DR)
        (side / "app" / "vs.yaml").write_text(VS.format(subset="v1"))
    report = review_trees(base, head, Config(), renderers, RenderSettings())
    # compared with nothing: both resources are new, so the usual ordering advice applies
    assert [(f.rule, f.severity.value, f.introduced, f.resource.file) for f in report.findings] == [
        ("subset-add-order", "warning", True, "app/vs.yaml"), ("render-error", "notice", True, "app/kustomization.yaml")]
    assert {c.change for c in report.changes} == {"added"}


def test_flux_variables_from_a_configmap_leave_the_target_not_reviewed(renderers: Renderers, tmp_path: Path) -> None:
    flux = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: shop, namespace: "
            "flux-system}\nspec:\n  path: ./shop\n  sourceRef: {kind: GitRepository, name: flux-system}\n"
            "  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: cluster-vars}]\n")
    for side, subset in (("base", "v1"), ("head", "${subset}")):
        (tmp_path / side / "clusters" / "prod").mkdir(parents=True)
        (tmp_path / side / "shop").mkdir()
        (tmp_path / side / "clusters" / "prod" / "shop.yaml").write_text(flux)
        (tmp_path / side / "shop" / "vs.yaml").write_text(VS.replace("{{host: reviews, subset: {subset}}}",
                                                                    "\n        host: reviews\n        subset: " + subset))
    report = review_trees(tmp_path / "base", tmp_path / "head", Config(), renderers, RenderSettings())
    [row] = report.not_reviewed()
    assert (row.name, row.cluster) == ("shop", "prod") and "ConfigMap/cluster-vars" in row.reason
    assert report.findings == ()


def test_render_settings_come_from_the_base_revision(tools_on_path: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    remote = K + "resources:\n- vs.yaml\n- https://github.com/example/mesh//base?ref=v1\n"
    repo = make_repo(tmp_path, {"app/kustomization.yaml": K + "resources: [vs.yaml]\n",
                                "app/vs.yaml": VS.format(subset="v1")},
                     {"app/kustomization.yaml": remote, "app/vs.yaml": VS.format(subset="v2"),
                      ".istio-pr-bot.yaml": "render:\n  allow-remote: true\n"})
    data = review(capsys, repo)
    row = next(t for t in data["targets"] if t["name"] == "app")
    assert (row["status"], row["renders"]) == ("not reviewed", 1)
    assert row["reason"].startswith("remote base https://github.com/example/mesh//base?ref=v1 is not fetched")
    assert data["summary"]["not_reviewed"] == 1


def test_plain_copies_are_paired_by_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A repository without targets is one plain tree; a change to the second copy of a resource is
    no longer hidden behind the first."""
    repo = make_repo(tmp_path, {"a.yaml": DR + "---\n" + VS.format(subset="v1"), "b.yaml": VS.format(subset="v1")},
                     {"a.yaml": DR + "---\n" + VS.format(subset="v1"), "b.yaml": VS.format(subset="v9")})
    data = review(capsys, repo)
    assert found(data) == [("duplicate-resource", "error", "b.yaml:1", None, None, False),  # type: ignore[comparison-overlap]
                           ("subset-missing", "error", "b.yaml:10", None, None, True)]
    assert data["targets"] == [] and [c["file"] for c in data["changes"]] == ["b.yaml"]


def test_fixtures_are_read_in_a_plain_repository_and_left_out_beside_targets(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = make_repo(tmp_path / "plain", {"tests/vs.yaml": VS.format(subset="v1")},
                      {"tests/vs.yaml": VS.format(subset="v2")})
    assert [c["file"] for c in review(capsys, plain)["changes"]] == ["tests/vs.yaml"]
    app = {"app/kustomization.yaml": K + "resources: [dr.yaml]\n", "app/dr.yaml": DR}
    mixed = make_repo(tmp_path / "mixed", {**app, "tests/vs.yaml": VS.format(subset="v1")},
                      {**app, "tests/vs.yaml": VS.format(subset="v2")})
    data = review(capsys, mixed)
    assert data["changes"] == [] and data["findings"] == []
    assert data["skipped"] == [{"file": "tests/vs.yaml", "reason": "test fixture (in a tests/ folder): left out of "
                                "the review (config discovery.fixtures)"}]


def test_targets_command_lists_sources_inputs_and_clusters(tools_on_path: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo = pull_request(FIXTURES / "argocd", tmp_path / "repo")
    _, text = run(capsys, "targets", "--repo", str(repo), "--ref", "pr")
    assert text.splitlines()[0].endswith(": 3 targets in 3 clusters")
    assert "  shop-prod (argocd), defined in apps/shop-prod.yaml" in text
    assert "    source: kustomize build overlays/prod" in text
    _, out = run(capsys, "targets", "--repo", str(repo), "--format", "json")
    data = json.loads(out)
    assert sorted((t["name"], t["cluster"]) for t in data["targets"]) == [
        ("shop-chart-prod", "https://prod.k8s.example.com"), ("shop-dev", "dev"), ("shop-prod", "prod")]
    assert any(r.startswith("kustomize v5.8.2") for r in data["renderers"])


def test_targets_command_on_a_plain_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"vs.yaml": VS.format(subset="v1")}, {"vs.yaml": VS.format(subset="v1")})
    _, text = run(capsys, "targets", "--repo", str(repo))
    assert "a plain repository, read as one tree (1 YAML file)" in text


def test_a_pull_request_touching_one_of_sixty_targets_renders_only_that_one(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark's repository: 50 kustomizations on a shared base and 10 charts."""
    from tests.helpers import load_script

    load_script("../benchmarks/generate").generate_targets(tmp_path / "repo")
    data = review(capsys, tmp_path / "repo")
    read = {name: renders for (name, _), (status, renders) in targets(data).items() if status != "unchanged"}
    assert read == {"apps/app-07": 2} and len(data["targets"]) == 60
    assert [(f[0], f[3]) for f in found(data)] == [("subset-add-order", "apps/app-07")]


def test_the_remote_names_this_repository_for_argocd_and_flux(tools_on_path: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """With a remote, an Application is reviewed only when its repoURL is that remote (any spelling);
    another repository's Application with the same paths is not read from this one."""
    repo = pull_request(FIXTURES / "argocd", tmp_path / "repo")
    run_git(repo, "remote", "add", "origin", "git@github.com:Example/shop-deploy.git")
    assert targets(review(capsys, repo))[("shop-prod", "prod")] == ("reviewed", 2)
    run_git(repo, "remote", "set-url", "origin", "https://github.com/example/other-repo")
    data = review(capsys, repo)  # the overlay is built from another repository: this change is not in it
    assert targets(data)[("shop-prod", "prod")] == ("unchanged", 0) and data["findings"] == []
    assert {"file": "overlays/prod/virtualservice.yaml", "reason": "not read by any deploy target "
            "(istio-pr-bot targets lists them)"} in data["skipped"]
    run_git(repo, "remote", "set-url", "origin", str(tmp_path / "a-local-path"))  # not a URL of it: paths decide
    assert targets(review(capsys, repo))[("shop-prod", "prod")] == ("reviewed", 2)


def test_values_that_are_not_in_the_repository_leave_the_target_not_reviewed(renderers: Renderers,
                                                                              tmp_path: Path) -> None:
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: shop, namespace: shop}\n"
               "spec:\n  chart:\n    spec:\n      chart: ./charts/shop\n      sourceRef: {kind: GitRepository, "
               "name: flux-system, namespace: flux-system}\n  valuesFrom: [{kind: Secret, name: shop-values}]\n")
    for side in ("base", "head"):
        shutil.copytree(FIXTURES / "chart" / side / "charts", tmp_path / side / "charts")
        (tmp_path / side / "clusters" / "prod").mkdir(parents=True)
        (tmp_path / side / "clusters" / "prod" / "shop.yaml").write_text(release)
    report = review_trees(tmp_path / "base", tmp_path / "head", Config(), renderers, RenderSettings())
    assert [(t.name, t.status, t.reason) for t in report.targets] == [
        ("shop", "not reviewed", "valuesFrom Secret/shop-values is not read offline")]


MIXED = ("targets:\n- {name: mesh, cluster: prod, source: {plain: ['mesh/*.yaml']}}\n"
         "- {name: app, cluster: prod, source: {kustomize: app}}\n")


def mixed_cluster(tmp_path: Path, head_config: str = MIXED) -> Path:
    """One cluster of two configured targets: plain files (the DestinationRule, which gains subset v2)
    and a kustomization (the VirtualService, which starts routing to v2)."""
    two = DR + "  - name: v2\n    labels: {version: v2}\n"
    app = {"app/kustomization.yaml": K + "resources: [vs.yaml]\n"}
    return make_repo(tmp_path, {".istio-pr-bot.yaml": MIXED, "mesh/dr.yaml": DR, **app,
                                "app/vs.yaml": VS.format(subset="v1")},
                     {".istio-pr-bot.yaml": head_config, "mesh/dr.yaml": two, **app,
                      "app/vs.yaml": VS.format(subset="v2")})


def test_the_plan_applies_plain_files_as_they_are_and_rendered_output_as_rendered(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A kustomization's file is an input, not what the cluster gets: its resource is applied from the
    stage document, as rendered; the plain target's file is applied as it is."""
    repo = mixed_cluster(tmp_path)
    data = review(capsys, repo, "--plan-dir", str(tmp_path / "plan"))
    assert [(f[0], f[3]) for f in found(data)] == [("subset-add-order", "app")]
    report = load_report(data)
    assert [commands(s, i) for i, s in enumerate(report.plan.stages, start=1)] == [
        ["kubectl apply -f mesh/dr.yaml"], ["kubectl apply -f prod/stage-2.yaml"]]
    (step,) = report.plan.stages[1].steps
    assert step.generated == "rendered from app/vs.yaml by target app"
    written = {p.relative_to(tmp_path / "plan").as_posix(): p.read_text() for p in (tmp_path / "plan").rglob("*.yaml")}
    assert list(written) == ["prod/stage-2.yaml"] and written == stage_files(report.plan)
    (vs,) = yaml.safe_load_all(written["prod/stage-2.yaml"])
    assert (vs["kind"], vs["metadata"]["namespace"], vs["spec"]["http"][0]["route"][0]["destination"]["subset"]) == (
        "VirtualService", "shop", "v2")
    text = markdown.render(report)
    assert "kubectl apply -f app/" not in text and "kubectl apply -f mesh/dr.yaml" in text
    assert "`prod/stage-2.yaml`: VirtualService shop/reviews as rendered from app/vs.yaml by target app" in text


def test_chart_stages_are_rendered_documents_in_the_cluster_folder(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = load_report(review(capsys, pull_request(FIXTURES / "chart", tmp_path / "repo")))
    assert [commands(s, i) for i, s in enumerate(report.plan.stages, start=1)] == [
        ["kubectl apply -f prod/stage-1.yaml"], ["kubectl apply -f prod/stage-2.yaml"]]
    assert all(s.files == () for s in report.plan.stages)
    files = stage_files(report.plan)
    (dr,) = yaml.safe_load_all(files["prod/stage-1.yaml"])
    assert (dr["metadata"]["namespace"], [s["name"] for s in dr["spec"]["subsets"]]) == ("default", ["v1", "v2", "v3"])


def test_settings_from_the_base_include_its_targets(tools_on_path: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A pull request that drops a target from `targets:` is still reviewed with the base's list, and
    the comment says what the new list would hide."""
    repo = mixed_cluster(tmp_path, "targets:\n- {name: mesh, cluster: prod, source: {plain: ['mesh/*.yaml']}}\n")
    data = review(capsys, repo)
    assert [(f[0], f[3]) for f in found(data)] == [("subset-add-order", "app")]
    change = data["config_change"]
    assert change["used"] == "base" and change["changes"] == [
        {"key": "targets", "before": "[mesh, app]", "after": "[mesh]"}]
    assert [(h["rule"], h["target"], h["why"]) for h in change["hidden"]] == [
        ("subset-add-order", "app", "no longer reported under the new settings")]
    _, text = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "markdown")
    assert text.index("#### 🔧 This pull request changes its own review settings") < text.index("#### ⚠️ app · cluster prod")
    assert "- **targets**: \\[mesh, app\\] → \\[mesh\\]" in text


def test_render_settings_come_from_the_base_whichever_side_the_rest_does(
        tools_on_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remote = K + "resources:\n- vs.yaml\n- https://github.com/example/mesh//base?ref=v1\n"
    repo = make_repo(tmp_path, {"app/kustomization.yaml": K + "resources: [vs.yaml]\n",
                                "app/vs.yaml": VS.format(subset="v1"), ".istio-pr-bot.yaml": "fail-on: warning\n"},
                     {"app/kustomization.yaml": remote, "app/vs.yaml": VS.format(subset="v2"),
                      ".istio-pr-bot.yaml": "fail-on: warning\nrender:\n  allow-remote: true\n"})
    data = review(capsys, repo, "--config-from", "head")
    row = next(t for t in data["targets"] if t["name"] == "app")
    assert row["status"] == "not reviewed" and row["reason"].startswith("remote base https://github.com/example/mesh")
    assert data["config_change"]["changes"] == [
        {"key": "render.allow-remote", "before": "false", "after": "true (used once merged: a pull request is "
         "rendered with the base branch's render settings)"}]


def test_a_published_report_renders_the_same_comment(tools_on_path: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Publish mode posts the comment from the JSON report: sections, plans and stage documents survive it."""
    repo = mixed_cluster(tmp_path)
    _, text = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "markdown")
    assert markdown.render(load_report(review(capsys, repo))) == text
