"""Where Istio's translation decides traffic differently from what the route's status suggests.

Whole-route drops (istio `pilot/pkg/config/kube/gateway/route_collections.go` computeRoute: a rule that
fails to convert ends the conversion, so no rule of the route is programmed; `conversion.go`
convertHTTPRoute, convertGRPCRoute, buildDestination): a filter type Istio does not implement
(`ExtensionRef` and anything not listed below), a header value with control characters, an unknown
match type, a Service backendRef whose name holds a dot or that has no port, a `Hostname` backendRef
with a namespace, and for GRPCRoute any mirror backend that does not resolve. The route stays
`Accepted=True`, with `ResolvedRefs=False` (`InvalidFilter`, `InvalidDestination`,
`InvalidConfiguration`), and every request it should serve gets 404.

Workloads (`pilot/pkg/config/kube/gatewaycommon/gateway_utils.go` IsManaged, GetDefaultName;
`conversion.go` extractGatewayServices; `pilot/pkg/model/push_context.go` mergeGateways): Istio deploys
one Deployment and Service per Gateway, `<gateway>-<gatewayClassName>` (or the
`gateway.istio.io/name-override` annotation), unless `spec.addresses` names a Service (type Hostname, or
several addresses). Such a Gateway is programmed on the pods behind that Service, in the Gateway's own
namespace, which is how two Gateways come to share pods and addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.gatewayapi.kinds import DOMAIN, ISTIO_GROUP
from bot.gatewayapi.objects import Path, Route, gateway_class, route
from bot.gatewayapi.snapshot import Snapshot
from bot.resource import Resource, per_resource
from bot.values import as_dict, as_list, as_str

_HTTP_FILTERS = ("RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "RequestMirror", "URLRewrite",
                 "CORS")
_GRPC_FILTERS = ("RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror")
_BACKEND_FILTERS = ("RequestHeaderModifier", "ResponseHeaderModifier")
_STRING_MATCH = ("Exact", "RegularExpression")
_PATH_MATCH = ("PathPrefix", "Exact", "RegularExpression")
_NO_SUFFIX = ("istio-waypoint", "istio-east-west", "agentgateway", "agentgateway-waypoint")
NAME_OVERRIDE = "gateway.istio.io/name-override"


@dataclass(frozen=True)
class Drop:
    """A reason Istio drops the whole route."""

    reason: str  # the ResolvedRefs reason Istio writes
    message: str
    path: Path


def _bad_header_values(filters: dict[str, object]) -> list[str]:
    out = []
    for op in ("set", "add"):
        for h in as_list(as_dict(filters).get(op)):
            value = as_str(as_dict(h).get("value")) or ""
            if any(c != "\t" and (ord(c) < 0x20 or ord(c) == 0x7F) for c in value):
                out.append(as_str(as_dict(h).get("name")) or "?")
    return out


def _filter_drops(filters: tuple[dict[str, object], ...], allowed: tuple[str, ...], path: Path) -> list[Drop]:
    out = []
    for j, f in enumerate(filters):
        kind = as_str(f.get("type")) or ""
        where = path + ("filters", j)
        if kind not in allowed:
            out.append(Drop("InvalidFilter", f"filter type {kind or '(none)'!r} is not supported by Istio", where))
            continue
        for key in ("requestHeaderModifier", "responseHeaderModifier"):
            for name in _bad_header_values(as_dict(f.get(key))):
                out.append(Drop("InvalidFilter", f"header {name!r} value holds control characters (a trailing "
                                                 "newline from a YAML block scalar?)", where))
    return out


def _match_drops(r: Route, raw_rule: dict[str, object], path: Path) -> list[Drop]:
    out = []
    for k, m in enumerate(as_list(raw_rule.get("matches"))):
        m = as_dict(m)
        where = path + ("matches", k)
        if r.kind == "HTTPRoute":
            kind = as_str(as_dict(m.get("path")).get("type"))
            if kind is not None and kind not in _PATH_MATCH:
                out.append(Drop("InvalidConfiguration", f"path match type {kind!r} is unknown to Istio", where))
            for field in ("headers", "queryParams"):
                for h in as_list(m.get(field)):
                    kind = as_str(as_dict(h).get("type"))
                    if kind is not None and kind not in _STRING_MATCH:
                        message = f"{field} match type {kind!r} is unknown to Istio"
                        out.append(Drop("InvalidConfiguration", message, where))
        elif r.kind == "GRPCRoute":
            method = m.get("method")
            if isinstance(method, dict):
                if not as_str(method.get("service")) and not as_str(method.get("method")):
                    message = "a gRPC method match names neither service nor method"
                    out.append(Drop("InvalidConfiguration", message, where))
                kind = as_str(method.get("type"))
                if kind is not None and kind not in _STRING_MATCH:
                    out.append(Drop("InvalidConfiguration", f"method match type {kind!r} is unknown to Istio", where))
    return out


def _destination_drops(group: str, kind: str, name: str, port: int | None, namespace_written: bool,
                       where: Path) -> list[Drop]:
    if (group, kind) in (("", "Service"), ("multicluster.x-k8s.io", "ServiceImport")):
        if "." in name:
            return [Drop("InvalidDestination", f"backend Service name {name!r} holds a dot: Istio wants the Service "
                                               "name, not a host name", where)]
    elif (group, kind) == (ISTIO_GROUP, "Hostname"):
        if namespace_written:
            return [Drop("InvalidDestination", "a Hostname backendRef may not set a namespace", where)]
    else:
        return []
    if port is None:
        return [Drop("InvalidDestination", f"backendRef {name!r} has no port", where)]
    return []


@per_resource
def drops(res: Resource) -> tuple[Drop, ...]:
    """Everything in the route that makes Istio drop all of it (see the module docstring)."""
    r = route(res)
    raw_rules = as_list(res.spec.get("rules"))
    out: list[Drop] = []
    allowed = _HTTP_FILTERS if r.kind == "HTTPRoute" else _GRPC_FILTERS
    for rule in r.rules:
        raw = as_dict(raw_rules[rule.index]) if rule.index < len(raw_rules) else {}
        path: Path = ("spec", "rules", rule.index)
        if r.kind in ("HTTPRoute", "GRPCRoute"):
            out += _match_drops(r, raw, path)
            out += _filter_drops(rule.filters, allowed, path)
            if r.kind == "GRPCRoute":
                for m in rule.mirrors:
                    out += _destination_drops(m.group, m.kind, m.name, m.port, m.namespace_written, m.path)
        if rule.total_weight == 0:
            continue  # no backend is built: a direct 500 (HTTP) or a blackhole (TCP, TLS)
        for ref in rule.backends:
            if ref.weight == 0:
                continue
            out += _destination_drops(ref.group, ref.kind, ref.name, ref.port, ref.namespace_written, ref.path)
            if r.kind in ("HTTPRoute", "GRPCRoute"):
                out += _filter_drops(ref.filters, _BACKEND_FILTERS, ref.path)
    return tuple(out)


# ---- classes -----------------------------------------------------------------------------------

GATEWAY_CONTROLLER = "istio.io/gateway-controller"
# Istio's controllers (istio pkg/config/constants/constants.go, pilot/pkg/features/pilot.go) and the
# classes it creates for them (pilot/pkg/config/kube/gatewaycommon/classinfo.go GetBuiltinGatewayClasses).
CONTROLLERS = (GATEWAY_CONTROLLER, "istio.io/mesh-controller", "istio.io/eastwest-controller",
               "istio.io/unmanaged-gateway")
BUILTIN_CLASSES = {"istio": GATEWAY_CONTROLLER, "istio-waypoint": "istio.io/mesh-controller",
                   "istio-east-west": "istio.io/eastwest-controller", "istio-remote": "istio.io/unmanaged-gateway"}


def controller(gw: Resource, snap: Snapshot) -> str | None:
    """The controller that owns a Gateway: its GatewayClass's `controllerName` when the repository holds
    the class, else Istio's for its built-in class names. A class the repository does not define is
    taken to be Istio's ingress class (the bot reviews Istio repositories); None for another controller's."""
    klass = gateway_class(gw)
    found = snap.gateway_class(klass)
    if found is not None:
        name = as_str(found.spec.get("controllerName")) or ""
        return name if name in CONTROLLERS else None
    return BUILTIN_CLASSES.get(klass, GATEWAY_CONTROLLER)


def is_istio_ingress(gw: Resource, snap: Snapshot) -> bool:
    """Whether Istio's gateway controller programs this Gateway (not a waypoint, east-west, remote
    or another controller's Gateway): only these take routes and get a deployed workload."""
    return controller(gw, snap) == GATEWAY_CONTROLLER


# ---- workloads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """The Services whose pods run a Gateway's configuration."""

    managed: bool  # Istio deploys and names it
    services: frozenset[str]  # FQDNs

    def text(self) -> str:
        return ", ".join(sorted(self.services)) or "no Service"


def is_managed(gw: Resource) -> bool:
    addresses = as_list(gw.spec.get("addresses"))
    if not addresses:
        return True
    if len(addresses) > 1:
        return False
    kind = as_str(as_dict(addresses[0]).get("type"))
    return kind is None or kind == "IPAddress"


def deployed_name(gw: Resource) -> str:
    """Name of the Deployment and Service Istio creates for a managed Gateway."""
    override = gw.annotations.get(NAME_OVERRIDE)
    if isinstance(override, str) and override:
        return override
    klass = as_str(gw.spec.get("gatewayClassName")) or ""
    return gw.name if klass in _NO_SUFFIX else f"{gw.name}-{klass}"


@per_resource
def workload(gw: Resource) -> Workload:
    if is_managed(gw):
        return Workload(True, frozenset({f"{deployed_name(gw)}.{gw.namespace}.{DOMAIN}"}))
    out = set()
    for raw in as_list(gw.spec.get("addresses")):
        address = as_dict(raw)
        kind = as_str(address.get("type"))
        value = (as_str(address.get("value")) or "").lower()
        if not value or (kind is not None and kind != "Hostname"):
            continue
        host = value if "." in value else f"{value}.{gw.namespace}.{DOMAIN}"
        parts = host.split(".")
        # Only pods behind a Service of the Gateway's own namespace take its configuration.
        if host.endswith("." + DOMAIN) and len(parts) == 5 and parts[1] != gw.namespace:
            continue
        out.add(host)
    return Workload(False, frozenset(out))


def share_workload(a: Resource, b: Resource) -> bool:
    """Whether two Gateways are programmed on the same pods (and so share addresses and ports)."""
    if a.key == b.key:
        return True
    return a.namespace == b.namespace and bool(workload(a).services & workload(b).services)
