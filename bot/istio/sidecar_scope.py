"""What a sidecar imports: the Sidecar resource that applies to a workload, and its egress scope.

Follows `pilot/pkg/model/push_context.go` (doGetSidecarScope) and `pilot/pkg/model/sidecar.go`
(convertIstioListenerToWrapper, selectServices, collectImportedServices,
initSidecarScopeInternalIndexes), `pilot/pkg/model/virtualservice.go` (SelectVirtualServices) and
https://istio.io/latest/docs/reference/config/networking/sidecar/. Sidecar-mode proxies only:
gateways ignore Sidecars (`DefaultSidecarScopeForGateway`).

A service or VirtualService is named by (host, namespace of the config object); `ns` in an egress
entry `ns/host` is that object's namespace, not a namespace inside the host name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import hosts as H
from bot.values import as_dict, as_list, as_str, str_labels
from bot.visibility import Visibility

ANY_NAMESPACE = "*"
ALLOW_ANY = "ALLOW_ANY"  # the mesh default (pkg/config/mesh/mesh.go DefaultMeshConfig)
REGISTRY_ONLY = "REGISTRY_ONLY"
EXCLUSIONS_SINCE = (1, 31)  # `~`-prefixed egress entries subtract (istio commit 4c3c712eed2)


@dataclass(frozen=True)
class Listener:
    """One `egress` entry: its hosts as written, and the port that limits services (if any)."""

    hosts: tuple[str, ...]
    port: int | None = None  # None also for HTTP_PROXY listeners, which do not match ports (needsPortMatch)


@dataclass(frozen=True)
class SidecarConfig:
    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...] | None  # workloadSelector.labels; None: the whole namespace
    listeners: tuple[Listener, ...]
    outbound_mode: str | None  # outboundTrafficPolicy.mode, None: not set (the mesh's applies)


def read_sidecar(namespace: str, name: str, spec: Mapping[str, Any]) -> SidecarConfig:
    """A Sidecar spec as Istio reads it; no `egress` means one listener importing `*/*`."""
    labels = str_labels(as_dict(spec.get("workloadSelector")).get("labels"))
    listeners = []
    for raw in as_list(spec.get("egress")):
        entry = as_dict(raw)
        port = as_dict(entry.get("port"))
        number = port.get("number")
        protocol = (as_str(port.get("protocol")) or "").upper()
        numeric = isinstance(number, int) and not isinstance(number, bool) and number
        limit = number if numeric and protocol != "HTTP_PROXY" else None
        hosts = tuple(h for h in (as_str(x) for x in as_list(entry.get("hosts"))) if h)
        listeners.append(Listener(hosts, limit))
    mode = as_str(as_dict(spec.get("outboundTrafficPolicy")).get("mode"))
    return SidecarConfig(namespace, name, tuple(sorted(labels.items())) if labels else None,
                         tuple(listeners) or (Listener(("*/*",)),), mode.upper() if mode else None)


def select_sidecar(sidecars: Sequence[SidecarConfig], namespace: str, labels: Mapping[str, str] | None,
                   root_namespace: str) -> SidecarConfig | None:
    """The Sidecar that applies to a workload (`push_context.go` doGetSidecarScope).

    In the workload's namespace, a Sidecar whose selector its labels satisfy, else the namespace's
    selector-less one; else the root namespace's selector-less one (the mesh default); else None
    (everything visible is imported). Nothing merges: the first found replaces the others. `labels`
    None stands for a workload whose labels are unknown: only selector-less Sidecars are certain.
    `sidecars` come in Istio's order (oldest first); a repository cannot tell age, so callers pass
    them sorted by name and treat several candidates as ambiguous.
    """
    local = [s for s in sidecars if s.namespace == namespace]
    if labels is not None:
        for sidecar in local:
            if sidecar.selector is not None and set(sidecar.selector) <= set(labels.items()):
                return sidecar
    for sidecar in local:
        if sidecar.selector is None:
            return sidecar
    for sidecar in sidecars:
        # A selector Sidecar in the root namespace applies only to the root namespace's own pods.
        if sidecar.namespace == root_namespace and sidecar.selector is None:
            return sidecar
    return None


@dataclass(frozen=True)
class HostSet:
    """Egress hosts for one namespace key (`sidecar.go` hostClassification)."""

    hosts: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def matches_service(self, host: str) -> bool:
        """hostClassification.Matches: the service's host is a subset of an imported host."""
        return any(h == host or ((_wild(h) or _wild(host)) and H.covers(h, host)) for h in self.hosts)

    def matches_virtual_service(self, host: str) -> bool:
        """hostClassification.VSMatches for classic VirtualServices: either direction (`Matches`)."""
        return any(h == host or ((_wild(h) or _wild(host)) and H.matches(h, host)) for h in self.hosts)

    def excludes(self, host: str) -> bool:
        return any(H.covers(x, host) for x in self.excluded)


def _wild(host: str) -> bool:
    return host.startswith("*")


def read_hosts(entries: Iterable[str], client_namespace: str, exclusions: bool = True) -> dict[str, HostSet]:
    """Egress `hosts` by namespace key (`sidecar.go` convertIstioListenerToWrapper).

    `.` is the client's namespace, `*` any namespace. With `exclusions` (Istio 1.31+), `~ns/host`
    subtracts and `~/host` subtracts in every namespace; before, `~` is a namespace name that no
    object has, so such entries import nothing. Entries without exactly one `/` are skipped.
    """
    out: dict[str, tuple[list[str], list[str]]] = {}
    for raw in entries:
        if raw.count("/") != 1:
            continue
        ns, name = raw.split("/")
        excluded = exclusions and ns.startswith("~")
        if excluded:
            ns = ns[1:] or ANY_NAMESPACE
        if ns == ".":
            ns = client_namespace
        hosts, minus = out.setdefault(ns, ([], []))
        (minus if excluded else hosts).append(name.lower())
    return {ns: HostSet(tuple(a), tuple(b)) for ns, (a, b) in out.items()}


def imports_service(hosts: Mapping[str, HostSet], host: str, namespace: str) -> bool:
    """Whether one listener's hosts import a service defined in `namespace` (`sidecar.go` selectServices)."""
    own, anyns = hosts.get(namespace), hosts.get(ANY_NAMESPACE)
    if (own and own.excludes(host)) or (anyns and anyns.excludes(host)):
        return False
    return bool((own and own.matches_service(host)) or (anyns and anyns.matches_service(host)))


def imports_virtual_service(hosts: Mapping[str, HostSet], vs_hosts: Iterable[str], vs_namespace: str) -> bool:
    """Whether one listener's hosts import a VirtualService (`virtualservice.go` SelectVirtualServices):
    one of its hosts matches an entry for the VirtualService's namespace or `*`, and is not excluded."""
    own, anyns = hosts.get(vs_namespace), hosts.get(ANY_NAMESPACE)
    for host in vs_hosts:
        if (own and own.excludes(host)) or (anyns and anyns.excludes(host)):
            continue
        if (own and own.matches_virtual_service(host)) or (anyns and anyns.matches_virtual_service(host)):
            return True
    return False


@dataclass(frozen=True)
class ServiceDef:
    """A host defined by a Kubernetes Service or a ServiceEntry."""

    host: str  # FQDN
    namespace: str
    visibility: Visibility
    kubernetes: bool = True
    ports: tuple[int, ...] = ()  # empty: unknown (every port assumed)


@dataclass(frozen=True)
class VirtualServiceDef:
    namespace: str
    name: str
    spec: Mapping[str, Any]
    visibility: Visibility

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(H.fqdn(h, self.namespace) for h in (as_str(x) for x in as_list(self.spec.get("hosts"))) if h)

    @property
    def bound_to_mesh(self) -> bool:
        gateways = [as_str(g) for g in as_list(self.spec.get("gateways"))]
        return not gateways or "mesh" in gateways


def destinations_for(vs: VirtualServiceDef, client_namespace: str) -> dict[str, set[int]]:
    """Destination host -> ports (0: unspecified) a client namespace takes from a VirtualService
    (`push_context.go` virtualServiceDestinationsFilteredBySourceNamespace): HTTP routes whose
    matches all name another `sourceNamespace` are skipped."""
    out: dict[str, set[int]] = {}

    def add(dest: Any) -> None:
        dest = as_dict(dest)
        host = as_str(dest.get("host"))
        if host:
            number = as_dict(dest.get("port")).get("number")
            out.setdefault(H.fqdn(host, vs.namespace), set()).add(number if isinstance(number, int) else 0)

    for raw in as_list(vs.spec.get("http")):
        rule = as_dict(raw)
        if not _from_namespace(rule, client_namespace):
            continue
        for route in as_list(rule.get("route")):
            add(as_dict(route).get("destination"))
        if rule.get("mirror"):
            add(rule.get("mirror"))
        for mirror in as_list(rule.get("mirrors")):
            add(as_dict(mirror).get("destination"))
    for section in ("tcp", "tls"):
        for raw in as_list(vs.spec.get(section)):
            for route in as_list(as_dict(raw).get("route")):
                add(as_dict(route).get("destination"))
    return out


def _from_namespace(rule: dict[str, Any], client_namespace: str) -> bool:
    """Istio's reading of `match[].sourceNamespace` for this filter: a match naming the client
    namespace keeps the route; one naming another drops it unless a later one names the client."""
    keep = True
    for match in as_list(rule.get("match")):
        source = as_str(as_dict(match).get("sourceNamespace"))
        if source:
            if source == client_namespace:
                return True
            keep = False
    return keep


@dataclass(frozen=True)
class Scope:
    """What sidecars of one namespace (and labels) import."""

    namespace: str
    sidecar: SidecarConfig | None  # None: no Sidecar applies, everything visible is imported
    services: Mapping[str, str]  # host -> namespace of the definition imported
    pulled_in: frozenset[str]  # hosts imported only as destinations of an imported VirtualService
    virtual_services: frozenset[tuple[str, str]]  # (namespace, name)
    outbound_mode: str = field(default=ALLOW_ANY)

    def imports(self, host: str) -> bool:
        return host in self.services


def scope(namespace: str, labels: Mapping[str, str] | None, sidecars: Sequence[SidecarConfig],
          services: Sequence[ServiceDef], virtual_services: Sequence[VirtualServiceDef], root_namespace: str,
          mesh_outbound_mode: str = ALLOW_ANY, exclusions: bool = True) -> Scope:
    """The import scope of sidecars in `namespace` with `labels` (see `select_sidecar`).

    Services must be visible to the namespace (exportTo / the Service annotation). A hostname defined
    in several namespaces resolves to the client's own namespace, then to a Kubernetes Service over a
    ServiceEntry (`selectServices`, PILOT_UNIFIED_SIDECAR_SCOPE). Destinations of imported
    VirtualServices join the scope: a Service of that host in the client's own namespace with no
    visibility check, else a visible one, Kubernetes first (`collectImportedServices`,
    `pickBestVisibleNamespace`). The outbound mode is the applying Sidecar's, else the mesh's: it is
    never inherited from a Sidecar that was replaced (`initSidecarScopeInternalIndexes`).
    """
    sidecar = select_sidecar(sidecars, namespace, labels, root_namespace)
    listeners = sidecar.listeners if sidecar else (Listener(("*/*",)),)
    visible = [s for s in services if s.visibility.sees(namespace)]
    chosen: dict[str, ServiceDef] = {}
    vss: dict[tuple[str, str], VirtualServiceDef] = {}
    for listener in listeners:
        hosts = read_hosts(listener.hosts, namespace, exclusions)
        for svc in visible:
            if listener.port is not None and svc.ports and listener.port not in svc.ports:
                continue
            if imports_service(hosts, svc.host, svc.namespace):
                chosen[svc.host] = _prefer(chosen.get(svc.host), svc, namespace)
        for vs in virtual_services:
            if (vs.bound_to_mesh and vs.visibility.sees(namespace)
                    and imports_virtual_service(hosts, vs.hosts, vs.namespace)):
                vss[(vs.namespace, vs.name)] = vs
    pulled: set[str] = set()
    for vs in vss.values():
        for host, ports in destinations_for(vs, namespace).items():
            if host in chosen:
                continue
            candidate = _pick_destination(services, host, namespace, ports)
            if candidate is not None:
                chosen[host] = candidate
                pulled.add(host)
    mode = (sidecar.outbound_mode if sidecar else None) or mesh_outbound_mode
    return Scope(namespace, sidecar, {h: s.namespace for h, s in chosen.items()}, frozenset(pulled),
                 frozenset(vss), mode)


def _prefer(current: ServiceDef | None, new: ServiceDef, client_namespace: str) -> ServiceDef:
    if current is None or new.namespace == client_namespace:
        return new
    if current.namespace != client_namespace and new.kubernetes and not current.kubernetes:
        return new
    return current


def _pick_destination(services: Sequence[ServiceDef], host: str, client_namespace: str,
                      ports: set[int]) -> ServiceDef | None:
    defs = [s for s in services if s.host == host]
    own = [s for s in defs if s.namespace == client_namespace]
    pool = own or sorted((s for s in defs if s.visibility.sees(client_namespace)), key=lambda s: not s.kubernetes)
    for svc in pool[:1]:
        # a service with none of the routed ports is left out (serviceMatchingVirtualServicePorts)
        if 0 in ports or not svc.ports or ports & set(svc.ports):
            return svc
    return None


def lost_hosts(before: Scope, after: Scope) -> list[str]:
    """Hosts the namespace imported before and no longer does."""
    return sorted(h for h in before.services if h not in after.services)
