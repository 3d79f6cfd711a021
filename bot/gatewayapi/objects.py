"""Routes, listeners and references as the API server stores them: the CRD defaults applied.

Defaults (kubernetes-sigs/gateway-api `apis/v1/shared_types.go` ParentReference,
`object_reference_types.go` BackendObjectReference and SecretObjectReference, `gateway_types.go`
Listener and AllowedRoutes, `httproute_types.go` HTTPRouteRule): a parentRef is a `Gateway` of group
`gateway.networking.k8s.io` in the route's namespace; a backendRef is a core `Service` in the route's
namespace with weight 1; a certificateRef is a core `Secret` in the Gateway's namespace;
`allowedRoutes.namespaces.from` is `Same`; an HTTPRoute without `rules` has one rule, and a rule
without `matches` one match, `PathPrefix /`. Every accessor tolerates wrong shapes and keeps what
Istio would use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.gatewayapi import hostnames as hn
from bot.gatewayapi.kinds import GATEWAY, GROUP, ISTIO_GROUP, LISTENER_SET, SERVICE, SERVICE_ENTRY
from bot.resource import Resource, per_resource
from bot.values import as_dict, as_list, as_str

Path = tuple[str | int, ...]


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _group(value: Any, default: str) -> str:
    text = as_str(value)
    return default if text is None else text


# ---- parent references ------------------------------------------------------------------------


@dataclass(frozen=True)
class ParentRef:
    """One `spec.parentRefs` entry of a route, with defaults."""

    index: int
    group: str
    kind: str  # as the API names it: Gateway, ListenerSet, Service, ServiceEntry, ...
    namespace: str
    name: str
    section: str | None
    port: int | None

    @property
    def is_gateway(self) -> bool:
        return self.group == GROUP and self.kind == "Gateway"

    @property
    def is_listener_set(self) -> bool:
        return self.group == GROUP and self.kind == "ListenerSet"

    @property
    def is_mesh(self) -> bool:
        """A GAMMA parent: a Service (or Istio ServiceEntry) rather than a Gateway."""
        return (self.group, self.kind) in (("", SERVICE), (ISTIO_GROUP, SERVICE_ENTRY))

    @property
    def target(self) -> tuple[str, str, str] | None:
        """The loader's key of the parent object, for the kinds Istio accepts as parents."""
        if self.is_gateway:
            return (GATEWAY, self.namespace, self.name)
        if self.is_listener_set:
            return (LISTENER_SET, self.namespace, self.name)
        if self.is_mesh:
            return (self.kind, self.namespace, self.name)
        return None

    def parent_label(self, qualify: bool = False) -> str:
        """`Gateway infra/public`; with `qualify`, a Gateway says its group (Istio Gateways are about)."""
        kind = f"{self.kind} ({self.group})" if qualify and self.is_gateway else self.kind
        return f"{kind} {self.namespace}/{self.name}"

    @property
    def text(self) -> str:
        """`Gateway infra/public`, then ` listener http` and ` port 443` when set (stable: findings' identity)."""
        return self.label()

    def label(self, qualify: bool = False) -> str:
        out = self.parent_label(qualify)
        if self.section:
            out += f" listener {self.section}" if not self.is_mesh else f" port name {self.section}"
        if self.port is not None:
            out += f" port {self.port}"
        return out


def parent_refs(res: Resource) -> tuple[ParentRef, ...]:
    out = []
    for i, raw in enumerate(as_list(res.spec.get("parentRefs"))):
        ref = as_dict(raw)
        name = as_str(ref.get("name"))
        if not name:
            continue
        out.append(ParentRef(
            index=i, group=_group(ref.get("group"), GROUP), kind=as_str(ref.get("kind")) or "Gateway",
            namespace=as_str(ref.get("namespace")) or res.namespace, name=name,
            section=as_str(ref.get("sectionName")) or None, port=as_int(ref.get("port"))))
    return tuple(out)


# ---- backend references -----------------------------------------------------------------------


@dataclass(frozen=True)
class BackendRef:
    """A backendRef (or a RequestMirror filter's backendRef) of one route rule, with defaults."""

    rule: int
    group: str
    kind: str
    namespace: str
    name: str
    port: int | None
    weight: int
    cross_namespace: bool  # `namespace` written and not the route's
    namespace_written: bool
    path: Path  # field path inside the document
    mirror: bool = False
    filters: tuple[dict[str, Any], ...] = ()

    @property
    def is_service(self) -> bool:
        return self.group == "" and self.kind == SERVICE

    @property
    def text(self) -> str:
        kind = self.kind if self.group in ("", GROUP) else f"{self.kind}.{self.group}"
        port = f":{self.port}" if self.port is not None else ""
        return f"{kind} {self.namespace}/{self.name}{port}"


def _backend(raw: Any, route_ns: str, rule: int, path: Path, mirror: bool = False) -> BackendRef | None:
    ref = as_dict(raw)
    name = as_str(ref.get("name"))
    if not name:
        return None
    written = as_str(ref.get("namespace"))
    weight = as_int(ref.get("weight"))
    return BackendRef(
        rule=rule, group=_group(ref.get("group"), ""), kind=as_str(ref.get("kind")) or SERVICE,
        namespace=written or route_ns, name=name, port=as_int(ref.get("port")),
        weight=1 if weight is None or mirror else max(weight, 0),
        cross_namespace=bool(written) and written != route_ns, namespace_written=bool(written), path=path,
        mirror=mirror, filters=tuple(as_dict(f) for f in as_list(ref.get("filters"))))


# ---- route rules and matches ------------------------------------------------------------------


@dataclass(frozen=True)
class RouteRule:
    index: int
    name: str | None
    matches: tuple[str, ...]  # canonical text of each match: equal text, equal match
    backends: tuple[BackendRef, ...]  # backendRefs in order (weights as written, defaults applied)
    mirrors: tuple[BackendRef, ...]
    filters: tuple[dict[str, Any], ...]
    redirect: bool  # a RequestRedirect filter answers instead of a backend

    @property
    def total_weight(self) -> int:
        return sum(b.weight for b in self.backends)


@dataclass(frozen=True)
class Route:
    """An HTTPRoute, GRPCRoute, TLSRoute or TCPRoute."""

    res: Resource
    hostnames: tuple[str, ...]  # normalized; empty: any
    parents: tuple[ParentRef, ...]
    rules: tuple[RouteRule, ...]
    rules_written: bool  # False: `spec.rules` missing, the default rule stands in

    @property
    def kind(self) -> str:
        return self.res.kind


def _http_match(raw: Any) -> str:
    m = as_dict(raw)
    path = as_dict(m.get("path"))
    kind = as_str(path.get("type")) or "PathPrefix"
    value = as_str(path.get("value")) or "/"
    if kind == "PathPrefix" and value != "/":
        value = value.rstrip("/") or "/"  # "a trailing `/` is ignored" (istio conversion.go createURIMatch)
    parts = [f"path {kind} {value}"]
    method = as_str(m.get("method"))
    if method:
        parts.append(f"method {method}")
    headers = sorted(f"{(as_str(as_dict(h).get('name')) or '').lower()} {as_str(as_dict(h).get('type')) or 'Exact'} "
                     f"{as_str(as_dict(h).get('value')) or ''}" for h in as_list(m.get("headers")))
    parts += [f"header {h}" for h in headers]
    query = sorted(f"{as_str(as_dict(q).get('name')) or ''} {as_str(as_dict(q).get('type')) or 'Exact'} "
                   f"{as_str(as_dict(q).get('value')) or ''}" for q in as_list(m.get("queryParams")))
    parts += [f"query {q}" for q in query]
    return ", ".join(parts)


def _grpc_match(raw: Any) -> str:
    m = as_dict(raw)
    method = as_dict(m.get("method"))
    parts = []
    if method:
        kind = as_str(method.get("type")) or "Exact"
        parts.append(f"method {kind} /{as_str(method.get('service')) or '*'}/{as_str(method.get('method')) or '*'}")
    headers = sorted(f"{(as_str(as_dict(h).get('name')) or '').lower()} {as_str(as_dict(h).get('type')) or 'Exact'} "
                     f"{as_str(as_dict(h).get('value')) or ''}" for h in as_list(m.get("headers")))
    parts += [f"header {h}" for h in headers]
    return ", ".join(parts) or "any call"


def _matches(kind: str, rule: dict[str, Any]) -> tuple[str, ...]:
    raw = as_list(rule.get("matches"))
    if kind == "HTTPRoute":
        return tuple(_http_match(m) for m in raw) or (_http_match({}),)
    if kind == "GRPCRoute":
        return tuple(_grpc_match(m) for m in raw) or ("any call",)
    return ("any connection",)


@per_resource
def route(res: Resource) -> Route:
    """The route with the CRD defaults applied."""
    hostnames = tuple(dict.fromkeys(hn.normal(h) for h in (as_str(x) for x in as_list(res.spec.get("hostnames"))) if h))
    written = isinstance(res.spec.get("rules"), list) and bool(res.spec.get("rules"))
    raw_rules = as_list(res.spec.get("rules")) if written else [{}]
    rules = []
    for i, raw in enumerate(raw_rules):
        rule = as_dict(raw)
        backends = tuple(b for j, ref in enumerate(as_list(rule.get("backendRefs")))
                         if (b := _backend(ref, res.namespace, i, ("spec", "rules", i, "backendRefs", j))) is not None)
        filters = tuple(as_dict(f) for f in as_list(rule.get("filters")))
        mirrors = tuple(b for j, f in enumerate(filters)
                        if (as_str(f.get("type")) == "RequestMirror")
                        and (b := _backend(as_dict(f.get("requestMirror")).get("backendRef"), res.namespace, i,
                                           ("spec", "rules", i, "filters", j), mirror=True)) is not None)
        rules.append(RouteRule(
            index=i, name=as_str(rule.get("name")) or None, matches=_matches(res.kind, rule), backends=backends,
            mirrors=mirrors, filters=filters,
            redirect=any(as_str(f.get("type")) == "RequestRedirect" for f in filters)))
    return Route(res, hostnames if res.kind != "TCPRoute" else (), parent_refs(res), tuple(rules), written)


# ---- listeners --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertRef:
    index: int
    group: str
    kind: str
    namespace: str
    name: str

    @property
    def is_secret(self) -> bool:
        return self.group == "" and self.kind == "Secret"

    @property
    def text(self) -> str:
        kind = self.kind if not self.group else f"{self.kind}.{self.group}"
        return f"{kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Listener:
    """One listener of a Gateway or ListenerSet."""

    owner: tuple[str, str, str]  # loader key of the Gateway or ListenerSet
    index: int
    name: str
    port: int | None
    protocol: str  # as written (case matters to Istio)
    hostname: str  # normalized; `*` when unset
    tls_mode: str | None  # Terminate or Passthrough when `tls` is set
    tls_options: dict[str, str]
    certs: tuple[CertRef, ...]
    allowed_from: str  # Same, All or Selector (anything else is read as Selector, as Istio does)
    selector: dict[str, Any] | None
    kinds: tuple[tuple[str, str], ...]  # allowedRoutes.kinds as (group, kind); empty: by protocol

    @property
    def path(self) -> Path:
        return ("spec", "listeners", self.index)

    @property
    def where(self) -> str:
        host = "" if self.hostname == hn.ANY else f" {self.hostname}"
        return f"listener {self.name} ({self.protocol} {self.port}{host})"


def _listener(owner: Resource, index: int, raw: Any) -> Listener | None:
    spec = as_dict(raw)
    name = as_str(spec.get("name"))
    if not name:
        return None
    protocol = as_str(spec.get("protocol")) or ""
    port = as_int(spec.get("port"))
    if port in (None, 0) and owner.kind == LISTENER_SET:  # istio gatewaycommon ListenerEntryPortNumber
        port = {"HTTP": 80, "HTTPS": 443}.get(protocol)
    tls = spec.get("tls")
    mode = None
    certs: list[CertRef] = []
    options: dict[str, str] = {}
    if isinstance(tls, dict):
        mode = as_str(tls.get("mode")) or "Terminate"
        options = {str(k): str(v) for k, v in as_dict(tls.get("options")).items()}
        for i, ref in enumerate(as_list(tls.get("certificateRefs"))):
            ref = as_dict(ref)
            cert_name = as_str(ref.get("name"))
            if cert_name:
                certs.append(CertRef(i, _group(ref.get("group"), ""), as_str(ref.get("kind")) or "Secret",
                                     as_str(ref.get("namespace")) or owner.namespace, cert_name))
    routes = as_dict(spec.get("allowedRoutes"))
    namespaces = as_dict(routes.get("namespaces"))
    allowed_from = as_str(namespaces.get("from")) or "Same"
    selector = namespaces.get("selector")
    kinds = tuple((_group(as_dict(k).get("group"), GROUP), as_str(as_dict(k).get("kind")) or "")
                  for k in as_list(routes.get("kinds")))
    return Listener(owner.key, index, name, port, protocol, hn.normal(as_str(spec.get("hostname"))), mode, options,
                    tuple(certs), allowed_from if allowed_from in ("Same", "All") else "Selector",
                    selector if isinstance(selector, dict) else None, kinds)


@per_resource
def listeners(res: Resource) -> tuple[Listener, ...]:
    """The listeners a Gateway or ListenerSet writes, in order; the first of a repeated name counts."""
    out: list[Listener] = []
    seen: set[str] = set()
    for i, raw in enumerate(as_list(res.spec.get("listeners"))):
        listener = _listener(res, i, raw)
        if listener is not None and listener.name not in seen:
            seen.add(listener.name)
            out.append(listener)
    return tuple(out)


def gateway_class(gw: Resource) -> str:
    return as_str(gw.spec.get("gatewayClassName")) or ""


def listener_set_parent(ls: Resource) -> tuple[str, str, str] | None:
    """The Gateway a ListenerSet joins (`spec.parentRef`), as a loader key."""
    ref = as_dict(ls.spec.get("parentRef"))
    name = as_str(ref.get("name"))
    if not name or _group(ref.get("group"), GROUP) != GROUP or (as_str(ref.get("kind")) or "Gateway") != "Gateway":
        return None
    return (GATEWAY, as_str(ref.get("namespace")) or ls.namespace, name)


def creation_timestamp(res: Resource) -> str | None:
    """`metadata.creationTimestamp` when a manifest carries one (exported from a cluster)."""
    value = res.metadata.get("creationTimestamp")
    return str(value) if value else None
