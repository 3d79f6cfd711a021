"""Per-kind views of a Resource: what Istio reads from a VirtualService, DestinationRule,
ServiceEntry, Service or Gateway, resolved as Istio resolves it. Each view is computed once per
resource (`per_resource`) and tolerates wrong shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import hosts as H
from bot.resource import Resource, per_resource
from bot.values import as_dict, as_list, as_str, str_labels

# ---- VirtualService ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayRef:
    """A VirtualService's `gateways` entry, resolved (`pilot/pkg/model/config.go` resolveGatewayName)."""

    namespace: str
    name: str
    raw: str

    @property
    def is_mesh(self) -> bool:
        return self.name == "mesh" and not self.namespace


MESH = GatewayRef("", "mesh", "mesh")


def resolve_gateway(raw: str, vs_namespace: str) -> GatewayRef:
    raw = raw.strip()
    if raw == "mesh":
        return MESH
    if "/" in raw:
        ns, _, name = raw.partition("/")
        return GatewayRef(vs_namespace if ns in (".", "") else ns, name, raw)
    if "." in raw:  # legacy name.ns.svc.cluster.local
        parts = raw.split(".")
        return GatewayRef(parts[1], parts[0], raw)
    return GatewayRef(vs_namespace, raw, raw)


@dataclass(frozen=True)
class Destination:
    """Where a VirtualService sends (or mirrors) traffic."""

    host: str  # resolved FQDN
    subset: str | None
    role: str  # "route" or "mirror"
    path: tuple[str | int, ...]  # field path inside the document

    @property
    def label(self) -> str:
        return f"{self.host}/{self.subset}" if self.subset else self.host


@per_resource
def vs_hosts(vs: Resource) -> list[str]:
    return [H.fqdn(h, vs.namespace) for h in (as_str(x) for x in as_list(vs.spec.get("hosts"))) if h]


@per_resource
def vs_gateways(vs: Resource) -> list[GatewayRef]:
    refs = [resolve_gateway(g, vs.namespace) for g in (as_str(x) for x in as_list(vs.spec.get("gateways"))) if g]
    return refs or [MESH]


@per_resource
def vs_destinations(vs: Resource) -> list[Destination]:
    out: list[Destination] = []
    for section in ("http", "tcp", "tls"):
        for i, raw in enumerate(as_list(vs.spec.get(section))):
            rule = as_dict(raw)
            for j, route in enumerate(as_list(rule.get("route"))):
                dest = as_dict(as_dict(route).get("destination"))
                _add_destination(out, dest, vs.namespace, "route", ("spec", section, i, "route", j, "destination"))
            if section == "http":
                mirror = as_dict(rule.get("mirror"))
                _add_destination(out, mirror, vs.namespace, "mirror", ("spec", section, i, "mirror"))
                for j, item in enumerate(as_list(rule.get("mirrors"))):
                    dest = as_dict(as_dict(item).get("destination"))
                    _add_destination(out, dest, vs.namespace, "mirror", ("spec", section, i, "mirrors", j))
    return out


def _add_destination(out: list[Destination], dest: dict[str, Any], ns: str, role: str,
                     path: tuple[str | int, ...]) -> None:
    host = as_str(dest.get("host"))
    if not host:
        return
    subset = as_str(dest.get("subset")) or None
    out.append(Destination(H.fqdn(host, ns), subset, role, path))


# ---- DestinationRule, ServiceEntry, Service ----------------------------------------------------


@per_resource
def dr_host(dr: Resource) -> str | None:
    host = as_str(dr.spec.get("host"))
    return H.fqdn(host, dr.namespace) if host else None


@per_resource
def dr_subsets(dr: Resource) -> dict[str, dict[str, Any]]:
    """Subsets by name; a repeated name keeps the first (as pilot does)."""
    out: dict[str, dict[str, Any]] = {}
    for subset in as_list(dr.spec.get("subsets")):
        name = as_str(as_dict(subset).get("name"))
        if name and name not in out:
            out[name] = as_dict(subset)
    return out


@per_resource
def se_hosts(se: Resource) -> list[str]:
    # ServiceEntry hosts are used as written (no short-name expansion beyond Istio's own).
    return [H.fqdn(h, se.namespace) for h in (as_str(x) for x in as_list(se.spec.get("hosts"))) if h]


def service_host(svc: Resource) -> str:
    return f"{svc.name}.{svc.namespace}.{H.DOMAIN}"


# ---- Gateway ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """One Gateway server, flattened for comparisons."""

    index: int
    number: int | None
    name: str | None
    protocol: str
    hosts: tuple[str, ...]  # namespace filters dropped, lower case
    bind: str
    tls: dict[str, Any] | None
    written_hosts: tuple[str, ...] = ()  # as written, with their namespace filters (`ns/host`)

    @property
    def is_tls(self) -> bool:
        return self.tls is not None or self.protocol in ("HTTPS", "TLS")

    @property
    def tls_mode(self) -> str:
        """tls.mode, upper case; "" without a tls block, PASSTHROUGH when the block leaves it out (the enum's
        zero value, istio/api networking/v1alpha3/gateway.proto ServerTLSSettings.TLSmode)."""
        if self.tls is None:
            return ""
        return (as_str(self.tls.get("mode")) or "PASSTHROUGH").upper()

    @property
    def credential_names(self) -> frozenset[str]:
        tls = self.tls or {}
        names = {as_str(tls.get("credentialName"))} | {as_str(x) for x in as_list(tls.get("credentialNames"))}
        return frozenset(n for n in names if n)

    @property
    def cert_files(self) -> tuple[str, str] | None:
        tls = self.tls or {}
        cert, key = as_str(tls.get("serverCertificate")), as_str(tls.get("privateKey"))
        return (cert, key) if cert and key else None


def read_servers(spec: dict[str, Any]) -> list[Server]:
    """The servers of a Gateway spec."""
    out = []
    for i, raw in enumerate(as_list(spec.get("servers"))):
        server = as_dict(raw)
        port = as_dict(server.get("port"))
        number = port.get("number")
        tls = server.get("tls")
        written = tuple(h for h in (as_str(x) for x in as_list(server.get("hosts"))) if h)
        out.append(
            Server(
                index=i,
                number=number if isinstance(number, int) and not isinstance(number, bool) else None,
                name=as_str(port.get("name")),
                protocol=(as_str(port.get("protocol")) or "").upper(),
                hosts=tuple(_server_host(h) for h in written),
                bind=as_str(server.get("bind")) or "",
                tls=tls if isinstance(tls, dict) else None,
                written_hosts=written,
            )
        )
    return out


@per_resource
def gateway_servers(gw: Resource) -> list[Server]:
    return read_servers(gw.spec)


def _server_host(raw: str) -> str:
    """Drop the namespace filter of a server host (`ns/host`, `./host`, `*/host`)."""
    return raw.rsplit("/", 1)[-1].lower()


@per_resource
def gateway_selector(gw: Resource) -> dict[str, str]:
    return str_labels(gw.spec.get("selector"))
