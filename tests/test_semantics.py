"""Istio semantics the rules rely on: hosts, exportTo, gateway references, DR lookup order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import hosts
from bot.config import Config
from bot.load import parse_file
from bot.mesh import Mesh
from bot.views import resolve_gateway
from bot.visibility import EVERYONE, Visibility, export_to, split_annotation


@pytest.mark.parametrize(("host", "ns", "want"), [
    ("reviews", "shop", "reviews.shop.svc.cluster.local"),
    ("reviews.default", "shop", "reviews.default"),  # dotted names are literal
    ("Reviews", "shop", "reviews.shop.svc.cluster.local"),
    ("*", "shop", "*"),
    ("*.example.com", "shop", "*.example.com"),
    ("10.0.0.1", "shop", "10.0.0.1"),
])
def test_short_names_resolve_against_the_resource_namespace(host: str, ns: str, want: str) -> None:
    assert hosts.fqdn(host, ns) == want


@pytest.mark.parametrize(("pattern", "host", "want"), [
    ("*.foo.com", "a.foo.com", True),
    ("*.foo.com", "a.b.foo.com", True),  # any depth
    ("*.foo.com", "foo.com", False),
    ("*", "anything.example", True),
    ("*.local", "reviews.shop.svc.cluster.local", True),
    ("*.foo.com", "*.bar.foo.com", True),
    ("*.bar.foo.com", "*.foo.com", False),
    ("a.foo.com", "b.foo.com", False),
])
def test_wildcards(pattern: str, host: str, want: bool) -> None:
    assert hosts.covers(pattern, host) is want


def test_export_to_values() -> None:
    assert export_to(["."], "shop") == Visibility(False, frozenset({"shop"}))
    assert export_to(["*"], "shop") == EVERYONE
    assert export_to(["~"], "shop").empty
    assert export_to(["a", "."], "shop").namespaces == {"a", "shop"}
    assert export_to(None, "shop") == EVERYONE
    assert export_to([], "shop", Visibility(False, frozenset({"x"}))).namespaces == {"x"}
    assert split_annotation(" a, b ,.") == ["a", "b", "."]


def test_visibility_algebra() -> None:
    own = Visibility(False, frozenset({"shop"}))
    assert EVERYONE.gained(own) == Visibility(True, frozenset({"shop"}))
    assert EVERYONE.gained(own).describe() == "all namespaces except shop"
    assert own.lost(EVERYONE).sees("payments") and not own.lost(EVERYONE).sees("shop")
    some = Visibility(True, frozenset({"a"}))  # everyone but a
    assert some.gained(EVERYONE).empty
    assert EVERYONE.gained(some) == Visibility(False, frozenset({"a"}))


@pytest.mark.parametrize(("raw", "want"), [
    ("mesh", ("", "mesh")),
    ("gw", ("shop", "gw")),
    ("./gw", ("shop", "gw")),
    ("istio-system/gw", ("istio-system", "gw")),
    ("gw.edge.svc.cluster.local", ("edge", "gw")),
])
def test_gateway_references(raw: str, want: tuple[str, str]) -> None:
    ref = resolve_gateway(raw, "shop")
    assert (ref.namespace, ref.name) == want


def _mesh(text: str, config: Config | None = None) -> Mesh:
    config = config or Config()
    parsed = parse_file("m.yaml", text.encode(), config)
    assert parsed.problem is None, parsed.problem
    return Mesh(parsed.resources, config)


def _dr(name: str, ns: str, host: str, export: str = "") -> str:
    return (f"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n"
            f"  namespace: {ns}\nspec:\n  host: {host}\n{export}---\n")


def test_destination_rule_lookup_order() -> None:
    host = "reviews.shop.svc.cluster.local"
    mesh = _mesh(_dr("client", "web", host) + _dr("owner", "shop", host) + _dr("root", "istio-system", '"*.local"'))
    assert [d.name for d in mesh.destination_rules_for(host, "web")] == ["client"]
    assert [d.name for d in mesh.destination_rules_for(host, "other")] == ["owner"]
    assert [d.name for d in mesh.destination_rules_for("x.elsewhere.svc.cluster.local", "other")] == ["root"]


def test_lookup_honours_export_to_and_specificity() -> None:
    host = "reviews.shop.svc.cluster.local"
    private = "  exportTo:\n  - \".\"\n"
    mesh = _mesh(_dr("owner", "shop", host, private) + _dr("wild", "shop", '"*.shop.svc.cluster.local"')
                 + _dr("exact", "shop", "reviews"))
    assert [d.name for d in mesh.destination_rules_for(host, "web")] == ["exact"]
    mesh = _mesh(_dr("owner", "shop", host, private))
    assert mesh.destination_rules_for(host, "web") == []
    assert [d.name for d in mesh.destination_rules_for(host, "shop")] == ["owner"]


def _gw(name: str, ns: str, selector: str) -> str:
    return (f"apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"spec:\n  selector:\n{selector}  servers: []\n---\n")


def test_gateways_share_a_workload_when_one_selector_contains_the_other() -> None:
    mesh = _mesh(_gw("a", "x", "    istio: ingressgateway\n") + _gw("b", "w", "    istio: ingressgateway\n    tier: edge\n")
                 + _gw("c", "z", "    istio: other\n"))  # not `y`: kubectl reads that as true
    a, b, c = (mesh.get("Gateway", ns, n) for ns, n in (("x", "a"), ("w", "b"), ("z", "c")))
    assert a and b and c
    assert mesh.share_workload(a, b)
    assert not mesh.share_workload(a, c)
    assert mesh.workload_namespace(a) == "istio-system"  # default map: istio=ingressgateway
    assert mesh.workload_namespace(c) == "z"
    scoped = _mesh(_gw("a", "x", "    app: gw\n") + _gw("b", "w", "    app: gw\n"),
                   replace(Config(), scope_gateway_to_namespace=True))
    ga, gb = scoped.get("Gateway", "x", "a"), scoped.get("Gateway", "w", "b")
    assert ga and gb and not scoped.share_workload(ga, gb)
