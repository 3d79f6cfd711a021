"""Rendering with the real helm and kustomize: output, safety limits, errors as values."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot import buildtools, rendered
from bot.buildtools import Renderer, Renderers, render
from bot.targets import HelmParameter, KustomizeEdits, Source, Tool
from tests.targets_helpers import tree

FIXTURES = Path(__file__).resolve().parent / "targets"

KUSTOMIZATION = b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
VS = b"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
"""


def objects(output: str) -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all(output) if d]


def names(output: str) -> list[str]:
    return sorted(f"{d['kind']} {d['metadata'].get('namespace', '-')}/{d['metadata']['name']}"  # type: ignore[index,union-attr]
                  for d in objects(output))


def running(pid: str) -> bool:
    try:
        return "State:\tZ" not in (Path("/proc") / pid / "status").read_text()
    except FileNotFoundError:
        return False


def fake_tool(tmp_path: Path, script: str, tool: Tool = Tool.KUSTOMIZE) -> Renderers:
    """A stand-in renderer: a shell script (absolute interpreter path, as PATH is empty)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "fake-tool"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    renderer = Renderer(tool, (str(path),), "test")
    return Renderers(helm=renderer, kustomize=renderer)


# --- kustomize

def test_overlay_builds_with_its_base_and_traces_each_object_to_its_file(kustomize: Renderers) -> None:
    files = tree(FIXTURES / "overlays" / "head")
    result = render(Source(Tool.KUSTOMIZE, "overlays/prod"), files, kustomize)
    assert result.ok and result.origin_added
    assert names(result.output) == ["DestinationRule shop/reviews", "Namespace -/shop", "Service shop/reviews",
                                    "VirtualService shop/reviews"]
    docs = rendered.from_kustomize(result.output, "overlays/prod", files, result.origin_added)
    assert sorted((d.source, d.line) for d in docs) == [
        ("base/namespace.yaml", 1), ("base/service.yaml", 1),
        ("overlays/prod/destinationrule.yaml", 1), ("overlays/prod/virtualservice.yaml", 1)]
    assert all(rendered.ORIGIN_ANNOTATION not in d.text for d in docs)
    vs = next(d for d in objects(result.output) if d["kind"] == "VirtualService")
    assert vs["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v1"  # type: ignore[index]


def test_the_users_build_metadata_is_kept_and_their_own_origin_annotations_stay(kustomize: Renderers) -> None:
    files = {"app/kustomization.yaml": KUSTOMIZATION + b"buildMetadata: [managedByLabel]\nresources: [vs.yaml]\n",
             "app/vs.yaml": VS}
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.ok and result.origin_added
    [vs] = objects(result.output)
    assert "app.kubernetes.io/managed-by" in vs["metadata"]["labels"]  # type: ignore[index,operator]
    files["app/kustomization.yaml"] = KUSTOMIZATION + b"buildMetadata: [originAnnotations]\nresources: [vs.yaml]\n"
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.ok and not result.origin_added
    [doc] = rendered.from_kustomize(result.output, "app", files, result.origin_added)
    assert doc.source == "app/vs.yaml" and rendered.ORIGIN_ANNOTATION in doc.text


def test_controller_edits_apply_to_the_export_only(kustomize: Renderers) -> None:
    original = KUSTOMIZATION + b"# the team's comment\nresources: [vs.yaml]\n"
    files = {"app/kustomization.yaml": original, "app/vs.yaml": VS,
             "app/labels/kustomization.yaml": b"apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                              b"commonLabels: {team: shop}\n"}
    edits = KustomizeEdits(namespace="shop-prod", name_prefix="prod-", components=("labels",),
                           patches=(json.dumps({"target": {"kind": "VirtualService"},
                                                "patch": '[{"op": "replace", "path": "/spec/hosts/0", '
                                                         '"value": "reviews.shop-prod.svc.cluster.local"}]'}),),
                           annotations=(("owner", "shop"),))
    result = render(Source(Tool.KUSTOMIZE, "app", edits=edits), files, kustomize)
    assert result.ok, result.error
    [vs] = objects(result.output)
    assert vs["metadata"]["name"] == "prod-reviews" and vs["metadata"]["namespace"] == "shop-prod"  # type: ignore[index]
    assert vs["metadata"]["labels"] == {"team": "shop"}  # type: ignore[index]
    assert vs["metadata"]["annotations"]["owner"] == "shop"  # type: ignore[index]
    assert vs["spec"]["hosts"] == ["reviews.shop-prod.svc.cluster.local"]  # type: ignore[index]
    assert files["app/kustomization.yaml"] == original


def test_a_folder_without_kustomization_is_built_as_flux_generates_it(kustomize: Renderers) -> None:
    files = {"apps/vs.yaml": VS, "apps/nested/more.yaml": VS.replace(b"name: reviews", b"name: ratings"),
             "apps/unit/kustomization.yaml": KUSTOMIZATION + b"namePrefix: unit-\nresources: [vs.yaml]\n",
             "apps/unit/vs.yaml": VS, "apps/unit/ignored.yaml": VS.replace(b"name: reviews", b"name: not-listed"),
             "apps/README.md": b"# not YAML\n"}
    source = Source(Tool.KUSTOMIZE, "apps", generate_kustomization=True, edits=KustomizeEdits(namespace="shop"))
    result = render(source, files, kustomize)
    assert result.ok, result.error
    assert names(result.output) == ["VirtualService shop/ratings", "VirtualService shop/reviews",
                                    "VirtualService shop/unit-reviews"]
    sources = {d.source for d in rendered.from_kustomize(result.output, "apps", files, result.origin_added)}
    assert sources == {"apps/vs.yaml", "apps/nested/more.yaml", "apps/unit/vs.yaml"}


def test_remote_bases_are_not_fetched(kustomize: Renderers) -> None:
    files = {"app/kustomization.yaml": KUSTOMIZATION + b"resources:\n- vs.yaml\n"
                                                       b"- https://github.com/example/base//istio?ref=v1\n",
             "app/vs.yaml": VS}
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.skipped is not None and "https://github.com/example/base//istio?ref=v1" in result.skipped
    assert result.output == "" and result.error is None


def test_plugins_and_helm_inflation_never_run(kustomize: Renderers, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    files = {"app/kustomization.yaml": KUSTOMIZATION + b"generators: [gen.yaml]\n",
             "app/gen.yaml": f"apiVersion: example.com/v1\nkind: Exec\nmetadata:\n  name: x\n  annotations:\n"
                             f"    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n"
                             f"argsOneLiner: -c 'touch {marker}'\n".encode()}
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.error is not None and not marker.exists()
    files = {"app/kustomization.yaml": KUSTOMIZATION + b"helmCharts:\n- name: shop\n  repo: https://example.com\n"}
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.error is not None and result.output == ""


def test_files_outside_the_kustomization_root_are_refused(kustomize: Renderers) -> None:
    files = {"app/kustomization.yaml": KUSTOMIZATION + b"resources: [../shared/vs.yaml]\n", "shared/vs.yaml": VS}
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.error is not None and "shared/vs.yaml" in result.error


def test_entries_that_leave_the_repository_are_never_built(kustomize: Renderers) -> None:
    """A folder past the repository's root would be read from the machine the render runs on."""
    files = {"app/kustomization.yaml": KUSTOMIZATION + b"resources: [vs.yaml, ../../../../../../etc/istio]\n",
             "app/vs.yaml": VS}
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.skipped == "app/kustomization.yaml: ../../../../../../etc/istio leaves the repository; not rendered"
    assert result.output == "" and result.seconds == 0


def test_errors_are_the_first_lines_with_repository_paths(kustomize: Renderers) -> None:
    files = {"app/kustomization.yaml": KUSTOMIZATION + b"resources: [missing.yaml]\n"}
    result = render(Source(Tool.KUSTOMIZE, "app"), files, kustomize)
    assert result.error is not None and result.output == ""
    assert "missing.yaml" in result.error and "istio-pr-bot-render" not in result.error
    assert len(result.error.splitlines()) <= buildtools.ERROR_LINES


def test_kubectl_kustomize_stands_in_for_kustomize(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    (tmp_path / "kubectl").symlink_to(kubectl)
    found = buildtools.find_renderers(str(tmp_path))
    assert found.helm is None and found.kustomize is not None
    assert found.kustomize.argv == (str(tmp_path / "kubectl"), "kustomize")
    result = render(Source(Tool.KUSTOMIZE, "overlays/dev"), tree(FIXTURES / "overlays" / "head"), found)
    assert result.ok, result.error
    assert "VirtualService shop/reviews" in names(result.output)


# --- helm

def test_chart_renders_with_environment_values_and_release_namespace(helm: Renderers) -> None:
    files = tree(FIXTURES / "chart" / "head")
    source = Source(Tool.HELM, "charts/shop", release="shop", values_files=("charts/shop/values-prod.yaml",))
    result = render(source, files, helm, namespace="shop")
    assert result.ok, result.error
    by_kind = {d["kind"]: d for d in objects(result.output)}
    assert [s["name"] for s in by_kind["DestinationRule"]["spec"]["subsets"]] == ["v1", "v2", "v3"]  # type: ignore[index]
    assert by_kind["VirtualService"]["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v3"  # type: ignore[index]
    docs = rendered.from_helm(result.output, "charts/shop", files, files.keys())
    assert sorted((d.source, d.line) for d in docs) == [
        ("charts/shop/templates/destinationrule.yaml", 1), ("charts/shop/templates/service.yaml", 1),
        ("charts/shop/templates/virtualservice.yaml", 2)]
    filled = [rendered.fill_namespace(d.text, "shop") for d in docs]
    assert {yaml.safe_load(t)["metadata"]["namespace"] for t in filled} == {"shop"}


def test_inline_values_and_parameters_come_after_value_files(helm: Renderers) -> None:
    files = tree(FIXTURES / "chart" / "head")
    source = Source(Tool.HELM, "charts/shop", release="shop", values_files=("charts/shop/values-prod.yaml",),
                    values=("reviews:\n  route: v2\n",),
                    parameters=(HelmParameter("reviews.subsets", "{v2,v9}"), HelmParameter("reviews.route", "v9")))
    result = render(source, files, helm, namespace="shop")
    assert result.ok, result.error
    by_kind = {d["kind"]: d for d in objects(result.output)}
    assert [s["name"] for s in by_kind["DestinationRule"]["spec"]["subsets"]] == ["v2", "v9"]  # type: ignore[index]
    assert by_kind["VirtualService"]["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v9"  # type: ignore[index]


def test_flux_value_files_replace_the_charts_own_values(helm: Renderers) -> None:
    files = tree(FIXTURES / "chart" / "head")
    files["charts/shop/route.yaml"] = b"reviews:\n  route: v2\n"
    source = Source(Tool.HELM, "charts/shop", release="shop", values_files=("charts/shop/route.yaml",))
    result = render(source, files, helm, namespace="shop")
    assert result.ok, result.error
    subsets = next(d for d in objects(result.output) if d["kind"] == "DestinationRule")["spec"]["subsets"]  # type: ignore[index]
    assert [s["name"] for s in subsets] == ["v1"]  # from the chart's values.yaml
    result = render(replace(source, chart_values=False), files, helm, namespace="shop")
    assert result.ok, result.error
    dr = next(d for d in objects(result.output) if d["kind"] == "DestinationRule")
    assert dr["spec"]["subsets"] is None  # type: ignore[index]  # values.yaml unused: no subsets to range over
    listed = replace(source, chart_values=False, values_files=("charts/shop/values.yaml", "charts/shop/route.yaml"))
    assert render(listed, files, helm, namespace="shop").ok


def test_vendored_subcharts_render_offline_and_missing_ones_fail(helm: Renderers) -> None:
    chart = b"apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n- name: mesh\n  version: 0.1.0\n" \
            b"  repository: https://charts.example.com\n"
    sub = {"parent/charts/mesh-folder/Chart.yaml": b"apiVersion: v2\nname: mesh\nversion: 0.1.0\n",
           "parent/charts/mesh-folder/templates/vs.yaml": VS}
    files = {"parent/Chart.yaml": chart, **sub}
    result = render(Source(Tool.HELM, "parent", release="r"), files, helm, namespace="shop")
    assert result.ok, result.error
    [doc] = rendered.from_helm(result.output, "parent", files, files.keys())
    assert doc.source == "parent/charts/mesh-folder/templates/vs.yaml"
    result = render(Source(Tool.HELM, "parent", release="r"), {"parent/Chart.yaml": chart}, helm, namespace="shop")
    assert result.error is not None and "mesh" in result.error


def test_missing_value_files_and_template_errors_are_values(helm: Renderers) -> None:
    files = tree(FIXTURES / "chart" / "head")
    result = render(Source(Tool.HELM, "charts/shop", values_files=("charts/shop/values-qa.yaml",)), files, helm)
    assert result.error == "value file charts/shop/values-qa.yaml not found"
    files["charts/shop/templates/broken.yaml"] = b"kind: {{ .Values.nothing.here }}\n"
    result = render(Source(Tool.HELM, "charts/shop", release="shop"), files, helm)
    assert result.error is not None and "broken.yaml" in result.error and "istio-pr-bot-render" not in result.error


def test_a_missing_tool_is_a_value_with_an_install_hint() -> None:
    for tool in (Tool.HELM, Tool.KUSTOMIZE):
        result = render(Source(tool, "x"), {}, Renderers())
        assert result.skipped == buildtools.INSTALL_HINTS[tool] and not result.ok
    assert buildtools.find_renderers("") == Renderers()


def test_paths_that_leave_the_export_are_refused(tmp_path: Path) -> None:
    renderers = fake_tool(tmp_path, "echo ran\n")
    for bad in ("../x.yaml", "/etc/passwd", "a/../../b"):
        result = render(Source(Tool.KUSTOMIZE, "a"), {bad: b"", "a/kustomization.yaml": KUSTOMIZATION}, renderers)
        assert result.skipped is not None and bad in result.skipped


def test_an_export_that_cannot_be_written_is_an_error_and_leaves_nothing(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None  # read TMPDIR again
    try:
        files = {"a/kustomization.yaml": KUSTOMIZATION, "a/vs.yaml": b"", "a/vs.yaml/x": b""}
        result = render(Source(Tool.KUSTOMIZE, "a"), files, fake_tool(tmp_path / "bin", "echo ran\n"))
    finally:
        tempfile.tempdir = None
    assert result.error is not None and result.error.startswith("the files could not be exported for rendering")
    assert [p.name for p in tmp_path.iterdir()] == ["bin"]


# --- the sandbox, with a stand-in tool

def test_the_tool_sees_an_environment_made_from_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "secret")
    monkeypatch.setenv("HELM_PLUGINS", str(tmp_path))
    renderers = fake_tool(tmp_path, "/usr/bin/env\n/bin/pwd\n", Tool.HELM)
    files = {"c/Chart.yaml": b"apiVersion: v2\nname: c\nversion: 1.0.0\n"}
    result = render(Source(Tool.HELM, "c"), files, renderers)
    assert result.ok, result.error
    *env_lines, cwd = result.output.splitlines()
    env = dict(line.split("=", 1) for line in env_lines)
    assert "GITHUB_TOKEN" not in env and env["PATH"] == "" and env["HTTPS_PROXY"] == buildtools.CLOSED_PROXY
    home = env["HOME"]
    assert all(env[k].startswith(home) for k in env if k.startswith(("HELM_", "XDG_")) or k == "KUBECONFIG")
    assert cwd.endswith("/repo") and not os.path.exists(home) and not os.path.exists(cwd)


def test_a_render_past_its_time_limit_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child"
    renderers = fake_tool(tmp_path, f"/bin/sleep 30 &\necho $! > {pid_file}\nwait\n")
    files = {"a/kustomization.yaml": KUSTOMIZATION}
    started = time.monotonic()
    result = render(Source(Tool.KUSTOMIZE, "a"), files, renderers, timeout=1)
    assert result.error == "fake-tool build did not finish within 1 seconds"
    assert time.monotonic() - started < 10
    child = pid_file.read_text().strip()
    for _ in range(50):  # the orphan is reaped by init shortly after it is killed
        if not running(child):
            break
        time.sleep(0.1)
    assert not running(child)


def test_output_past_the_cap_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buildtools, "MAX_OUTPUT_BYTES", 100_000)
    renderers = fake_tool(tmp_path, "while :; do echo 0123456789012345678901234567890123456789; done\n")
    result = render(Source(Tool.KUSTOMIZE, "a"), {"a/kustomization.yaml": KUSTOMIZATION}, renderers)
    assert result.error is not None and "wrote more than" in result.error and result.output == ""
