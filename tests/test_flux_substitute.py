"""Flux post-build substitution of literal values (pure)."""

from __future__ import annotations

import yaml

from bot.flux_substitute import substitute

OUTPUT = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-${cluster_env}
  labels:
    tier: ${tier:=web}
    zone: ${zone:-eu}
    price: $${not_a_var}
spec:
  hosts: [reviews.${cluster_env}.example.com]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: raw
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  script: echo ${HOME}
"""


def test_literal_variables_defaults_escapes_and_opt_out() -> None:
    out, problem = substitute(OUTPUT, {"cluster_env": "prod", "zone": ""})
    assert problem is None
    vs, cm = yaml.safe_load_all(out)
    assert vs["metadata"]["name"] == "reviews-prod" and vs["spec"]["hosts"] == ["reviews.prod.example.com"]
    assert vs["metadata"]["labels"] == {"tier": "web", "zone": "eu", "price": "${not_a_var}"}
    assert cm["data"]["script"] == "echo ${HOME}"


def test_nothing_is_substituted_without_variables() -> None:
    assert substitute(OUTPUT, {}) == (OUTPUT, None)


def test_unset_variables_and_unsupported_forms_are_problems() -> None:
    out, problem = substitute(OUTPUT, {"zone": "us"})
    assert (out, problem) == (OUTPUT, "variable not set (strict mode): cluster_env")
    assert substitute("a: ${x/a/b}\n", {"x": "a"})[1] == "substitution ${x/a/b} is not evaluated offline"
    assert substitute("a: 1\n", {"bad-name": "x"})[1] == "'bad-name' var name is invalid, must match '^[_A-Za-z][_A-Za-z0-9]*$'"
