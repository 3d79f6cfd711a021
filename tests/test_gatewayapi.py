"""Gateway API semantics (bot/gatewayapi): defaults, attachment, backends, grants, conflicts, Istio's ways."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from bot.config import Config
from bot.gatewayapi import hostnames as hn
from bot.gatewayapi.attachment import evaluate
from bot.gatewayapi.backends import failing, percent, share, without_backends
from bot.gatewayapi.conflicts import clashes, merges
from bot.gatewayapi.gamma import overlaps
from bot.gatewayapi.grants import allowing
from bot.gatewayapi.istio import controller, drops, share_workload, workload
from bot.gatewayapi.listeners import gateway_renames, merged, renames, supported_kinds
from bot.gatewayapi.namespaces import selects
from bot.gatewayapi.objects import listeners, route
from bot.gatewayapi.precedence import How, order
from bot.gatewayapi.snapshot import Presence, Snapshot
from bot.load import parse_file
from bot.resource import Resource


def load(text: str) -> list[Resource]:
    return parse_file("m.yaml", text.encode(), Config()).resources


def snap(text: str) -> Snapshot:
    return Snapshot.build(load(text))


def gateway(listeners_yaml: str, name: str = "gw", ns: str = "infra", extra: str = "") -> str:
    return (f"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: {ns}}}\n"
            f"spec:\n  gatewayClassName: istio\n{extra}  listeners:\n{listeners_yaml}---\n")


def http_route(name: str, spec: str, ns: str = "infra", kind: str = "HTTPRoute") -> str:
    return f"apiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}---\n"


def the(s: Snapshot, kind: str, ns: str, name: str) -> Resource:
    res = s.get(kind, ns, name)
    assert res is not None
    return res


HTTP = "  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}\n"


@pytest.mark.parametrize(("a", "b", "want"), [
    ("*", "a.example.com", "a.example.com"),
    ("*.example.com", "a.example.com", "a.example.com"),
    ("*.example.com", "a.b.example.com", "a.b.example.com"),
    ("*.example.com", "example.com", None),  # a wildcard needs one more label
    ("*.example.com", "*.foo.example.com", "*.foo.example.com"),
    ("*.a.com", "*.b.com", None),
    ("a.example.com", "b.example.com", None),
    ("very.specific.com", "*.specific.com", "very.specific.com"),
])
def test_hostname_intersection(a: str, b: str, want: str | None) -> None:
    assert hn.intersection(a, b) == want
    assert hn.intersection(b, a) == want


def test_namespace_selectors_know_only_what_the_repository_says() -> None:
    sel = {"matchLabels": {"team": "shop"}}
    assert selects(sel, "shop", {"team": "shop", "kubernetes.io/metadata.name": "shop"}) is True
    assert selects(sel, "shop", {"kubernetes.io/metadata.name": "shop"}) is False
    assert selects(sel, "shop", None) is None  # the Namespace is not in the repository
    by_name = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["a", "b"]}]}
    assert selects(by_name, "a", None) is True and selects(by_name, "c", None) is False
    assert selects({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, "x", {}) is True


GRANT = """apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: g, namespace: {ns}}}
spec:
  from: [{{group: {fgroup}, kind: {fkind}, namespace: {fns}}}]
  to: [{{group: "{tgroup}", kind: {tkind}{tname}}}]
"""
RIGHT = {"ns": "backend", "fgroup": "gateway.networking.k8s.io", "fkind": "HTTPRoute", "fns": "infra", "tgroup": "",
         "tkind": "Service", "tname": ", name: web"}


@pytest.mark.parametrize("wrong", [{}, {"ns": "infra"}, {"fgroup": "other.io"}, {"fkind": "Gateway"},
                                   {"fns": "elsewhere"}, {"tgroup": "other.io"}, {"tkind": "Secret"},
                                   {"tname": ", name: other"}, {"tname": ""}])
def test_reference_grant_each_field_counts(wrong: dict[str, str]) -> None:
    grant = load(GRANT.format(**{**RIGHT, **wrong}))
    allowed = bool(allowing(grant, "HTTPRoute", "infra", "", "Service", "backend", "web"))
    assert allowed is (wrong in ({}, {"tname": ""}))  # without to.name every Service of the namespace is allowed


def test_route_defaults() -> None:
    r = route(load(http_route("r", "  parentRefs: [{name: gw}]\n  rules:\n  - matches: [{path: {value: /v2/}}]\n"
                                   "    backendRefs: [{name: web, port: 80}]\n  - {}\n"))[0])
    ref = r.parents[0]
    assert (ref.group, ref.kind, ref.namespace, ref.section, ref.port) == ("gateway.networking.k8s.io", "Gateway",
                                                                            "infra", None, None)
    assert r.rules[0].matches == ("path PathPrefix /v2",)  # the trailing slash of a prefix is ignored
    assert r.rules[1].matches == ("path PathPrefix /",)
    b = r.rules[0].backends[0]
    assert (b.group, b.kind, b.namespace, b.weight, b.cross_namespace) == ("", "Service", "infra", 1, False)
    bare = route(load(http_route("bare", "  parentRefs: [{name: gw}]\n"))[0])
    assert not bare.rules_written and [rule.backends for rule in without_backends(bare)] == [()]


def test_supported_kinds_follow_the_protocol() -> None:
    ls = listeners(load(gateway(
        "  - {name: a, port: 80, protocol: HTTP}\n"
        "  - {name: b, port: 443, protocol: TLS, tls: {mode: Passthrough}}\n"
        "  - {name: c, port: 444, protocol: TLS, tls: {mode: Terminate, certificateRefs: [{name: c}]}}\n"
        "  - {name: d, port: 81, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}, {kind: HttpRoute}]}}\n"))[0])
    assert [supported_kinds(lst) for lst in ls] == [
        (("HTTPRoute", "GRPCRoute"), True), (("TLSRoute",), True), (("TLSRoute", "TCPRoute"), True),
        (("HTTPRoute",), False)]


def test_first_listener_wins_a_conflict() -> None:
    s = snap(gateway("  - {name: web, port: 80, protocol: HTTP}\n  - {name: raw, port: 80, protocol: TCP}\n"
                     "  - {name: web2, port: 80, protocol: HTTP, hostname: a.com}\n"))
    slots = merged(the(s, "KubernetesGateway", "infra", "gw"), s.against(None))
    assert [(x.listener.name, x.lost_to.listener.name if x.lost_to else None, x.reason) for x in slots] == [
        ("web", None, ""), ("raw", "web", "ProtocolConflict"), ("web2", None, "")]


def test_listener_rename_is_told_from_remove_and_add() -> None:
    before = load(gateway("  - {name: http, port: 80, protocol: HTTP}\n  - {name: tls, port: 443, protocol: TLS, "
                          "tls: {mode: Passthrough}}\n"))[0]
    after = load(gateway("  - {name: web, port: 80, protocol: HTTP}\n  - {name: sni, port: 8443, protocol: TLS, "
                         "tls: {mode: Passthrough}}\n"))[0]
    assert renames(before, after) == {"http": "web"}  # tls changed its port too: removed and added


def test_gateway_rename_is_a_delete_and_a_create_with_the_same_listeners() -> None:
    base = snap(gateway(HTTP, name="old"))
    head = snap(gateway(HTTP, name="new") + gateway(HTTP.replace("80", "81"), name="other"))
    assert {k[2]: v.name for k, v in gateway_renames(head.against(base)).items()} == {"old": "new"}


ATTACH = gateway(
    "  - {name: http, port: 80, protocol: HTTP, hostname: '*.example.com', allowedRoutes: {namespaces: {from: Same}}}\n"
    "  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: All}}}\n"
    "  - name: sel\n    port: 8080\n    protocol: HTTP\n    allowedRoutes:\n      namespaces:\n        from: Selector\n"
    "        selector: {matchLabels: {gw: 'yes'}}\n")


@pytest.mark.parametrize(("ns", "parent", "hosts", "state", "reason"), [
    ("infra", "{name: gw, sectionName: http}", "[a.example.com]", "attached", "Accepted"),
    ("infra", "{name: gw, sectionName: htp}", "[a.example.com]", "detached", "NoMatchingParent"),
    ("infra", "{name: gw, port: 81}", "[a.example.com]", "detached", "NoMatchingParent"),
    ("infra", "{name: gw, sectionName: http, port: 443}", "[a.example.com]", "detached", "NoMatchingParent"),
    ("infra", "{name: gw, sectionName: http}", "[example.com]", "detached", "NoMatchingListenerHostname"),
    ("shop", "{name: gw, namespace: infra, sectionName: http}", "[a.example.com]", "detached", "NotAllowedByListeners"),
    ("shop", "{name: gw, namespace: infra, sectionName: tls}", "[a.example.com]", "detached", "NotAllowedByListeners"),
    # NotAllowedByListeners (tls takes no HTTPRoute) outranks NoMatchingListenerHostname (http) across listeners
    ("shop", "{name: gw, namespace: infra, port: 443}", "[a.example.com]", "detached", "NotAllowedByListeners"),
    ("shop", "{name: gw, namespace: infra, sectionName: sel}", "[a.example.com]", "unknown", ""),
    ("shop", "{name: gone, namespace: infra}", "[a.example.com]", "detached", "ParentNotFound"),  # infra's are here
    ("shop", "{name: gw, namespace: edge}", "[a.example.com]", "unseen", ""),  # no Gateway of edge is here
])
def test_attachment_reasons(ns: str, parent: str, hosts: str, state: str, reason: str) -> None:
    s = snap(ATTACH + http_route("r", f"  parentRefs: [{parent}]\n  hostnames: {hosts}\n", ns=ns))
    (result,) = evaluate(the(s, "HTTPRoute", ns, "r"), s.against(None))
    assert (result.state, result.reason) == (state, reason)


def test_namespace_labels_from_the_repository_decide_a_selector() -> None:
    ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {gw: 'yes'}}\n---\n"
    s = snap(ATTACH + ns + http_route("r", "  parentRefs: [{name: gw, namespace: infra, sectionName: sel}]\n", ns="shop"))
    (result,) = evaluate(the(s, "HTTPRoute", "shop", "r"), s.against(None))
    assert result.attached and [x.host for x in result.served] == ["*"]
    assert the(s, "Namespace", "", "shop").key == ("Namespace", "", "shop")


def test_served_hosts_are_cut_to_the_listener_and_isolated() -> None:
    s = snap(gateway("  - {name: wild, port: 80, protocol: HTTP, hostname: '*.example.com'}\n"
                     "  - {name: exact, port: 80, protocol: HTTP, hostname: api.example.com}\n")
             + http_route("r", "  parentRefs: [{name: gw, sectionName: wild}]\n"
                               "  hostnames: ['*.com', api.example.com, www.example.com]\n"))
    (result,) = evaluate(the(s, "HTTPRoute", "infra", "r"), s.against(None))
    # api.example.com belongs to the more specific listener (Istio's listener isolation)
    assert sorted(x.host for x in result.served) == ["*.example.com", "www.example.com"]


def test_mesh_parent_is_the_service_host() -> None:
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: shop}\nspec: {ports: [{port: 9080}]}\n---\n"
    route_yaml = http_route("r", "  parentRefs: [{group: '', kind: Service, name: reviews, port: 9080}]\n", ns="shop")
    s = snap(svc + route_yaml)
    (result,) = evaluate(the(s, "HTTPRoute", "shop", "r"), s.against(None))
    assert result.attached and [(x.host, x.port) for x in result.served] == [("reviews.shop.svc.cluster.local", 9080)]
    base = s
    head = snap(route_yaml + "apiVersion: v1\nkind: Service\nmetadata: {name: other, namespace: shop}\n---\n")
    (gone,) = evaluate(the(head, "HTTPRoute", "shop", "r"), head.against(base))
    assert (gone.state, gone.reason, gone.why_absent) == ("detached", "NoMatchingParent", "which this change removes")


def test_presence_is_unknown_outside_namespaces_the_repository_keeps() -> None:
    s = snap("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\n---\n")
    assert s.against(None).lookup("Service", "shop", "b").presence is Presence.ABSENT
    assert s.against(None).lookup("Service", "other", "b").presence is Presence.UNKNOWN


BACKENDS = http_route("r", """  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {name: web, port: 80, weight: 3}
    - {name: gone, port: 80, weight: 1}
    - {name: far, namespace: backend, port: 80, weight: 0}
  - backendRefs:
    - {name: far, namespace: backend, port: 80}
    - {kind: Bucket, group: storage.example.com, name: b, port: 80}
""") + "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: infra}\n---\n"


def test_backends_that_fail_and_their_share() -> None:
    s = snap(BACKENDS)
    res = the(s, "HTTPRoute", "infra", "r")
    found = {(f.ref.rule, f.ref.name): f.reason for f in failing(res, s.against(None))}
    # weight 0 is never built; "far" in rule 1 has no grant; Bucket is a kind Istio does not know
    assert found == {(0, "gone"): "BackendNotFound", (1, "far"): "RefNotPermitted", (1, "b"): "InvalidKind"}
    rule = route(res).rules[0]
    assert share(rule, [rule.backends[1]]) == (1, 4) and percent(1, 4) == "25%" and percent(1, 40) == "2.5%"


def test_mesh_only_routes_skip_reference_grants() -> None:
    text = BACKENDS.replace("parentRefs: [{name: gw}]", "parentRefs: [{kind: Service, group: '', name: web}]")
    s = snap(text)
    reasons = {f.ref.name: f.reason for f in failing(the(s, "HTTPRoute", "infra", "r"), s.against(None))}
    assert "far" not in reasons and reasons["gone"] == "BackendNotFound"


def test_istio_drops_whole_routes() -> None:
    res = load(http_route("r", """  parentRefs: [{name: gw}]
  rules:
  - filters: [{type: ExtensionRef, extensionRef: {group: x.io, kind: Auth, name: a}}]
    backendRefs: [{name: web, port: 80}]
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - name: x-note
          value: |
            two lines
    backendRefs: [{name: web.infra.svc.cluster.local, port: 80}]
  - backendRefs: [{name: skipped.dotted, port: 80, weight: 0}]
"""))[0]
    assert [(d.reason, d.path) for d in drops(res)] == [
        ("InvalidFilter", ("spec", "rules", 0, "filters", 0)),
        ("InvalidFilter", ("spec", "rules", 1, "filters", 0)),
        ("InvalidDestination", ("spec", "rules", 1, "backendRefs", 0))]


def test_workloads_one_per_gateway_unless_a_service_is_shared() -> None:
    s = snap(gateway(HTTP, name="a") + gateway(HTTP, name="b")
             + gateway(HTTP, name="c", extra="  addresses: [{type: Hostname, value: ingress}]\n")
             + gateway(HTTP, name="d", extra="  addresses: [{type: Hostname, value: ingress.infra.svc.cluster.local}]\n")
             + gateway(HTTP, name="e").replace("metadata: {name: e, namespace: infra}",
                                               "metadata: {name: e, namespace: infra, annotations: "
                                               "{gateway.istio.io/name-override: a-istio}}"))
    a, b, c, d, e = (the(s, "KubernetesGateway", "infra", n) for n in "abcde")
    assert workload(a).services == {"a-istio.infra.svc.cluster.local"} and workload(a).managed
    assert not share_workload(a, b) and share_workload(c, d) and share_workload(a, e)


def test_order_by_timestamp_change_and_name() -> None:
    old = load(http_route("b", "  parentRefs: [{name: gw}]\n"))[0]
    new = load(http_route("a", "  parentRefs: [{name: gw}]\n"))[0]
    base = Snapshot.build([old])
    assert order(old, new, base) == order(new, old, base) and order(old, new, base).first is old
    assert order(old, new, base).how is How.CHANGE
    assert order(old, new, None).how is How.UNKNOWN
    assert order(old, new, Snapshot.build([])).first is new  # both new: created together, name order
    stamped = [replace(r, body={**r.body, "metadata": {**r.metadata, "creationTimestamp": t}}) for r, t in ((old, "2024-05-01T00:00:00Z"), (new, "2023-01-01T00:00:00Z"))]
    assert order(stamped[0], stamped[1], base).first is stamped[1]


def test_identical_matches_clash_and_http_grpc_merge() -> None:
    s = snap(gateway(HTTP)
             + http_route("one", "  parentRefs: [{name: gw}]\n  hostnames: [a.com]\n  rules:\n"
                                 "  - matches: [{path: {type: PathPrefix, value: /api}}]\n    backendRefs: [{name: x, port: 1}]\n")
             + http_route("two", "  parentRefs: [{name: gw}]\n  hostnames: [a.com, b.com]\n  rules:\n"
                                 "  - matches: [{path: {type: PathPrefix, value: /api/}}]\n    backendRefs: [{name: y, port: 1}]\n"
                                 "  - matches: [{path: {type: Exact, value: /api}}]\n    backendRefs: [{name: y, port: 1}]\n")
             + http_route("rpc", "  parentRefs: [{name: gw}]\n  hostnames: [b.com]\n", kind="GRPCRoute"))
    found = [(c.a.name, c.rule_a, c.b.name, c.rule_b, c.served.host, c.same_effect) for c in clashes(s.against(None))]
    assert found == [("one", 0, "two", 0, "a.com", False)]
    assert [(m.http.name, m.grpc.name, m.served.host) for m in merges(s.against(None))] == [("two", "rpc", "b.com")]


def test_gamma_route_and_virtual_service_for_one_host() -> None:
    s = snap("apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: shop}\n---\n"
             + http_route("r", "  parentRefs: [{kind: Service, group: '', name: reviews, namespace: shop}]\n", ns="front")
             + "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: shop}\n"
               "spec: {hosts: [reviews]}\n---\n"
             + "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: edge, namespace: shop}\n"
               "spec: {hosts: [reviews], gateways: [istio-system/public]}\n")
    assert [(o.route.name, o.virtual_service.name, o.consumer) for o in overlaps(s.against(None))] == [("r", "reviews", True)]


def test_loader_reads_every_gateway_api_version() -> None:
    docs = []
    for kind, version in (("HTTPRoute", "v1beta1"), ("TLSRoute", "v1alpha2"), ("TCPRoute", "v1alpha2"),
                          ("GRPCRoute", "v1"), ("ReferenceGrant", "v1alpha2"), ("ListenerSet", "v1")):
        docs.append(yaml.safe_dump({"apiVersion": f"gateway.networking.k8s.io/{version}", "kind": kind,
                                    "metadata": {"name": kind.lower(), "namespace": "shop"}}))
    docs.append("apiVersion: example.com/v1\nkind: HTTPRoute\nmetadata: {name: other}\n")
    kinds = [r.kind for r in load("---\n".join(docs))]
    assert kinds == ["HTTPRoute", "TLSRoute", "TCPRoute", "GRPCRoute", "ReferenceGrant", "ListenerSet"]


def test_only_gateways_of_istios_gateway_controller_are_judged() -> None:
    klass = ("apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: %s}\n"
             "spec: {controllerName: %s}\n---\n")
    s = snap(klass % ("cloud", "example.com/lb") + klass % ("custom-istio", "istio.io/gateway-controller")
             + gateway(HTTP, name="a").replace("istio", "cloud", 1) + gateway(HTTP, name="b").replace("istio", "custom-istio", 1)
             + gateway(HTTP, name="c").replace("istio", "istio-waypoint", 1) + gateway(HTTP, name="d").replace("istio", "anything", 1))
    got = {n: controller(the(s, "KubernetesGateway", "infra", n), s) for n in "abcd"}
    assert got == {"a": None, "b": "istio.io/gateway-controller", "c": "istio.io/mesh-controller",
                   "d": "istio.io/gateway-controller"}  # a class the repository does not define: assumed Istio's
    assert the(s, "GatewayClass", "", "cloud").key == ("GatewayClass", "", "cloud")


def test_cluster_scoped_kinds_stand_in_no_namespace() -> None:
    from bot.mesh import Mesh

    mesh = Mesh(load("apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: istio}\n---\n"
                     "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: ignored}\n"), Config())
    assert [r.key for r in mesh.resources] == [("GatewayClass", "", "istio"), ("Namespace", "", "shop")]
    assert [r.display for r in mesh.resources] == ["GatewayClass istio", "Namespace shop"]
    assert mesh.namespaces == ["istio-system"]  # as before Namespaces were read: their names are no client namespace
    assert mesh.gateway_api.namespace("shop") is mesh.resources[1]
