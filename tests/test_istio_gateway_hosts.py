"""Gateway served hosts and fragment meeting (bot/istio/gateway_hosts.py)."""

from __future__ import annotations

from typing import Any

from bot.istio.gateway_hosts import admitted, fragments_meet, read_server_hosts, route_types, served, unserved_hosts


def server(hosts: list[str], protocol: str = "HTTPS", mode: str | None = "SIMPLE") -> dict[str, Any]:
    entry: dict[str, Any] = {"port": {"number": 443, "name": "https", "protocol": protocol}, "hosts": hosts}
    if mode:
        entry["tls"] = {"mode": mode, "credentialName": "c"}
    return entry


def gw(*servers: dict[str, Any]) -> Any:
    return read_server_hosts("edge", {"servers": list(servers)})


HTTP_VS = {"hosts": ["shop.example.com"], "http": [{"route": [{"destination": {"host": "web"}}]}]}
TLS_VS = {"hosts": ["shop.example.com"], "tls": [{"match": [{"sniHosts": ["shop.example.com"]}],
                                                  "route": [{"destination": {"host": "web"}}]}]}


def test_namespace_filters() -> None:
    servers = gw(server(["./a.example.com", "shop/b.example.com", "*/c.example.com", "d.example.com"]))
    assert admitted(servers, "shop") == ["b.example.com", "c.example.com", "d.example.com"]
    assert admitted(servers, "edge") == ["a.example.com", "c.example.com", "d.example.com"]
    assert admitted(gw(server(["shop/x.example.com", "*/*"])), "other") == ["*"]


def test_served_is_the_intersection_with_wildcards() -> None:
    assert served("shop.example.com", ["*.example.com"])
    assert served("*.example.com", ["shop.example.com"])
    assert not served("shop.example.org", ["*.example.com"])


def test_route_types_by_server() -> None:
    http = gw(server(["*.example.com"]))
    passthrough = gw(server(["*.example.com"], protocol="TLS", mode="PASSTHROUGH"))
    assert admitted(http, "shop", "http") and not admitted(http, "shop", "tls")
    assert admitted(passthrough, "shop", "tls") and not admitted(passthrough, "shop", "http")
    assert route_types(HTTP_VS) == {"http"} and route_types(TLS_VS) == {"tls"}


def test_unserved_after_a_gateway_change() -> None:
    before = gw(server(["shop.example.com", "www.example.com"]))
    after = gw(server(["www.example.com"]))
    assert unserved_hosts("shop", HTTP_VS, before, after) == ["shop.example.com"]
    narrowed = gw(server(["web/*.example.com"]))
    assert unserved_hosts("shop", HTTP_VS, gw(server(["*.example.com"])), narrowed) == ["shop.example.com"]
    assert unserved_hosts("shop", HTTP_VS, before, gw(server(["*.example.com"]))) == []
    # a host that was never served does not count as lost
    assert unserved_hosts("shop", HTTP_VS, after, after) == []


def test_fragments_meet_only_on_a_shared_served_route_type() -> None:
    servers = gw(server(["*.example.com"]))
    assert fragments_meet("shop.example.com", "a", HTTP_VS, "b", HTTP_VS, servers) == {"http"}
    assert fragments_meet("shop.example.com", "a", HTTP_VS, "b", TLS_VS, servers) == frozenset()
    only_a = gw(server(["a/*.example.com"]))
    assert fragments_meet("shop.example.com", "a", HTTP_VS, "b", HTTP_VS, only_a) == frozenset()
    assert fragments_meet("shop.example.com", "a", HTTP_VS, "b", HTTP_VS, None) == {"http"}
