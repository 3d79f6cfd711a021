"""Per-port mutual TLS (bot/istio/mtls_ports.py): PeerAuthentication tiers, DestinationRule port entries."""

from __future__ import annotations

from typing import Any

from bot.istio.mtls_ports import (
    DISABLE,
    PERMISSIVE,
    STRICT,
    PeerAuth,
    check_ports,
    client_tls,
    conflict,
    inert_dr_ports,
    inert_pa_ports,
    read_peer_authentication,
    server_mode,
    service_ports,
)

ROOT = "istio-system"
APP = {"app": "inventory"}


def pa(namespace: str, name: str, **spec: Any) -> PeerAuth:
    return read_peer_authentication(namespace, name, spec)


MESH_STRICT = pa(ROOT, "default", mtls={"mode": "STRICT"})
WORKLOAD = pa("shop", "inventory", selector={"matchLabels": APP}, mtls={"mode": "STRICT"},
              portLevelMtls={8080: {"mode": "DISABLE"}, "9090": {"mode": "UNSET"}})
SERVICE = {"ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "grpc", "port": 9090},
                     {"name": "admin", "port": 15000, "targetPort": "admin"}]}


def test_tiers_and_inheritance() -> None:
    assert server_mode([], "shop", APP, 8080, ROOT).mode == PERMISSIVE
    assert server_mode([], "shop", APP, 8080, ROOT, mesh_mode=STRICT).mode == STRICT
    local = pa("shop", "default", mtls={"mode": "PERMISSIVE"})
    result = server_mode([MESH_STRICT, local], "shop", APP, 8080, ROOT)
    assert (result.mode, result.source) == (PERMISSIVE, local)
    unset = pa("shop", "default", mtls={"mode": "UNSET"})
    assert server_mode([MESH_STRICT, unset], "shop", APP, 8080, ROOT).source is MESH_STRICT


def test_port_level_keys_are_target_ports() -> None:
    at_8080 = server_mode([MESH_STRICT, WORKLOAD], "shop", APP, 8080, ROOT)
    assert (at_8080.mode, at_8080.port_level) == (DISABLE, True)
    assert server_mode([MESH_STRICT, WORKLOAD], "shop", APP, 80, ROOT).mode == STRICT
    assert server_mode([WORKLOAD], "shop", APP, 9090, ROOT).mode == STRICT  # UNSET inherits the workload mode
    assert server_mode([MESH_STRICT, WORKLOAD], "shop", {"app": "other"}, 8080, ROOT).mode == STRICT
    assert server_mode([MESH_STRICT, WORKLOAD], "shop", None, 8080, ROOT).mode == STRICT  # labels unknown


def test_root_namespace_selector_policy_is_ignored() -> None:
    root_selector = pa(ROOT, "pinned", selector={"matchLabels": APP}, mtls={"mode": "DISABLE"})
    result = server_mode([MESH_STRICT, root_selector], "shop", APP, 8080, ROOT)
    assert result.mode == STRICT and root_selector in result.ignored


def test_second_policy_of_a_tier_is_ignored() -> None:
    second = pa("shop", "zz", selector={"matchLabels": APP}, mtls={"mode": "PERMISSIVE"})
    result = server_mode([WORKLOAD, second], "shop", APP, 80, ROOT)
    assert result.source is WORKLOAD and second in result.ignored


def test_client_port_entries_replace_and_subsets_override() -> None:
    dr = {"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}, "portLevelSettings": [
        {"port": {"number": 80}, "tls": {"mode": "DISABLE"}},
        {"port": {"number": 9090}, "connectionPool": {"tcp": {"maxConnections": 5}}}]},
        "subsets": [{"name": "v2", "trafficPolicy": {"tls": {"mode": "SIMPLE"}}},
                    {"name": "v3", "trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}}]}},
                    {"name": "v4", "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}}}]}
    assert client_tls(dr, 80).mode == DISABLE
    assert client_tls(dr, 80).path == ("spec", "trafficPolicy", "portLevelSettings", 0, "tls", "mode")
    assert client_tls(dr, 9090).mode is None  # the port entry replaces the top level: no tls
    assert client_tls(dr, 443).mode == "ISTIO_MUTUAL"
    assert client_tls(dr, 80, "v2").mode == "SIMPLE"
    assert client_tls(dr, 80, "v3").mode is None and client_tls(dr, 80, "v3").port_entry
    assert client_tls(dr, 80, "v4").mode == DISABLE


def test_service_port_mapping() -> None:
    mapped = {(m.port, m.target, m.target_name) for m in service_ports(SERVICE)}
    assert mapped == {(80, 8080, None), (9090, 9090, None), (15000, None, "admin")}
    assert service_ports(SERVICE, {"admin": 15001})[2].target == 15001


def test_disable_on_exactly_the_disabled_port_is_fine() -> None:
    dr = {"trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}, "tls": {"mode": "DISABLE"}}]}}
    checks = {c.mapping.port: c for c in check_ports(dr, SERVICE, [MESH_STRICT, WORKLOAD], "shop", APP, ROOT)}
    assert checks[80].conflict is None
    assert checks[15000].unknown and checks[15000].conflict is None


def test_both_directions_conflict() -> None:
    disable_all = {"trafficPolicy": {"tls": {"mode": "DISABLE"}}}
    checks = {c.mapping.port: c for c in check_ports(disable_all, SERVICE, [MESH_STRICT, WORKLOAD], "shop", APP, ROOT)}
    assert checks[80].conflict is None and checks[9090].conflict is not None
    mutual = {"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
    checks = {c.mapping.port: c for c in check_ports(mutual, SERVICE, [MESH_STRICT, WORKLOAD], "shop", APP, ROOT)}
    assert checks[80].conflict is not None and "plaintext" in checks[80].conflict.reason
    assert checks[9090].conflict is None


def test_auto_mtls_never_conflicts_unless_off() -> None:
    strict = server_mode([MESH_STRICT], "shop", APP, 80, ROOT)
    auto = client_tls({}, 80)
    assert conflict(auto, strict) is None and conflict(auto, strict, auto_mtls=False) is not None


def test_port_keys_written_on_the_wrong_side() -> None:
    dr = {"trafficPolicy": {"portLevelSettings": [{"port": {"number": 8080}, "tls": {"mode": "DISABLE"}}]}}
    assert inert_dr_ports(dr, SERVICE) == [(8080, 80, ("spec", "trafficPolicy", "portLevelSettings", 0, "port", "number"))]
    wrong = pa("shop", "inventory", selector={"matchLabels": APP}, portLevelMtls={80: {"mode": "DISABLE"}})
    assert inert_pa_ports(wrong, [SERVICE]) == [(80, 8080)]
    assert inert_pa_ports(WORKLOAD, [SERVICE]) == []
