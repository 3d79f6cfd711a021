"""Gateway API kinds in the changes table, the comment and the JSON report: field-level phrases,
renames read as one, the Gateway told apart from Istio's, cluster-scoped names, JSON version 2."""

from __future__ import annotations

import json

from bot.render import json_report, markdown, text
from bot.report_json import load_report
from tests.helpers import diff

GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: infra}}
spec:
  gatewayClassName: istio
  listeners:
{listeners}"""
HTTP = """  - name: {name}
    port: {port}
    protocol: HTTP
    hostname: {hostname}
    allowedRoutes: {{namespaces: {{from: {allowed}}}}}
"""
HTTPS = """  - name: https
    port: 443
    protocol: HTTPS
    tls:
      certificateRefs: [{{name: {cert}}}]
"""


def gateway(name: str = "public", *listeners: str) -> str:
    return GATEWAY.format(name=name, listeners="".join(listeners))


def http(name: str = "http", port: int = 80, hostname: str = "shop.example.com", allowed: str = "All") -> str:
    return HTTP.format(name=name, port=port, hostname=hostname, allowed=allowed)


def what(base: dict[str, str], head: dict[str, str]) -> dict[str, tuple[str, ...]]:
    return {f"{c.change} {c.resource.display}": c.what for c in diff(base, head).changes}


def test_a_renamed_listener_reads_as_one_rename() -> None:
    got = what({"g.yaml": gateway("public", http("http"))}, {"g.yaml": gateway("public", http("web"))})
    assert got == {"modified Gateway infra/public": ("listener http renamed to web",)}


def test_listener_fields_read_in_the_apis_words() -> None:
    base = gateway("public", http("http"), HTTPS.format(cert="old"))
    head = gateway("public", http("http", port=8080, hostname="'*.example.com'", allowed="Same"),
                   HTTPS.format(cert="new"), http("admin", port=9090))
    assert what({"g.yaml": base}, {"g.yaml": head}) == {"modified Gateway infra/public": (
        "listener http port 80 -> 8080",
        "listener http hostname shop.example.com -> *.example.com",
        "listener http allowedRoutes namespaces All -> Same",
        "listener https certificateRefs Secret infra/old -> Secret infra/new",
        "listener admin added (HTTP 9090 shop.example.com)")}


def test_a_renamed_listener_that_also_changes_reads_as_rename_and_edit() -> None:
    base = gateway("public", http("http", allowed="All"))
    head = gateway("public", http("web", allowed="Same")).replace("protocol: HTTP", "protocol: HTTP")
    assert what({"g.yaml": base}, {"g.yaml": head})["modified Gateway infra/public"] == (
        "listener http renamed to web", "listener web allowedRoutes namespaces All -> Same")


ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: cart, namespace: shop}}
spec:
  parentRefs:
  - {{name: public, namespace: infra, sectionName: {section}}}
  hostnames: [{hostnames}]
  rules:
  - backendRefs:
    - {{name: cart-v1, port: 8080, weight: {v1}}}
    - {{name: cart-v2, port: 8080, weight: {v2}}}
"""


def route(section: str = "http", hostnames: str = "shop.example.com", v1: int = 90, v2: int = 10) -> str:
    return ROUTE.format(section=section, hostnames=hostnames, v1=v1, v2=v2)


def test_route_parent_hostname_and_weight_edits() -> None:
    got = what({"r.yaml": route()}, {"r.yaml": route("web", "shop.example.com, www.example.com", 50, 50)})
    assert got == {"modified HTTPRoute shop/cart": (
        "parentRef Gateway infra/public sectionName http -> web",
        "hostname www.example.com added",
        "cart-v1 weight 90 -> 50 (90% -> 50%)",
        "cart-v2 weight 10 -> 50 (10% -> 50%)")}


def test_backends_added_and_removed_name_their_share() -> None:
    head = route().replace("    - {name: cart-v1, port: 8080, weight: 90}\n", "").replace(
        "weight: 10}", "weight: 10}\n    - {name: cart-v3, namespace: next, port: 8080, weight: 30}")
    got = what({"r.yaml": route()}, {"r.yaml": head})["modified HTTPRoute shop/cart"]
    assert got == ("cart-v2 share 10% -> 25%", "backend next/cart-v3 added (weight 30, 75%)",
                   "backend cart-v1 removed (was 90%)")


GRANT = """apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: from-shop, namespace: payments}}
spec:
  from: [{froms}]
  to: [{tos}]
"""


def test_reference_grant_from_and_to() -> None:
    base = GRANT.format(froms="{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}",
                        tos="{group: '', kind: Service, name: pay}")
    head = GRANT.format(froms="{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}, "
                              "{group: gateway.networking.k8s.io, kind: GRPCRoute, namespace: shop}",
                        tos="{group: '', kind: Service}")
    assert what({"g.yaml": base}, {"g.yaml": head}) == {"modified ReferenceGrant payments/from-shop": (
        "from GRPCRoute in shop added", "to Service pay removed", "to every Service added")}


def test_namespace_labels_and_cluster_scoped_names() -> None:
    ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {{{labels}}}\n"
    report = diff({"n.yaml": ns.format(labels="gw: 'yes', env: prod, old: x")},
                  {"n.yaml": ns.format(labels="gw: 'yes', env: staging, team: cart")})
    (row,) = report.changes
    assert (row.resource.kind, row.resource.namespace, row.resource.display) == ("Namespace", "", "Namespace shop")
    assert row.what == ("label old removed (was x)", "label env: prod -> staging", "label team=cart added")
    comment = markdown.render(report)
    assert "| ✏️ modified | Namespace | shop | label old removed" in comment
    assert "  modified  Namespace shop  label old removed" in text.render(report)


def test_a_renamed_gateway_is_one_row_naming_the_old_name() -> None:
    report = diff({"g.yaml": gateway("public", http())}, {"g.yaml": gateway("public-v2", http())})
    (row,) = report.changes
    assert (row.change, row.resource.name, row.what) == ("renamed", "public-v2", ("renamed from public",))
    assert row.previous is not None and row.previous.name == "public"
    data = json_report.as_dict(report)
    assert data["changes"][0]["change"] == "renamed" and data["changes"][0]["previous"]["name"] == "public"


ISTIO_GATEWAY = """apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [legacy.example.com]
"""


def test_the_gateway_api_gateway_says_its_group_only_next_to_istios() -> None:
    alone = diff({"g.yaml": gateway("public", http("http"))}, {"g.yaml": gateway("public", http("web"))})
    assert alone.qualified == () and "| ✏️ modified | Gateway | infra/public |" in markdown.render(alone)
    mixed = diff({"g.yaml": gateway("public", http("http")), "i.yaml": ISTIO_GATEWAY},
                 {"g.yaml": gateway("public", http("web")), "i.yaml": ISTIO_GATEWAY})
    assert mixed.qualified == ("KubernetesGateway",)
    assert "| ✏️ modified | Gateway (gateway.networking.k8s.io) | infra/public |" in markdown.render(mixed)


def test_json_report_names_kinds_with_their_group_and_reads_back() -> None:
    base = {"g.yaml": gateway("public", http("http")), "i.yaml": ISTIO_GATEWAY, "r.yaml": route()}
    head = {"g.yaml": gateway("public", http("web")), "i.yaml": ISTIO_GATEWAY, "r.yaml": route()}
    report = diff(base, head)
    data = json.loads(json_report.render(report))
    assert data["version"] == 2
    assert data["changes"][0] | {"paths": []} == {
        "kind": "Gateway", "group": "gateway.networking.k8s.io", "namespace": "infra", "name": "public",
        "file": "g.yaml", "line": 1, "change": "modified", "paths": [], "what": ["listener http renamed to web"],
        "target": None, "cluster": None}
    (detached,) = [f for f in data["findings"] if f["rule"] == "route-detached"]
    assert detached["related"][0]["kind"] == "Gateway" and detached["related"][0]["group"] == "gateway.networking.k8s.io"
    assert data["qualified_kinds"] == [{"kind": "Gateway", "group": "gateway.networking.k8s.io"}]
    back = load_report(data)
    assert back.changes[0].resource.kind == "KubernetesGateway" and back.qualified == report.qualified
    assert [f.related for f in back.findings] == [f.related for f in report.findings]
    assert markdown.render(back) == markdown.render(report)


def test_json_report_version_1_still_reads() -> None:
    data = {"version": 1, "mode": "diff", "base": "a", "head": "b", "changes": [
        {"kind": "KubernetesGateway", "namespace": "infra", "name": "public", "change": "modified", "file": "g.yaml",
         "line": 1, "paths": [], "what": []}]}
    assert load_report(data).changes[0].resource.kind == "KubernetesGateway"


LISTENER_SET = """apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {{name: team-a, namespace: infra}}
spec:
  parentRef: {{name: public}}
  listeners:
  - {{name: {name}, port: 8080, protocol: HTTP, hostname: a.example.com}}
"""


def test_a_renamed_listener_set_listener_reads_as_one_rename() -> None:
    got = what({"ls.yaml": LISTENER_SET.format(name="a")}, {"ls.yaml": LISTENER_SET.format(name="team-a-http")})
    assert got == {"modified ListenerSet infra/team-a": ("listener a renamed to team-a-http",)}
