"""Typed views over loaded resources, and a snapshot (`Mesh`) that answers Istio's questions.

Every accessor tolerates the wrong shapes a PR can contain (`hosts: 5`, `spec: null`): it returns
what Istio would use or nothing, never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator

from bot import hosts as H
from bot.config import Config
from bot.findings import Ref
from bot.visibility import EVERYONE, Visibility, export_to, split_annotation

NETWORKING = "networking.istio.io"
SECURITY = "security.istio.io"
KINDS = {
    "Gateway": NETWORKING,
    "VirtualService": NETWORKING,
    "DestinationRule": NETWORKING,
    "ServiceEntry": NETWORKING,
    "Sidecar": NETWORKING,
    "PeerAuthentication": SECURITY,
    "Service": "",
}
EXPORT_ANNOTATION = "networking.istio.io/exportTo"
IGNORE_ANNOTATION = "istio-pr-bot.io/ignore"
OTHER = "<any other namespace>"  # stands for every namespace the repository does not name


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def str_labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_dict(value).items()}


@dataclass(frozen=True, eq=False)
class Resource:
    """One Istio (or Service) document as written at one revision."""

    kind: str
    api_version: str
    namespace: str
    name: str
    body: dict[str, Any]
    file: str
    line: int  # 1-based line of the document's first key
    source: str  # the document's text as written (comments kept)
    source_line: int  # 1-based line where `source` starts in the file
    from_list: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def spec(self) -> dict[str, Any]:
        return as_dict(self.body.get("spec"))

    @property
    def metadata(self) -> dict[str, Any]:
        return as_dict(self.body.get("metadata"))

    @property
    def labels(self) -> dict[str, str]:
        return str_labels(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, Any]:
        return as_dict(self.metadata.get("annotations"))

    @property
    def display(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def ref(self, line: int | None = None) -> Ref:
        return Ref(self.kind, self.namespace, self.name, self.file, line or self.line)

    def ignored_rules(self) -> frozenset[str]:
        value = self.annotations.get(IGNORE_ANNOTATION)
        return frozenset(split_annotation(value)) if isinstance(value, str) else frozenset()

    def field_line(self, *path: str | int) -> int | None:
        """1-based line of a field (e.g. "spec", "subsets", 2) in the file, if it can be found."""
        if self.from_list:
            return None
        import yaml

        loader = yaml.CSafeLoader(self.source) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(self.source)
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            return None
        finally:
            loader.dispose()
        found = None
        for step in path:
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
                found = node
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
                found = node
            else:
                break
            if node is None:
                break
        if found is None:
            return None
        return int(found.start_mark.line) + self.source_line


# ---- per-kind views ------------------------------------------------------------------------


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


def vs_hosts(vs: Resource) -> list[str]:
    return [H.fqdn(h, vs.namespace) for h in (as_str(x) for x in as_list(vs.spec.get("hosts"))) if h]


def vs_gateways(vs: Resource) -> list[GatewayRef]:
    refs = [resolve_gateway(g, vs.namespace) for g in (as_str(x) for x in as_list(vs.spec.get("gateways"))) if g]
    return refs or [MESH]


def vs_bound_to_gateway(vs: Resource) -> bool:
    return any(not g.is_mesh for g in vs_gateways(vs))


def vs_bound_to_mesh(vs: Resource) -> bool:
    return any(g.is_mesh for g in vs_gateways(vs))


def vs_destinations(vs: Resource) -> list[Destination]:
    out: list[Destination] = []
    for section in ("http", "tcp", "tls"):
        for i, rule in enumerate(as_list(vs.spec.get(section))):
            rule = as_dict(rule)
            for j, route in enumerate(as_list(rule.get("route"))):
                dest = as_dict(as_dict(route).get("destination"))
                _add_destination(out, dest, vs.namespace, "route", ("spec", section, i, "route", j, "destination"))
            if section == "http":
                _add_destination(out, as_dict(rule.get("mirror")), vs.namespace, "mirror", ("spec", section, i, "mirror"))
                for j, mirror in enumerate(as_list(rule.get("mirrors"))):
                    dest = as_dict(as_dict(mirror).get("destination"))
                    _add_destination(out, dest, vs.namespace, "mirror", ("spec", section, i, "mirrors", j))
    return out


def _add_destination(out: list[Destination], dest: dict[str, Any], ns: str, role: str, path: tuple[str | int, ...]) -> None:
    host = as_str(dest.get("host"))
    if not host:
        return
    subset = as_str(dest.get("subset")) or None
    out.append(Destination(H.fqdn(host, ns), subset, role, path))


def dr_host(dr: Resource) -> str | None:
    host = as_str(dr.spec.get("host"))
    return H.fqdn(host, dr.namespace) if host else None


def dr_subsets(dr: Resource) -> dict[str, dict[str, Any]]:
    """Subsets by name; a repeated name keeps the first (as pilot does)."""
    out: dict[str, dict[str, Any]] = {}
    for subset in as_list(dr.spec.get("subsets")):
        name = as_str(as_dict(subset).get("name"))
        if name and name not in out:
            out[name] = as_dict(subset)
    return out


def dr_subset_index(dr: Resource, name: str) -> int | None:
    for i, subset in enumerate(as_list(dr.spec.get("subsets"))):
        if as_str(as_dict(subset).get("name")) == name:
            return i
    return None


def se_hosts(se: Resource) -> list[str]:
    # ServiceEntry hosts are used as written (no short-name expansion beyond Istio's own).
    return [H.fqdn(h, se.namespace) for h in (as_str(x) for x in as_list(se.spec.get("hosts"))) if h]


def service_host(svc: Resource) -> str:
    return f"{svc.name}.{svc.namespace}.{H.DOMAIN}"


@dataclass(frozen=True)
class Server:
    """One Gateway server, flattened for comparisons."""

    index: int
    number: int | None
    name: str | None
    protocol: str
    hosts: tuple[str, ...]
    bind: str
    tls: dict[str, Any] | None

    @property
    def is_tls(self) -> bool:
        return self.tls is not None or self.protocol in ("HTTPS", "TLS")

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


def gateway_servers(gw: Resource) -> list[Server]:
    out = []
    for i, raw in enumerate(as_list(gw.spec.get("servers"))):
        server = as_dict(raw)
        port = as_dict(server.get("port"))
        number = port.get("number")
        tls = server.get("tls")
        out.append(
            Server(
                index=i,
                number=number if isinstance(number, int) and not isinstance(number, bool) else None,
                name=as_str(port.get("name")),
                protocol=(as_str(port.get("protocol")) or "").upper(),
                hosts=tuple(_server_host(h) for h in (as_str(x) for x in as_list(server.get("hosts"))) if h),
                bind=as_str(server.get("bind")) or "",
                tls=tls if isinstance(tls, dict) else None,
            )
        )
    return out


def _server_host(raw: str) -> str:
    """Drop the namespace filter of a server host (`ns/host`, `./host`, `*/host`)."""
    return raw.rsplit("/", 1)[-1].lower()


def gateway_selector(gw: Resource) -> dict[str, str]:
    return str_labels(gw.spec.get("selector"))


def selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "(all gateway workloads)"


# ---- the snapshot ----------------------------------------------------------------------------


@dataclass
class Mesh:
    """Every resource at one revision, with the lookups Istio does."""

    resources: list[Resource]
    config: Config
    _dr_cache: dict[tuple[str, str], list[Resource]] = field(default_factory=dict, repr=False)

    @cached_property
    def by_key(self) -> dict[tuple[str, str, str], Resource]:
        out: dict[tuple[str, str, str], Resource] = {}
        for res in self.resources:
            out.setdefault(res.key, res)
        return out

    @cached_property
    def _by_kind(self) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {kind: [] for kind in KINDS}
        for res in self.by_key.values():
            out[res.kind].append(res)
        return out

    def of(self, kind: str) -> list[Resource]:
        return self._by_kind.get(kind, [])

    def get(self, kind: str, namespace: str, name: str) -> Resource | None:
        return self.by_key.get((kind, namespace, name))

    @cached_property
    def namespaces(self) -> list[str]:
        names = {res.namespace for res in self.by_key.values()} | {self.config.root_namespace}
        return sorted(names)

    # visibility

    def visibility(self, res: Resource) -> Visibility:
        default = export_to(list(self.config.export_to_defaults.get(res.kind, ("*",))), res.namespace)
        if res.kind == "Service":
            value = res.annotations.get(EXPORT_ANNOTATION)
            if value is None:
                return default
            return export_to(split_annotation(value), res.namespace, default)
        if res.kind in ("VirtualService", "DestinationRule", "ServiceEntry"):
            return export_to(res.spec.get("exportTo"), res.namespace, default)
        return EVERYONE

    def audience(self, vis: Visibility) -> list[str]:
        """Namespaces to check on behalf of a visibility: the known ones it reaches, and OTHER."""
        out = [ns for ns in self.namespaces if vis.sees(ns)]
        return out + [OTHER] if vis.everyone else out

    # gateways

    def workload_namespace(self, gw: Resource) -> str:
        """Where the gateway's pods run: config `gateway-namespaces`, else the Gateway's namespace."""
        selector = gateway_selector(gw)
        for pattern, namespace in self.config.gateway_namespaces.items():
            wanted = dict(part.split("=", 1) for part in pattern.split(",") if "=" in part)
            if wanted and all(selector.get(k) == v for k, v in wanted.items()):
                return namespace
        return gw.namespace

    def share_workload(self, a: Resource, b: Resource) -> bool:
        """One selector is a subset of the other: some gateway pod runs both."""
        if self.config.scope_gateway_to_namespace and self.workload_namespace(a) != self.workload_namespace(b):
            return False
        sa, sb = gateway_selector(a).items(), gateway_selector(b).items()
        return sa <= sb or sb <= sa

    def gateway(self, ref: GatewayRef) -> Resource | None:
        return None if ref.is_mesh else self.get("Gateway", ref.namespace, ref.name)

    # clients and destination rules

    def clients(self, vs: Resource) -> list[str]:
        """Namespaces whose proxies apply this VirtualService: its mesh audience and gateway pods."""
        out: list[str] = []
        vis = self.visibility(vs)
        for ref in vs_gateways(vs):
            if ref.is_mesh:
                out += self.audience(vis)
            else:
                gw = self.gateway(ref)
                ns = self.workload_namespace(gw) if gw else ref.namespace
                if vis.sees(ns):
                    out.append(ns)
        return list(dict.fromkeys(out))

    @cached_property
    def _se_namespaces(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for se in self.of("ServiceEntry"):
            for host in se_hosts(se):
                out.setdefault(host, set()).add(se.namespace)
        return out

    def service_namespaces(self, host: str) -> set[str]:
        """The namespaces Istio treats as the host's own: the Service's, or its ServiceEntries'."""
        out = set(self._se_namespaces.get(host, ()))
        ns = H.service_namespace(host)
        if ns:
            out.add(ns)
        return out

    @cached_property
    def _drs_by_namespace(self) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {}
        for dr in self.of("DestinationRule"):
            out.setdefault(dr.namespace, []).append(dr)
        return out

    def destination_rules_for(self, host: str, client_ns: str) -> list[Resource]:
        """The DestinationRule(s) a client in `client_ns` uses for `host`.

        Lookup order (`pilot/pkg/model/push_context.go` destinationRule; see
        https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration):
        the client's namespace, then the service's namespace, then the root namespace. The first
        namespace with a match wins, the most specific host within it; nothing merges across them.
        """
        cache_key = (host, client_ns)
        if cache_key in self._dr_cache:
            return self._dr_cache[cache_key]
        order = [client_ns, *sorted(self.service_namespaces(host)), self.config.root_namespace]
        found: list[Resource] = []
        for ns in dict.fromkeys(order):
            candidates = [
                dr for dr in self._drs_by_namespace.get(ns, [])
                if (h := dr_host(dr)) and H.covers(h, host) and self.visibility(dr).sees(client_ns)
            ]
            if candidates:
                best = max(H.specificity(dr_host(dr) or "") for dr in candidates)
                found = [dr for dr in candidates if H.specificity(dr_host(dr) or "") == best]
                break
        self._dr_cache[cache_key] = found
        return found

    @cached_property
    def routes(self) -> list[tuple[Resource, Destination]]:
        """Every (VirtualService, destination) pair."""
        return [(vs, d) for vs in self.of("VirtualService") for d in vs_destinations(vs)]

    def subset_users(self, host: str, subset: str) -> list[Resource]:
        return list(dict.fromkeys(vs for vs, d in self.routes if d.host == host and d.subset == subset))

    def host_defined(self, host: str) -> Iterator[Resource]:
        """ServiceEntries and Services in the repository that define `host`."""
        for se in self.of("ServiceEntry"):
            if host in se_hosts(se):
                yield se
        ns = H.service_namespace(host)
        if ns:
            svc = self.get("Service", ns, host.split(".")[0])
            if svc:
                yield svc
