"""The `targets:` and `discovery:` config sections: values, and errors that name the key (pure)."""

from __future__ import annotations

import pytest
import yaml

from bot.errors import BotError
from bot.targets import ALTERNATIVE_FOLDERS, Options, Tool
from bot.targets_config import TargetSpec, parse_discovery, parse_targets

SOURCE = ".istio-pr-bot.yaml"


def parse(text: str) -> tuple[TargetSpec, ...]:
    return parse_targets(yaml.safe_load(text)["targets"], SOURCE)


def test_each_kind_of_target() -> None:
    specs = parse("""
targets:
  - name: shop-prod
    cluster: prod
    source: {kustomize: ./overlays/prod/}
    namespace: shop
  - name: chart-prod
    cluster: prod
    source: {helm: charts/shop}
    values: [charts/shop/values.yaml, charts/shop/values-prod.yaml]
    release: shop
  - name: inline
    source: {helm: charts/shop}
    values: [{reviews: {route: v2}}]
  - name: mesh
    source: {plain: "mesh/**/*.yaml"}
""")
    assert specs == (
        TargetSpec("shop-prod", "prod", Tool.KUSTOMIZE, "overlays/prod", namespace="shop"),
        TargetSpec("chart-prod", "prod", Tool.HELM, "charts/shop",
                   values_files=("charts/shop/values.yaml", "charts/shop/values-prod.yaml"), release="shop"),
        TargetSpec("inline", "inline", Tool.HELM, "charts/shop", values=("reviews:\n  route: v2\n",), release="inline"),
        TargetSpec("mesh", "mesh", Tool.PLAIN, globs=("mesh/**/*.yaml",)))


@pytest.mark.parametrize("text, message", [
    ("targets: {}", "targets must be a list of targets, each with name and source"),
    ("targets: [x]", "targets[0] must be a mapping with name and source"),
    ("targets: [{name: a, source: {plain: [x]}, colour: red}]",
     "targets[0]: unknown key 'colour' (known: name, cluster, source, namespace, values, release)"),
    ("targets: [{source: {plain: [x]}}]", "targets[0].name must be a non-empty string"),
    ("targets: [{name: a, source: {plain: [x]}}, {name: a, source: {plain: [y]}}]",
     "targets[1].name: 'a' is used by another target"),
    ("targets: [{name: a, cluster: '', source: {plain: [x]}}]", "targets[0] (a).cluster must be a non-empty string"),
    ("targets: [{name: a, source: overlays/prod}]",
     "targets[0] (a).source must be one of {kustomize: FOLDER}, {helm: FOLDER} or {plain: [GLOB, ...]}"),
    ("targets: [{name: a, source: {kustomize: a, helm: b}}]", "targets[0] (a).source must be one of"),
    ("targets: [{name: a, source: {kustomize: ../other}}]", "targets[0] (a).source.kustomize: '../other' is outside"),
    ("targets: [{name: a, source: {helm: [x]}}]", "targets[0] (a).source.helm must be a folder of the repository"),
    ("targets: [{name: a, source: {plain: []}}]", "targets[0] (a).source.plain must be a list of glob strings"),
    ("targets: [{name: a, source: {plain: [x]}, namespace: Shop_1}]",
     "targets[0] (a).namespace must be a namespace name, got 'Shop_1'"),
    ("targets: [{name: a, source: {kustomize: k}, values: [v.yaml]}]", "targets[0] (a).values is only for helm sources"),
    ("targets: [{name: a, source: {helm: c}, values: [3]}]",
     "targets[0] (a).values[0] must be a value file path or a mapping of values"),
    ("targets: [{name: a, source: {helm: c}, values: [v.yaml, {a: 1}]}]",
     "targets[0] (a).values: give value files or inline values, not both"),
    ("targets: [{name: a, source: {kustomize: k}, release: r}]", "targets[0] (a).release is only for helm sources"),
])
def test_mistakes_name_the_key(text: str, message: str) -> None:
    with pytest.raises(BotError) as raised:
        parse(text)
    assert str(raised.value).startswith(f"{SOURCE}: {message}")


def test_discovery_options() -> None:
    assert parse_discovery(None, SOURCE) == Options()
    options = parse_discovery({"repo-urls": ["https://github.com/example/deploy"], "fixtures": ["e2e/"],
                               "alternatives": []}, SOURCE)
    assert options == Options(("https://github.com/example/deploy",), ("e2e",), ())
    assert parse_discovery({"fixtures": []}, SOURCE).alternative_folders == ALTERNATIVE_FOLDERS
    for value, message in (([], "discovery must be a mapping with repo-urls, fixtures, alternatives"),
                           ({"tests": []}, "discovery: unknown key 'tests'"),
                           ({"fixtures": "tests"}, "discovery.fixtures must be a list of folder names"),
                           ({"fixtures": ["a/b"]}, "discovery.fixtures must be a list of folder names"),
                           ({"repo-urls": [""]}, "discovery.repo-urls must be a list of URLs")):
        with pytest.raises(BotError) as raised:
            parse_discovery(value, SOURCE)
        assert str(raised.value).startswith(f"{SOURCE}: {message}")
