"""Certificate coverage across Gateway servers (bot/istio/cert_coverage.py)."""

from __future__ import annotations

from typing import Any

from bot.istio.cert_coverage import TlsServer, cert_covers, coverage, misdirections, read_servers


def https(hosts: list[str], credential: str | None = "shared", port: int = 443, mode: str = "SIMPLE",
          protocol: str = "HTTPS", **tls: Any) -> dict[str, Any]:
    settings = {"mode": mode, **tls}
    if credential:
        settings["credentialName"] = credential
    return {"port": {"number": port, "name": f"https-{port}", "protocol": protocol}, "hosts": hosts, "tls": settings}


def gateway(name: str, *servers: dict[str, Any]) -> list[TlsServer]:
    return read_servers("edge", name, {"selector": {"istio": "ingressgateway"}, "servers": list(servers)})


def pairs(servers: list[TlsServer], **kw: Any) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f"{m.opened.gateway}[{m.opened.index}]", f"{m.victim.gateway}[{m.victim.index}]", m.hosts)
            for m in misdirections(servers, **kw)}


def test_reading_servers() -> None:
    servers = gateway("gw", https(["edge/a.example.com"]), https(["b.example.com"], mode="PASSTHROUGH", credential=None),
                      https(["c.example.com"], protocol="TLS"), {"port": {"number": 80, "protocol": "HTTP"}, "hosts": ["*"]},
                      https(["d.example.com"], credential=None, serverCertificate="/c.pem", privateKey="/k.pem"),
                      https(["e.example.com"], credential=None, credentialNames=["rsa", "ecdsa"]))
    assert [s.index for s in servers] == [0, 1, 2, 4, 5]
    assert servers[0].hosts == ("a.example.com",) and servers[0].terminating
    assert servers[1].passthrough and not servers[1].terminating
    assert not servers[2].terminating  # TLS to a TCP backend: no HTTP routes
    assert servers[3].credentials == frozenset({"files:/c.pem"})
    assert servers[4].credentials == frozenset({"secret:rsa", "secret:ecdsa"})


def test_certificate_wildcards_match_one_label() -> None:
    assert cert_covers("*.example.com", "shop.example.com")
    assert not cert_covers("*.example.com", "a.shop.example.com")
    assert not cert_covers("*.example.com", "example.com")
    assert cert_covers("Shop.Example.com", "shop.example.com")


def test_same_credential_on_two_gateways() -> None:
    servers = gateway("a", https(["a.example.com"])) + gateway("b", https(["b.example.com"]))
    assert pairs(servers) == {("a[0]", "b[0]", ("b.example.com",)), ("b[0]", "a[0]", ("a.example.com",))}
    assert misdirections(servers)[0].shared == ("secret:shared",)


def test_wildcard_certificate_covers_another_servers_host() -> None:
    servers = gateway("www", https(["*.example.com"], credential="wildcard")) + gateway("shop", https(["shop.example.com"],
                                                                                               credential="shop-cert"))
    assert pairs(servers) == {("www[0]", "shop[0]", ("shop.example.com",))}
    # the other way round: the specific certificate does not cover the wildcard's hosts
    assert coverage(servers)["secret:shop-cert"] == {"shop.example.com"}


def test_two_servers_of_one_gateway() -> None:
    servers = gateway("gw", https(["a.example.com"]), https(["b.example.com"], port=443))
    assert len(pairs(servers)) == 2


def test_no_reuse_across_ports_binds_or_passthrough() -> None:
    assert pairs(gateway("a", https(["a.example.com"])) + gateway("b", https(["b.example.com"], port=8443))) == set()
    bound = gateway("a", https(["a.example.com"])) + gateway("b", {**https(["b.example.com"]), "bind": "10.0.0.2"})
    assert pairs(bound) == set()
    passthrough = gateway("a", https(["a.example.com"], mode="PASSTHROUGH")) + \
        gateway("b", https(["b.example.com"], mode="PASSTHROUGH"))
    assert pairs(passthrough) == set()
    tls_only = gateway("a", https(["a.example.com"], protocol="TLS")) + gateway("b", https(["b.example.com"], protocol="TLS"))
    assert pairs(tls_only) == set()


def test_passthrough_victim_only_on_request() -> None:
    servers = gateway("a", https(["*.example.com"], credential="wildcard")) + \
        gateway("b", https(["db.example.com"], mode="PASSTHROUGH", credential=None))
    assert pairs(servers) == set()
    assert pairs(servers, passthrough_victims=True) == {("a[0]", "b[0]", ("db.example.com",))}


def test_one_server_for_both_hosts_is_the_fix() -> None:
    assert pairs(gateway("a", https(["a.example.com", "b.example.com"]))) == set()
    both_list_it = gateway("a", https(["a.example.com", "b.example.com"])) + gateway("b", https(["b.example.com"]))
    assert ("b[0]", "a[0]", ("a.example.com",)) in pairs(both_list_it)
    assert not any(victim == "b[0]" for _, victim, _ in pairs(both_list_it))


def test_known_certificate_names_extend_coverage() -> None:
    servers = gateway("a", https(["a.example.com"], credential="a-cert")) + gateway("b", https(["b.example.com"], credential="b-cert"))
    assert pairs(servers) == set()
    assert pairs(servers, dns_names={"secret:a-cert": ["a.example.com", "b.example.com"]}) == \
        {("a[0]", "b[0]", ("b.example.com",))}


def test_tls_without_a_mode_is_passthrough() -> None:
    """ServerTLSSettings.TLSmode's zero value is PASSTHROUGH: such a server terminates nothing."""
    (server,) = gateway("gw", {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["a.example.com"],
                               "tls": {"credentialName": "cert"}})
    assert server.passthrough and not server.terminating
