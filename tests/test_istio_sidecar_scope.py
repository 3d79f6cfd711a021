"""Sidecar egress scope (bot/istio/sidecar_scope.py) against Istio's selection rules."""

from __future__ import annotations

from typing import Any

from bot.istio.sidecar_scope import (
    REGISTRY_ONLY,
    ServiceDef,
    SidecarConfig,
    VirtualServiceDef,
    destinations_for,
    imports_service,
    imports_virtual_service,
    lost_hosts,
    read_hosts,
    read_sidecar,
    scope,
    select_sidecar,
)
from bot.visibility import EVERYONE, Visibility

ROOT = "istio-system"
REVIEWS = "reviews.bookinfo.svc.cluster.local"
RATINGS = "ratings.bookinfo.svc.cluster.local"
DETAILS = "details.shop.svc.cluster.local"


def only(*namespaces: str) -> Visibility:
    return Visibility(False, frozenset(namespaces))


def svc(host: str, kubernetes: bool = True, visibility: Visibility = EVERYONE, ports: tuple[int, ...] = ()) -> ServiceDef:
    namespace = host.split(".")[1] if host.endswith(".svc.cluster.local") else "external"
    return ServiceDef(host, namespace, visibility, kubernetes, ports)


def sidecar(namespace: str, name: str = "default", **spec: Any) -> SidecarConfig:
    return read_sidecar(namespace, name, spec)


SERVICES = [svc(REVIEWS), svc(RATINGS), svc(DETAILS)]


def test_reading_egress_hosts() -> None:
    hosts = read_hosts(["./*", "istio-system/*", "*/api.example.com", "~shop/*", "bad", "a/b/c"], "bookinfo")
    assert set(hosts) == {"bookinfo", "istio-system", "*", "shop"}
    assert hosts["bookinfo"].hosts == ("*",)
    assert hosts["shop"].excluded == ("*",) and hosts["shop"].hosts == ()
    assert read_hosts(["~/*"], "x")["*"].excluded == ("*",)
    # before Istio 1.31, `~` is a namespace name: nothing is subtracted, nothing imported
    old = read_hosts(["~/*", "~shop/*"], "x", exclusions=False)
    assert set(old) == {"~", "~shop"} and all(not h.excluded for h in old.values())


def test_service_import_uses_the_definitions_namespace() -> None:
    hosts = read_hosts(["bookinfo/*", "*/api.example.com"], "client")
    assert imports_service(hosts, REVIEWS, "bookinfo")
    assert not imports_service(hosts, DETAILS, "shop")
    assert imports_service(hosts, "api.example.com", "anywhere")
    # `ns` names the namespace of the object, not one inside the host name
    assert not imports_service(read_hosts(["shop/*"], "client"), REVIEWS, "bookinfo")


def test_service_import_is_one_way_and_exclusions_win() -> None:
    wildcard_entry = read_hosts(["*/*.example.com"], "c")
    assert imports_service(wildcard_entry, "a.example.com", "x")
    assert imports_service(wildcard_entry, "*.api.example.com", "x")
    exact_entry = read_hosts(["*/a.example.com"], "c")
    assert not imports_service(exact_entry, "*.example.com", "x")  # SubsetOf, not Matches
    hosts = read_hosts(["*/*", "~/ratings.bookinfo.svc.cluster.local", "~shop/*"], "c")
    assert imports_service(hosts, REVIEWS, "bookinfo")
    assert not imports_service(hosts, RATINGS, "bookinfo")
    assert not imports_service(hosts, DETAILS, "shop")


def test_virtual_service_import_matches_both_ways() -> None:
    hosts = read_hosts(["web/a.example.com"], "c")
    assert imports_virtual_service(hosts, ["*.example.com"], "web")
    assert not imports_virtual_service(hosts, ["*.example.com"], "other")
    assert not imports_virtual_service(read_hosts(["web/*", "~/a.example.com"], "c"), ["a.example.com"], "web")
    assert imports_virtual_service(read_hosts(["web/*", "~/a.example.com"], "c"), ["a.example.com", "b.example.com"], "web")


def test_which_sidecar_applies() -> None:
    workload = sidecar("bookinfo", "pinned", workloadSelector={"labels": {"app": "reviews"}})
    namespace = sidecar("bookinfo")
    root = sidecar(ROOT)
    root_selector = sidecar(ROOT, "gw", workloadSelector={"labels": {"app": "x"}})
    all_ = [workload, namespace, root, root_selector]
    assert select_sidecar(all_, "bookinfo", {"app": "reviews", "v": "1"}, ROOT) is workload
    assert select_sidecar(all_, "bookinfo", {"app": "ratings"}, ROOT) is namespace
    assert select_sidecar(all_, "bookinfo", None, ROOT) is namespace
    assert select_sidecar(all_, "shop", {"app": "x"}, ROOT) is root  # a root selector Sidecar stays in the root
    assert select_sidecar([workload, root_selector], "shop", {"app": "x"}, ROOT) is None


def test_no_sidecar_imports_everything_visible() -> None:
    hidden = svc(DETAILS, visibility=only("shop"))
    result = scope("bookinfo", None, [], [svc(REVIEWS), hidden], [], ROOT)
    assert result.imports(REVIEWS) and not result.imports(DETAILS)
    assert result.sidecar is None and result.outbound_mode == "ALLOW_ANY"


def test_namespace_sidecar_narrowing_loses_hosts() -> None:
    before = scope("bookinfo", None, [sidecar("bookinfo", egress=[{"hosts": ["./*", "shop/*"]}])], SERVICES, [], ROOT)
    after = scope("bookinfo", None, [sidecar("bookinfo", egress=[{"hosts": ["./*"]}])], SERVICES, [], ROOT)
    assert lost_hosts(before, after) == [DETAILS]


def test_root_default_is_read_per_client_namespace() -> None:
    root = sidecar(ROOT, egress=[{"hosts": ["./*", "istio-system/*"]}])
    shop = scope("shop", None, [root], SERVICES, [], ROOT)
    assert shop.imports(DETAILS) and not shop.imports(REVIEWS)
    bookinfo = scope("bookinfo", None, [root], SERVICES, [], ROOT)
    assert bookinfo.imports(REVIEWS) and not bookinfo.imports(DETAILS)


def test_workload_sidecar_replaces_the_namespace_one_and_its_mode() -> None:
    namespace = sidecar("bookinfo", egress=[{"hosts": ["*/*"]}], outboundTrafficPolicy={"mode": REGISTRY_ONLY})
    pinned = sidecar("bookinfo", "pinned", workloadSelector={"labels": {"app": "reviews"}},
                     egress=[{"hosts": ["./*"]}])
    result = scope("bookinfo", {"app": "reviews"}, [namespace, pinned], SERVICES, [], ROOT)
    assert result.sidecar is pinned and not result.imports(DETAILS)
    assert result.outbound_mode == "ALLOW_ANY"  # the mesh's, not the replaced Sidecar's
    other = scope("bookinfo", {"app": "ratings"}, [namespace, pinned], SERVICES, [], ROOT)
    assert other.imports(DETAILS) and other.outbound_mode == REGISTRY_ONLY


def test_listener_port_limits_services() -> None:
    services = [svc(REVIEWS, ports=(9080,)), svc(DETAILS, ports=(80, 443))]
    result = scope("x", None, [sidecar("x", egress=[{"port": {"number": 443, "protocol": "HTTPS"}, "hosts": ["*/*"]}])],
                   services, [], ROOT)
    assert result.imports(DETAILS) and not result.imports(REVIEWS)
    proxy = sidecar("x", egress=[{"port": {"number": 3128, "protocol": "HTTP_PROXY"}, "hosts": ["*/*"]}])
    assert scope("x", None, [proxy], services, [], ROOT).imports(REVIEWS)


def vs(namespace: str, name: str, hosts: list[str], dest: str, visibility: Visibility = EVERYONE,
       **extra: Any) -> VirtualServiceDef:
    spec = {"hosts": hosts, "http": [{"route": [{"destination": {"host": dest}}]}], **extra}
    return VirtualServiceDef(namespace, name, spec, visibility)


def test_virtual_services_pull_in_their_destinations() -> None:
    route = vs("shop", "front", ["front.example.com"], DETAILS)
    only_front = sidecar("bookinfo", egress=[{"hosts": ["shop/front.example.com"]}])
    result = scope("bookinfo", None, [only_front], SERVICES, [route], ROOT)
    assert result.imports(DETAILS) and result.pulled_in == frozenset({DETAILS})
    assert result.virtual_services == frozenset({("shop", "front")})
    # a VirtualService bound only to a gateway, or not visible, pulls in nothing
    gateway_only = vs("shop", "front", ["front.example.com"], DETAILS, gateways=["shop/gw"])
    assert not scope("bookinfo", None, [only_front], SERVICES, [gateway_only], ROOT).imports(DETAILS)
    private = vs("shop", "front", ["front.example.com"], DETAILS, visibility=only("shop"))
    assert not scope("bookinfo", None, [only_front], SERVICES, [private], ROOT).imports(DETAILS)


def test_pulled_in_destination_in_own_namespace_skips_visibility() -> None:
    hidden_here = ServiceDef(REVIEWS, "bookinfo", only("other"))
    route = vs("bookinfo", "r", ["reviews"], "reviews")
    only_vs = sidecar("bookinfo", egress=[{"hosts": ["./reviews.bookinfo.svc.cluster.local"]}])
    assert scope("bookinfo", None, [only_vs], [hidden_here], [route], ROOT).imports(REVIEWS)
    elsewhere = scope("shop", None, [sidecar("shop", egress=[{"hosts": ["bookinfo/*"]}])], [hidden_here], [route], ROOT)
    assert not elsewhere.imports(REVIEWS)


def test_destination_ports_and_source_namespace() -> None:
    multi = svc(DETAILS, ports=(80, 443))
    spec = {"hosts": ["front.example.com"], "http": [
        {"match": [{"sourceNamespace": "other"}], "route": [{"destination": {"host": RATINGS}}]},
        {"route": [{"destination": {"host": DETAILS, "port": {"number": 8080}}}]}]}
    front = VirtualServiceDef("shop", "front", spec, EVERYONE)
    assert destinations_for(front, "bookinfo") == {DETAILS: {8080}}
    assert set(destinations_for(front, "other")) == {RATINGS, DETAILS}
    result = scope("bookinfo", None, [sidecar("bookinfo", egress=[{"hosts": ["shop/front.example.com"]}])],
                   [multi, svc(RATINGS)], [front], ROOT)
    assert not result.imports(DETAILS) and not result.imports(RATINGS)


def test_same_host_prefers_own_namespace_then_kubernetes() -> None:
    entry = ServiceDef("api.example.com", "shop", EVERYONE, kubernetes=False)
    mine = ServiceDef("api.example.com", "bookinfo", EVERYONE, kubernetes=False)
    kube = ServiceDef("api.example.com", "other", EVERYONE, kubernetes=True)
    assert scope("bookinfo", None, [], [entry, kube, mine], [], ROOT).services["api.example.com"] == "bookinfo"
    assert scope("x", None, [], [entry, kube], [], ROOT).services["api.example.com"] == "other"
