"""Discovery of targets from a repository's files (pure)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.discover import Discovery, Options, configured, discover, keep_for_discovery
from bot.targets import Cluster, HelmParameter, Source, SourceKind, Target, Tool
from bot.targets_config import parse_targets
from tests.targets_helpers import tree

FIXTURES = Path(__file__).resolve().parent / "targets"
K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
VS = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"


def run(files: dict[str, str], **options: object) -> Discovery:
    data = {p: t.encode() for p, t in files.items()}
    return discover(data.keys(), data, Options(**options))  # type: ignore[arg-type]


def summary(found: Discovery) -> list[tuple[str, str, str, str | None]]:
    return [(t.name, t.cluster.name, t.kind.value, t.namespace) for t in found.targets]


def by_name(found: Discovery) -> dict[str, Target]:
    return {t.name: t for t in found.targets}


def app(name: str, spec: dict[str, object]) -> str:
    return yaml.safe_dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                           "metadata": {"name": name, "namespace": "argocd"}, "spec": spec})


# --- the fixtures

def test_overlays_are_two_targets_in_two_clusters_and_the_base_is_not_one() -> None:
    files = tree(FIXTURES / "overlays" / "head")
    found = discover(files.keys(), files)
    assert summary(found) == [("overlays/dev", "dev", "kustomize", None), ("overlays/prod", "prod", "kustomize", None)]
    prod = by_name(found)["overlays/prod"]
    assert prod.sources == (Source(Tool.KUSTOMIZE, "overlays/prod"),)
    assert set(prod.inputs) == {"overlays/prod/kustomization.yaml", "overlays/prod/virtualservice.yaml",
                                "overlays/prod/destinationrule.yaml", "base/kustomization.yaml",
                                "base/namespace.yaml", "base/service.yaml"}
    assert prod.reads("base/service.yaml") and not prod.reads("overlays/dev/virtualservice.yaml")


def test_a_chart_with_environment_values_is_one_target_per_environment() -> None:
    files = tree(FIXTURES / "chart" / "head")
    found = discover(files.keys(), files)
    assert summary(found) == [("charts/shop@dev", "dev", "helm", None), ("charts/shop@prod", "prod", "helm", None)]
    prod = by_name(found)["charts/shop@prod"]
    assert prod.sources == (Source(Tool.HELM, "charts/shop", release="shop",
                                   values_files=("charts/shop/values-prod.yaml",)),)
    assert prod.inputs == ("charts/shop/values-prod.yaml", "charts/shop/")


def test_argocd_applications_replace_the_folder_guesses() -> None:
    files = tree(FIXTURES / "argocd" / "head")
    found = discover(files.keys(), files)
    assert summary(found) == [
        ("shop-chart-prod", "https://prod.k8s.example.com", "argocd", "shop"),
        ("shop-dev", "dev", "argocd", "shop"), ("shop-prod", "prod", "argocd", "shop")]
    chart = by_name(found)["shop-chart-prod"]
    assert chart.cluster == Cluster("https://prod.k8s.example.com", "https://prod.k8s.example.com")
    assert chart.sources == (Source(Tool.HELM, "charts/shop", namespace="shop", release="shop",
                                    values_files=("environments/prod/shop-values.yaml",),
                                    parameters=(HelmParameter("reviews.route", "v1"),), include_crds=True),)
    assert chart.inputs == ("apps/shop-chart-prod.yaml", "environments/prod/shop-values.yaml", "charts/shop/")
    prod = by_name(found)["shop-prod"]
    assert prod.sources[0].tool is Tool.KUSTOMIZE and "base/service.yaml" in prod.inputs
    assert prod.defined_in == "apps/shop-prod.yaml" and prod.reads("apps/shop-prod.yaml")


def test_flux_clusters_are_found_from_their_roots() -> None:
    files = tree(FIXTURES / "flux" / "head")
    found = discover(files.keys(), files)
    assert summary(found) == [("flux-system", "dev", "flux-kustomization", None),
                              ("shop", "dev", "flux-kustomization", "shop"),
                              ("flux-system", "prod", "flux-kustomization", None),
                              ("shop", "prod", "flux-kustomization", "shop")]
    shop_prod = next(t for t in found.targets if t.name == "shop" and t.cluster.name == "prod")
    [source] = shop_prod.sources
    assert source.path == "overlays/prod" and source.edits.namespace == "shop"
    assert source.substitutions == (("cluster_env", "prod"),) and not source.generate_kustomization
    root = next(t for t in found.targets if t.name == "flux-system" and t.cluster.name == "prod")
    assert root.sources[0].generate_kustomization and root.reads("clusters/prod/shop.yaml")


def test_examples_are_a_plain_target_of_alternatives_beside_the_repository() -> None:
    files = tree(FIXTURES / "alternatives" / "head")
    found = discover(files.keys(), files)
    assert summary(found) == [("repository", "repository", "plain", None), ("examples", "examples", "plain", None)]
    repository, examples = found.targets
    assert repository.inputs == ("mesh/reviews-dr.yaml", "mesh/reviews-vs.yaml") and not repository.alternatives
    assert examples.alternatives and examples.sources[0].files == (
        "examples/canary/destinationrule.yaml", "examples/canary/step-1.yaml", "examples/canary/step-2.yaml")


# --- rules of discovery

FIXTURE_TREE = {"a.yaml": VS, "shop/b.yml": VS, "tests/c.yaml": VS, "app/testdata/d.yaml": VS,
            "kust/expected.yaml": VS, "kust/expected/out.yaml": VS, "notes.txt": "x"}


def test_plain_repository_is_one_target_read_as_it_is_fixtures_included() -> None:
    found = run(FIXTURE_TREE)
    [target] = found.targets
    assert target.name == "repository" and target.inputs == (
        "a.yaml", "app/testdata/d.yaml", "kust/expected.yaml", "kust/expected/out.yaml", "shop/b.yml", "tests/c.yaml")
    assert found.left_out == ()


def test_fixtures_are_left_out_where_the_repository_has_rendered_targets() -> None:
    found = run({**FIXTURE_TREE, "app/kustomization.yaml": K + "resources: [vs.yaml]\n", "app/vs.yaml": VS})
    assert summary(found) == [("app", "app", "kustomize", None), ("repository", "repository", "plain", None)]
    assert found.targets[1].inputs == ("a.yaml", "shop/b.yml")
    assert dict(found.left_out) == {
        "tests/c.yaml": "test fixture (in a tests/ folder)", "app/testdata/d.yaml": "test fixture (in a testdata/ folder)",
        "kust/expected.yaml": "expected output of a build (golden file)",
        "kust/expected/out.yaml": "expected output of a build (golden file)"}
    again = run({"tests/c.yaml": VS, "app/kustomization.yaml": K}, fixture_folders=())
    assert again.targets[1].inputs == ("tests/c.yaml",) and again.left_out == ()


def test_bases_components_subcharts_and_libraries_are_not_targets() -> None:
    found = run({
        "base/kustomization.yaml": K + "resources: [vs.yaml]\n", "base/vs.yaml": VS,
        "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
        "app/kustomization.yaml": K + "resources: [../base]\ncomponents: [../comp]\n",
        "orphan/kustomization.yaml": K, "orphan/stray.yaml": VS,
        "charts/parent/Chart.yaml": "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n"
                                    "- name: local\n  repository: file://../local\n",
        "charts/parent/charts/vendored/Chart.yaml": "apiVersion: v2\nname: vendored\nversion: 1.0.0\n",
        "charts/local/Chart.yaml": "apiVersion: v2\nname: local\nversion: 1.0.0\n",
        "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n",
        "charts/parent/templates/vs.yaml": VS, "loose.yaml": VS})
    assert summary(found) == [("app", "app", "kustomize", None), ("orphan", "orphan", "kustomize", None),
                              ("charts/parent", "charts/parent", "helm", None),
                              ("repository", "repository", "plain", None)]
    assert by_name(found)["repository"].inputs == ("loose.yaml",)
    assert by_name(found)["charts/parent"].inputs == ("charts/parent/", "charts/local/")
    assert "comp/kustomization.yaml" in by_name(found)["app"].inputs


def test_targets_in_example_folders_are_marked_as_alternatives() -> None:
    found = run({"docs/tutorial/kustomization.yaml": K + "resources: [vs.yaml]\n", "docs/tutorial/vs.yaml": VS,
                 "deploy/kustomization.yaml": K + "resources: [vs.yaml]\n", "deploy/vs.yaml": VS})
    assert {t.name: t.alternatives for t in found.targets} == {"deploy": False, "docs/tutorial": True}


def test_argocd_source_types_options_and_destinations() -> None:
    found = run({
        "apps/dir.yaml": app("dir", {"source": {"repoURL": "https://github.com/Example/Deploy.git", "path": "./plain",
                                                "directory": {"recurse": True, "include": "{a,sub/*}.yaml",
                                                              "exclude": "sub/skip.yaml"}},
                                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"}}),
        "apps/kust.yaml": app("kust", {"source": {"repoURL": "git@github.com:example/deploy", "path": "k",
                                                  "kustomize": {"namespace": "over", "namePrefix": "p-",
                                                                "images": ["nginx=nginx:1.27"],
                                                                "components": ["../missing"],
                                                                "ignoreMissingComponents": True}},
                                       "destination": {"name": "east", "namespace": "dest"}}),
        "apps/other.yaml": app("other", {"source": {"repoURL": "https://github.com/someone/else", "path": "k"},
                                         "destination": {"name": "east"}}),
        "apps/remote-chart.yaml": app("remote-chart", {
            "source": {"repoURL": "https://charts.example.com", "chart": "istio-base", "targetRevision": "1.0.0"},
            "destination": {"name": "east"}}),
        "apps/both.yaml": app("both", {"source": {"repoURL": "https://github.com/example/deploy", "path": "k",
                                                  "plugin": {}, "kustomize": {}},
                                       "destination": {"name": "east", "server": "https://x"}}),
        "plain/a.yaml": VS, "plain/b.yaml": VS, "plain/sub/c.yaml": VS, "plain/sub/skip.yaml": VS,
        "k/kustomization.yaml": K + "resources: [vs.yaml]\n", "k/vs.yaml": VS,
    }, repo_urls=("https://github.com/example/deploy",))
    targets = by_name(found)
    assert targets["dir"].cluster == Cluster("in-cluster", "https://kubernetes.default.svc")
    assert targets["dir"].sources[0].files == ("plain/a.yaml", "plain/sub/c.yaml")
    assert targets["dir"].namespace == "web"
    kust = targets["kust"].sources[0]
    assert kust.edits.namespace == "over" and kust.edits.name_prefix == "p-" and kust.edits.images == ("nginx=nginx:1.27",)
    assert kust.edits.components == ()  # ignoreMissingComponents drops the absent one
    assert targets["other"].sources == () and targets["other"].unresolved == (
        "source https://github.com/someone/else k is not in this repository",)
    assert targets["remote-chart"].unresolved == ("chart istio-base from https://charts.example.com is not fetched",)
    assert targets["both"].unresolved == ("source k: multiple application sources defined: kustomize, plugin",)
    assert targets["both"].notes == ("destination has both name and server; Argo CD refuses it",)
    # files no Application reads stay reviewed, as one plain target
    assert targets["repository"].inputs == ("plain/b.yaml", "plain/sub/skip.yaml")


def test_argocd_helm_value_files_refs_globs_and_inline_values() -> None:
    chart = {"charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
             "charts/web/values.yaml": "a: 1\n", "charts/web/env/b.yaml": "", "charts/web/env/a.yaml": "",
             "values/prod.yaml": ""}
    sources = [{"repoURL": "https://github.com/example/deploy", "path": "charts/web",
                "helm": {"valueFiles": ["env/b.yaml", "env/*.yaml", "$vals/values/prod.yaml", "absent.yaml",
                                        "$nope/x.yaml", "../../../etc/passwd", "https://example.com/v.yaml"],
                         "ignoreMissingValueFiles": True, "values": "ignored: true\n",
                         "valuesObject": {"b": 2}, "releaseName": "web-prod", "skipCrds": True,
                         "parameters": [{"name": "image.tag", "value": "1.0", "forceString": True}]}},
               {"repoURL": "https://github.com/example/deploy.git", "ref": "vals"}]
    found = run({**chart, "apps/web.yaml": app("web", {"sources": sources, "destination": {"name": "prod"}})},
                repo_urls=("https://github.com/example/deploy",))
    [target] = found.targets
    [source] = target.sources
    assert source.values_files == ("charts/web/env/b.yaml", "charts/web/env/a.yaml", "values/prod.yaml")
    assert source.values == ("b: 2\n",) and source.release == "web-prod" and not source.include_crds
    assert source.parameters == (HelmParameter("image.tag", "1.0", True),)
    assert target.namespace is None and source.namespace == ""
    assert target.unresolved == ("value file $nope/x.yaml is not in this repository",
                                 "value file ../../../etc/passwd is outside the repository",
                                 "value file https://example.com/v.yaml is outside the repository")


def test_applicationsets_are_noted_not_expanded() -> None:
    found = run({"sets/web.yaml": yaml.safe_dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
                                                  "metadata": {"name": "web"}, "spec": {}})})
    assert found.notes == ("sets/web.yaml: ApplicationSet web is not expanded; its Applications are not reviewed",)


def flux(kind: str, name: str, spec: dict[str, object], namespace: str = "flux-system") -> str:
    api = {"Kustomization": "kustomize.toolkit.fluxcd.io/v1", "HelmRelease": "helm.toolkit.fluxcd.io/v2",
           "GitRepository": "source.toolkit.fluxcd.io/v1"}[kind]
    return yaml.safe_dump({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace},
                           "spec": spec})


def test_flux_helmreleases_from_chart_paths() -> None:
    ref = {"kind": "GitRepository", "name": "flux-system"}
    long_name = "a-helm-release-whose-name-is-long-enough-to-be-hashed"
    files = {
        "clusters/staging/sync.yaml": flux("Kustomization", "flux-system", {"path": "./clusters/staging",
                                                                            "sourceRef": ref}),
        "clusters/staging/web.yaml": flux("HelmRelease", "web", {
            "targetNamespace": "web", "values": {"route": "v2"},
            "valuesFrom": [{"kind": "ConfigMap", "name": "web-values"}],
            "chart": {"spec": {"chart": "./charts/web", "sourceRef": ref, "valuesFiles": ["./charts/web/values-staging.yaml"]}}}),
        "clusters/staging/long.yaml": flux("HelmRelease", long_name, {
            "chart": {"spec": {"chart": "charts/web", "sourceRef": ref}}}, namespace="team"),
        "clusters/staging/repo.yaml": flux("HelmRelease", "podinfo", {
            "chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}}),
        "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "charts/web/values-staging.yaml": "",
    }
    found = run(files)
    targets = {t.name: t for t in found.targets}
    web = targets["web"]
    assert (web.cluster.name, web.kind, web.namespace) == ("staging", SourceKind.FLUX_HELMRELEASE, "web")
    assert web.sources == (Source(Tool.HELM, "charts/web", namespace="web", release="web-web",
                                  values_files=("charts/web/values-staging.yaml",), chart_values=False,
                                  values=("route: v2\n",), include_crds=True),)
    assert web.unresolved == ("valuesFrom ConfigMap/web-values is not read offline",)
    hashed = targets[long_name].sources[0].release
    assert len(hashed) == 53 and hashed.startswith(long_name[:40] + "-")
    assert targets[long_name].namespace == "team"
    assert "podinfo" not in targets and any("HelmRelease podinfo" in n for n in found.notes)


def test_flux_kustomization_reached_from_two_clusters_is_a_target_in_each() -> None:
    ref = {"kind": "GitRepository", "name": "flux-system"}
    files = {f"clusters/{c}/sync.yaml": flux("Kustomization", "flux-system", {"path": f"./clusters/{c}",
                                                                             "sourceRef": ref})
             for c in ("east", "west")}
    files["clusters/east/kustomization.yaml"] = K + "resources: [sync.yaml, ../../infra/mesh.yaml]\n"
    files["clusters/west/kustomization.yaml"] = K + "resources: [sync.yaml, ../../infra/mesh.yaml]\n"
    files["infra/mesh.yaml"] = flux("Kustomization", "mesh", {
        "path": "./mesh", "sourceRef": ref, "postBuild": {"substituteFrom": [{"kind": "Secret", "name": "vars"}]}})
    files["mesh/vs.yaml"] = VS
    found = run(files)
    files["clusters/east/remote.yaml"] = flux("Kustomization", "edge", {
        "path": "./mesh", "sourceRef": ref, "kubeConfig": {"secretRef": {"name": "edge-kubeconfig"}}})
    files["clusters/east/kustomization.yaml"] = K + "resources: [sync.yaml, remote.yaml, ../../infra/mesh.yaml]\n"
    edge = next(t for t in run(files).targets if t.name == "edge")
    assert edge.cluster == Cluster("kubeconfig Secret flux-system/edge-kubeconfig")
    del files["clusters/east/remote.yaml"]
    files["clusters/east/kustomization.yaml"] = K + "resources: [sync.yaml, ../../infra/mesh.yaml]\n"
    mesh = [t for t in found.targets if t.sources[0].path == "mesh"]
    assert sorted((t.name, t.cluster.name) for t in mesh) == [("mesh@east", "east"), ("mesh@west", "west")]
    assert mesh[0].sources[0].generate_kustomization and mesh[0].inputs == ("infra/mesh.yaml", "mesh/vs.yaml")
    assert mesh[0].unresolved == ("postBuild.substituteFrom Secret/vars is not read offline",)


def test_what_discovery_reads() -> None:
    assert keep_for_discovery("a/kustomization.yaml", b"") and keep_for_discovery("c/Chart.yaml", b"")
    assert keep_for_discovery("apps/x.yaml", b"apiVersion: argoproj.io/v1alpha1")
    assert keep_for_discovery("x.yml", b"apiVersion: kustomize.toolkit.fluxcd.io/v1")
    assert not keep_for_discovery("x.yaml", VS.encode()) and not keep_for_discovery("x.json", b"argoproj.io")


def test_configured_targets_replace_discovery() -> None:
    specs = parse_targets([
        {"name": "prod", "cluster": "prod", "source": {"kustomize": "overlays/prod"}, "namespace": "shop"},
        {"name": "chart", "source": {"helm": "charts/shop"}, "values": ["charts/shop/values-prod.yaml"]},
        {"name": "mesh", "source": {"plain": ["overlays/dev/*.yaml"]}}], ".istio-pr-bot.yaml")
    files = tree(FIXTURES / "overlays" / "head") | tree(FIXTURES / "chart" / "head")
    found = configured(specs, files.keys(), files)
    assert [(t.name, t.cluster.name, t.kind.value, t.namespace) for t in found.targets] == [
        ("prod", "prod", "kustomize", "shop"), ("chart", "chart", "helm", None), ("mesh", "mesh", "plain", None)]
    assert found.targets[1].sources[0].values_files == ("charts/shop/values-prod.yaml",)
    assert found.targets[1].sources[0].release == "chart"
    assert found.targets[2].inputs == ("overlays/dev/destinationrule.yaml", "overlays/dev/kustomization.yaml",
                                       "overlays/dev/virtualservice.yaml")
    assert found.targets[0].defined_in == "overlays/prod/kustomization.yaml"


def test_files_no_configured_target_reads_are_the_repository_target() -> None:
    specs = parse_targets([{"name": "prod", "source": {"kustomize": "overlays/prod"}},
                           {"name": "repository", "cluster": "repository", "source": {"plain": ["a.yaml"]}}], "c")
    files = {**tree(FIXTURES / "overlays" / "head"), "a.yaml": VS.encode(), "mesh/extra.yaml": VS.encode(),
             "tests/fixture.yaml": VS.encode()}
    found = configured(specs, files.keys(), files)
    assert [(t.name, t.cluster.name, t.inputs) for t in found.targets[1:]] == [
        ("repository", "repository", ("a.yaml",)),
        ("repository (not configured)", "repository", ("mesh/extra.yaml",))]
    assert found.left_out == (("tests/fixture.yaml", "test fixture (in a tests/ folder)"),)


def test_a_chart_at_the_repository_root_reads_everything() -> None:
    found = run({"Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n", "templates/vs.yaml": VS,
                 "values.yaml": "", "ci/lint.yaml": VS})
    [target] = found.targets
    assert (target.name, target.root, target.inputs) == (".", "", ("",))
    assert target.reads("templates/vs.yaml") and target.reads("ci/lint.yaml")
