"""What findings on rule fixtures say: the facts a reviewer acts on (hosts, ports, subsets, what to do
first), beyond the rule, resource and line their goldens pin."""

from __future__ import annotations

from pathlib import Path

from bot.analyze import load_config
from bot.findings import Finding
from tests.helpers import diff

RULES = Path(__file__).parent / "rules"


def findings(case: str) -> list[Finding]:
    """The findings of the case's own rule."""
    folder = RULES / case
    base = {"manifest.yaml": (folder / "base.yaml").read_text()} if (folder / "base.yaml").exists() else {}
    config = load_config((folder / "config.yaml").read_text()) if (folder / "config.yaml").exists() else None
    report = diff(base, {"manifest.yaml": (folder / "head.yaml").read_text()}, config)
    return [f for f in report.findings if f.rule == folder.parent.name]


def only(case: str) -> Finding:
    found = findings(case)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


def test_subset_remove_order_lists_the_subsets_once_and_says_delete() -> None:
    f = only("subset-remove-order/fires-one-finding-per-pair")
    assert "subsets v1 and v2" in f.message
    f = only("subset-remove-order/fires-virtual-service-deleted-with-rule")
    assert "deletes DestinationRule bookinfo/reviews together with VirtualService bookinfo/reviews" in f.message
    assert "moves" not in f.message and f.fix.startswith("delete VirtualService bookinfo/reviews first")


def test_subset_missing_names_the_delegates_real_clients() -> None:
    f = only("subset-missing/fires-subset-via-delegate")
    assert "clients in istio-system" in f.message and "VirtualService edge/shop" in f.message
    assert "all clients" not in f.message


def test_dr_lookup_path_does_not_advise_moving_a_workload_selected_rule() -> None:
    f = only("dr-lookup-path/fires-workload-selected-rule-hides-owner-for-others")
    assert "subset v2" in f.message and "57719" in f.message and "move" not in f.fix


def test_dr_tls_conflict_names_the_ports_where_the_modes_meet() -> None:
    f = only("dr-tls-conflict/fires-top-level-disable-names-the-strict-ports-only")
    assert "service port 9090" in f.message and " 80" not in f.message
    f = only("dr-tls-conflict/fires-istio-mutual-to-plaintext-port")
    assert "ISTIO_MUTUAL" in f.message and "port 80 (target 8080)" in f.message and "9090" not in f.message
    f = only("dr-tls-conflict/fires-unknown-named-target-port")
    assert "unknown" in f.message and "http-web" in f.message
    f = only("dr-tls-conflict/fires-dr-key-is-a-target-port")
    assert "port 8080" in f.message and "target port of its port 80" in f.message


def test_gateway_shared_certificate_says_which_host_gets_404() -> None:
    f = only("gateway-shared-certificate/fires-wildcard-covers-another-gateway")
    assert "wildcard-cert" in f.message and "covers shop.example.com" in f.message and "404" in f.message
    assert [r.display for r in f.related] == ["Gateway edge/www"]
    f = only("gateway-shared-certificate/fires-two-servers-of-one-gateway")
    assert "a.example.com (server 0) and b.example.com (server 1)" in f.message


def test_vs_host_unserved_names_the_host_and_the_virtual_service() -> None:
    f = only("vs-host-unserved/fires-namespace-filter-narrowed")
    assert "shop.example.com" in f.message and "VirtualService shop/storefront" in f.message and "404" in f.message


def test_exportto_narrowed_names_the_client_configuration_that_proves_use() -> None:
    f = only("exportto-narrowed/fires-service-annotation-client-dr")
    assert "DestinationRule web/details-client" in f.message and "nothing in this repository" not in f.message
    assert [r.display for r in f.related] == ["DestinationRule web/details-client"]
    f = only("exportto-narrowed/fires-policy-lost-dr-exportto-client-vs")
    assert "VirtualService web/details" in f.message and "TLS ISTIO_MUTUAL" in f.message
    f = only("exportto-narrowed/fires-root-loses-its-delegate")
    assert "delegate of VirtualService edge/shop (route /cart)" in f.message
    assert "web.shop.svc.cluster.local" in f.message


def test_reference_missing_says_what_the_delegating_route_becomes() -> None:
    f = only("reference-missing/fires-root-delegate-deleted")
    assert "delegates /cart to VirtualService cart/cart, which this change deletes" in f.message
    assert "web.shop.svc.cluster.local" in f.message and f.fix.startswith("remove the delegation")
    f = only("reference-missing/fires-root-delegate-gains-hosts")
    assert "has hosts" in f.message


def test_dr_move_order_names_who_loses_what() -> None:
    f = only("dr-move-order/fires-move-narrower-exportto")
    assert "clients in shop" in f.message and "traffic policy" in f.message and "bookinfo," not in f.message
    f = only("dr-move-order/fires-rename")
    assert "replaces DestinationRule bookinfo/reviews" in f.message and "subsets v1 and v2" in f.message
    f = only("dr-move-order/fires-short-host-moved")
    assert "reviews.istio-system.svc.cluster.local" in f.message and f.fix.startswith("write the full host name")
    f = only("dr-move-order/fires-rename-without-a-used-subset")
    assert "without its subset v2" in f.message


def test_sidecar_scope_narrowed_names_the_lost_host_the_evidence_and_the_effect() -> None:
    f = only("sidecar-scope-narrowed/fires-registry-only")
    assert "details.shop.svc.cluster.local" in f.message and "DestinationRule bookinfo/details-client" in f.message
    assert "502" in f.message and "shop/details.shop.svc.cluster.local" in f.fix
    f = only("sidecar-scope-narrowed/fires-allow-any-strict-server")
    assert "PassthroughCluster" in f.message and "PeerAuthentication shop/default" in f.message
    f = only("sidecar-scope-narrowed/fires-short-name-in-egress")
    assert "shop/details is not expanded" in f.message
    f = only("sidecar-scope-narrowed/fires-root-default-sidecar")
    assert "workloads in web" in f.message and "shop" not in f.message.split("stop importing")[0]
    f = only("sidecar-scope-narrowed/fires-workload-sidecar")
    assert "instead of Sidecar bookinfo/default" in f.message and "not REGISTRY_ONLY" in f.message
    assert only("sidecar-scope-narrowed/fires-mesh-registry-only").severity.value == "error"
    f = only("reference-missing/fires-root-delegate-match-outside-the-root")
    assert "http[0]" in f.message and "not within /cart" in f.message and f.resource.display == "VirtualService cart/cart"
