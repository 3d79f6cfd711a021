"""Gateway API review end to end: the listener-rename PR, introduced versus earlier findings, mixed
repositories, and agreement with the Gateway API conformance suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.render import markdown
from bot.rules import BY_ID
from tests.helpers import audit, diff, lines, load_script
from tests.test_gatewayapi_plan import GRANT
from tests.test_markdown import LINK, check_golden, tree

FIXTURES = Path(__file__).parent / "rules"
CONFORMANCE = Path(__file__).parent / "conformance" / "gateway-api"
MIXED = Path(__file__).parent / "mixed"


def _case(rule: str, case: str) -> tuple[dict[str, str], dict[str, str]]:
    d = FIXTURES / rule / case
    base = {"manifest.yaml": (d / "base.yaml").read_text()} if (d / "base.yaml").exists() else {}
    return base, {"manifest.yaml": (d / "head.yaml").read_text()}


def test_listener_rename_fails_the_check_naming_route_and_host(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    base, head = _case("route-detached", "fires")
    for side, files in (("base", base), ("head", head)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "gateway-and-route.yaml").write_text(files["manifest.yaml"])
    code = main(["diff", "--base-dir", str(tmp_path / "base"), "--head-dir", str(tmp_path / "head"),
                 "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    (found,) = [f for f in report["findings"] if f["rule"] == "route-detached"]
    assert found["severity"] == "error" and found["introduced"] is True
    assert (found["resource"]["kind"], found["resource"]["namespace"], found["resource"]["name"]) == (
        "HTTPRoute", "shop", "storefront")
    assert "shop.example.com" in found["message"] and "renames listener http to web" in found["message"]
    assert "sectionName to web" in found["fix"]
    code = main(["diff", "--base-dir", str(tmp_path / "base"), "--head-dir", str(tmp_path / "base")])
    assert code == 0  # nothing changed: nothing detached
    capsys.readouterr()


def test_routes_and_grants_are_in_the_changes() -> None:
    report = diff(*_case("route-backend-unresolved", "fires-grant-removed"))
    assert [(c.resource.kind, c.resource.namespace, c.resource.name, c.change) for c in report.changes] == [
        ("ReferenceGrant", "payments", "routes-from-edge", "removed")]


def test_a_hazard_already_at_the_base_is_not_introduced() -> None:
    _, head = _case("route-unattached", "fires")
    changed = head["manifest.yaml"].replace("  - status.example.com", "  - status.example.com\n  - health.example.com")
    report = diff(head, {"manifest.yaml": changed})
    assert lines(report, "route-unattached") == [
        "warning route-unattached HTTPRoute infra/status manifest.yaml:32 pre-existing"]
    assert report.failing("warning") == []


def test_audit_runs_snapshot_rules_only() -> None:
    _, head = _case("route-detached", "fires")
    report = audit(head)
    assert lines(report, "route-detached") == []  # it compares base and head
    assert lines(report, "route-unattached") == [
        "warning route-unattached HTTPRoute shop/storefront manifest.yaml:23 pre-existing"]


def test_share_of_traffic_comes_from_the_weights() -> None:
    report = diff(*_case("route-backend-unresolved", "fires"))
    (found,) = [f for f in report.findings if f.rule == "route-backend-unresolved"]
    assert "10% (weight 10 of 100)" in found.message and "cart-v2" in found.message and "HTTP 500" in found.message


def test_istio_and_gateway_api_for_one_host_are_reviewed_together() -> None:
    base, head = _case("mesh-route-vs-conflict", "fires")
    head_text = head["manifest.yaml"] + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: edge
  namespace: shop
spec:
  hosts:
  - shop.example.com
  gateways:
  - infra/public            # a Gateway API Gateway, by ns/name
  http:
  - route:
    - destination:
        host: reviews
"""
    report = diff(base, {"manifest.yaml": head_text})
    rules = {f.rule for f in report.findings}
    assert "mesh-route-vs-conflict" in rules
    assert "reference-missing" in rules  # infra/public is neither an Istio nor a Gateway API Gateway here
    gateway = """---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: infra
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    port: 80
    protocol: HTTP
"""
    report = diff(base, {"manifest.yaml": head_text + gateway})
    assert "reference-missing" not in {f.rule for f in report.findings}


def test_a_repository_with_istio_and_gateway_api_for_one_host_is_reviewed_together() -> None:
    """tests/mixed: shop.example.com moves from an Istio Gateway and VirtualService to a Gateway API
    Gateway and HTTPRoute, and reviews gets a mesh route next to its VirtualService's new canary."""
    report = diff(tree(MIXED / "base"), tree(MIXED / "head"))
    assert lines(report) == [
        "error route-backend-unresolved HTTPRoute shop/storefront shop/routing.yaml:31",
        "warning mesh-route-vs-conflict HTTPRoute shop/reviews shop/routing.yaml:45",
        "warning subset-add-order VirtualService shop/reviews shop/routing.yaml:69",
    ]
    applied = [[report.label(s.resource) for s in st.steps] for st in report.plan.stages]
    assert applied == [
        ["DestinationRule shop/reviews", "HTTPRoute shop/reviews", "Gateway (gateway.networking.k8s.io) infra/public",
         "Namespace shop"],
        ["VirtualService shop/reviews"],
    ]
    # the route with the error waits for its fix, and so does the VirtualService that hands it the host
    assert [report.label(r) for r in report.plan.left_out] == ["HTTPRoute shop/storefront",
                                                              "VirtualService shop/storefront"]
    granted = {**tree(MIXED / "head"), "shop/grant.yaml": GRANT}
    fixed = diff(tree(MIXED / "base"), granted)
    assert "route-backend-unresolved" not in {f.rule for f in fixed.findings} and fixed.plan.left_out == ()
    assert [[fixed.label(s.resource) for s in st.steps] for st in fixed.plan.stages] == [
        ["DestinationRule shop/reviews", "HTTPRoute shop/reviews", "Gateway (gateway.networking.k8s.io) infra/public",
         "Namespace shop", "ReferenceGrant payments/from-shop"],
        ["HTTPRoute shop/storefront", "VirtualService shop/reviews"],  # after the Gateway, label, grant and subset
        ["VirtualService shop/storefront"],  # let go only once the route serves shop.example.com
    ]
    assert "point DNS for shop.example.com at it before VirtualService shop/storefront" in fixed.plan.stages[2].notes[0]
    text = markdown.render(report, link_base=LINK)
    check_golden("comments/mixed.md", text)
    assert "| ✏️ modified | Namespace | shop | label gateway-access=public added |" in text


def test_annotation_opts_a_route_out() -> None:
    base, head = _case("route-detached", "fires")
    quiet = head["manifest.yaml"].replace("  name: storefront\n  namespace: shop\n",
                                          "  name: storefront\n  namespace: shop\n  annotations:\n"
                                          "    istio-pr-bot.io/ignore: route-detached\n")
    report = diff(base, {"manifest.yaml": quiet})
    assert lines(report, "route-detached") == [] and [s.finding.rule for s in report.suppressed] == ["route-detached"]


def test_conformance_agreement_and_its_explained_differences() -> None:
    script = load_script("conformance_gateway_api")
    results, ref = script.run(str(CONFORMANCE))
    differ = sorted(case["id"] for case, ok, _ in results if not ok)
    assert ref == "v1.6.1" and len(results) == 40
    assert differ == sorted(script.KNOWN)  # every disagreement is one the README explains


def test_a_listener_moved_to_another_port_is_named() -> None:
    base, _ = _case("route-detached", "fires-listener-hostname-narrowed")
    moved = base["manifest.yaml"].replace("port: 80", "port: 8080")
    (found,) = [f for f in diff(base, {"manifest.yaml": moved}).findings if f.rule == "route-detached"]
    assert "on port 80" in found.message and "moves listener http from port 80 to 8080" in found.message


GATEWAY_API_RULES = ("route-detached", "route-unattached", "route-backend-unresolved", "route-backend-port",
                     "route-dropped-by-istio", "route-conflict", "route-http-grpc-merged", "mesh-route-vs-conflict",
                     "listener-conflict", "listener-invalid", "listener-certificate-unresolved",
                     "https-connection-reuse", "gateway-workload-replaced")


@pytest.mark.parametrize("rule_id", GATEWAY_API_RULES)
def test_each_gateway_api_rule_says_where_istio_differs_from_the_specification(rule_id: str) -> None:
    spec = getattr(BY_ID[rule_id], "SPEC", "")
    assert len(spec) > 150 and "specification" in spec and "istio" in spec.lower()
    page = (Path(__file__).resolve().parent.parent / "docs" / "rules" / f"{rule_id}.md").read_text()
    assert f"## Istio and the Gateway API specification\n\n{spec}\n" in page
    fires = sorted(p for p in (FIXTURES / rule_id).glob("fires*") if p.is_dir())[0]
    assert (fires / "base.yaml").exists(), "the first firing case shows a before and an after"



LISTENER_SET_PARENT = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  gatewayClassName: istio
  allowedListeners: {namespaces: {from: {allowed}}}
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: team-a, namespace: infra}
spec:
  parentRef: {name: public}
  listeners:
  - {name: a, port: 8080, protocol: HTTP, hostname: a.example.com, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: team-a}
spec:
  parentRefs: [{kind: ListenerSet, name: team-a, namespace: infra, sectionName: a}]
  hostnames: [a.example.com]
"""


def test_a_route_on_a_listener_set_detaches_when_only_its_gateway_changes() -> None:
    base = {"m.yaml": LISTENER_SET_PARENT.replace("{allowed}", "Same")}
    head = {"m.yaml": LISTENER_SET_PARENT.replace("  allowedListeners: {namespaces: {from: {allowed}}}\n", "")}
    assert [c.resource.display for c in diff(base, head).changes] == ["Gateway infra/public"]
    assert lines(diff(base, head), "route-detached") == ["error route-detached HTTPRoute team-a/a m.yaml:21"]
