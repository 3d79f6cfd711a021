"""Rendered output traced back to source files, and namespaces filled in (pure)."""

from __future__ import annotations

import pytest
import yaml

from bot import rendered
from bot.rendered import ORIGIN_ANNOTATION, fill_namespace, from_helm, from_kustomize, split, strip_annotation

KUSTOMIZE_OUTPUT = """apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    config.kubernetes.io/origin: |
      configuredIn: ../../base/kustomization.yaml
      configuredBy:
        apiVersion: builtin
        kind: ConfigMapGenerator
  name: settings-5h2m
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: ../../base/routes.yaml
    team: shop
  name: prod-ratings
  namespace: shop
spec:
  hosts:
  - ratings
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: istio/dr.yaml
      repo: https://github.com/example/istio-base
      ref: v1
  name: ratings
"""

ROUTES = b"""# routes of the shop
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
"""


def test_kustomize_objects_point_at_their_files_and_lines() -> None:
    docs = from_kustomize(KUSTOMIZE_OUTPUT, "overlays/prod", {"base/routes.yaml": ROUTES}, strip_origin=True)
    assert [(d.source, d.line) for d in docs] == [
        ("base/kustomization.yaml", 1),  # generated: the kustomization that configured it
        ("base/routes.yaml", 7),  # prefixed name, second document
        (None, 1)]  # a remote base: no file of this repository
    assert all(ORIGIN_ANNOTATION not in d.text for d in docs)
    assert yaml.safe_load(docs[1].text)["metadata"]["annotations"] == {"team": "shop"}
    assert "annotations" not in yaml.safe_load(docs[0].text)["metadata"]
    kept = from_kustomize(KUSTOMIZE_OUTPUT, "overlays/prod", {}, strip_origin=False)
    assert all(ORIGIN_ANNOTATION in d.text for d in kept)


def test_origins_outside_the_repository_are_unknown() -> None:
    output = KUSTOMIZE_OUTPUT.replace("../../base/routes.yaml", "../../../../elsewhere.yaml")
    assert from_kustomize(output, "overlays/prod", {}, strip_origin=True)[1].source is None


HELM_OUTPUT = """---
# Source: shop/templates/dr.yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: shop-reviews
---
# Source: shop/templates/dr.yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: shop-ratings
---
# Source: shop/charts/mesh-defaults/templates/sidecar.yaml
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
---
# Source: shop/templates/tests/test.yaml
apiVersion: v1
kind: Pod
metadata:
  name: test
"""

TEMPLATE = b"""{{- range .Values.hosts }}
{{- if .enabled }}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {{ $.Release.Name }}-{{ .name }}
---
{{- end }}
{{- end }}
"""


def test_helm_documents_point_at_their_templates_including_subcharts_by_chart_name() -> None:
    texts = {"deploy/shop/Chart.yaml": b"apiVersion: v2\nname: shop\nversion: 1.0.0\n",
             "deploy/shop/templates/dr.yaml": TEMPLATE,
             "deploy/shop/charts/defaults/Chart.yaml": b"apiVersion: v2\nname: mesh-defaults\nversion: 1.0.0\n",
             "deploy/shop/charts/defaults/templates/sidecar.yaml": b"# a comment\nkind: Sidecar\n"}
    docs = from_helm(HELM_OUTPUT, "deploy/shop", texts, texts.keys())
    assert [(d.source, d.line) for d in docs] == [
        ("deploy/shop/templates/dr.yaml", 3), ("deploy/shop/templates/dr.yaml", 3),  # a loop: one template object
        ("deploy/shop/charts/defaults/templates/sidecar.yaml", 2),
        ("deploy/shop/templates/tests/test.yaml", 1)]
    assert rendered.chart_folders("deploy/shop", texts.keys(), texts) == {
        "shop": "deploy/shop", "shop/charts/mesh-defaults": "deploy/shop/charts/defaults"}


def test_documents_of_a_stream() -> None:
    assert list(split("---\n# only a comment\n---\na: 1\n--- # trailing\nb: 2\n...\n")) == ["a: 1\n", "b: 2\n...\n"]


@pytest.mark.parametrize("text, expected", [
    ("kind: VirtualService\nmetadata:\n  name: a\nspec: {}\n",
     "kind: VirtualService\nmetadata:\n  namespace: shop\n  name: a\nspec: {}\n"),
    ("kind: Gateway\nmetadata:  # the gateway\n    name: a\n", "kind: Gateway\nmetadata:  # the gateway\n    namespace: shop\n    name: a\n"),
    ("kind: VirtualService\nmetadata: {name: a}\n", "kind: VirtualService\nmetadata:\n  name: a\n  namespace: shop\n"),
    ("kind: VirtualService\nmetadata:\n  name: a\n  namespace: other\n", None),  # has one
    ("kind: Namespace\nmetadata:\n  name: a\n", None),  # cluster-scoped
    ("kind: ClusterRole\nmetadata:\n  name: a\n", None),
    ("no: kind\n", None), ("- a list\n", None)])
def test_namespace_less_namespaced_objects_get_the_target_namespace(text: str, expected: str | None) -> None:
    assert fill_namespace(text, "shop") == (text if expected is None else expected)


def test_namespaces_that_look_like_other_yaml_stay_strings() -> None:
    filled = fill_namespace("kind: Service\nmetadata:\n  name: a\n", "yes")
    assert yaml.safe_load(filled)["metadata"]["namespace"] == "yes"


def test_strip_annotation_keeps_other_keys() -> None:
    text = "metadata:\n  annotations:\n    a: b\n    k: |\n      x\n      y\n    c: d\n  name: n\n"
    assert strip_annotation(text, "k") == "metadata:\n  annotations:\n    a: b\n    c: d\n  name: n\n"
    assert strip_annotation("metadata:\n  annotations:\n    k: v\n  name: n\n", "k") == "metadata:\n  name: n\n"
