"""Who uses a host from where: client-side configuration that proves a namespace calls it.

A namespace that holds a DestinationRule for a host, a VirtualService (applied by its sidecars: bound
to `mesh`) written for the host or routing to it, or a ServiceEntry defining it, calls that host: the
DestinationRule is looked up from the client's namespace first (`pilot/pkg/model/push_context.go`
destinationRule), and a VirtualService shapes the traffic of the sidecars that import it. When a
Service (annotation `networking.istio.io/exportTo`, read in
`pilot/pkg/serviceregistry/kube/conversion.go`), a ServiceEntry or a DestinationRule stops being
visible to such a namespace, or a Sidecar stops importing the host, its sidecars drop the host or the
rule, and that configuration stops applying
(https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import hosts as H
from bot.istio.sidecar_scope import VirtualServiceDef, destinations_for
from bot.values import as_list, as_str
from bot.visibility import EVERYONE, Visibility


@dataclass(frozen=True)
class ClientConfig:
    kind: str
    namespace: str
    name: str
    written_for: tuple[str, ...]  # hosts it configures (DestinationRule host, VirtualService/ServiceEntry hosts)
    routes_to: tuple[str, ...] = ()  # VirtualService destination hosts, resolved


def read_client_config(kind: str, namespace: str, name: str, spec: Mapping[str, Any]) -> ClientConfig | None:
    if kind == "DestinationRule":
        host = as_str(spec.get("host"))
        return ClientConfig(kind, namespace, name, (H.fqdn(host, namespace),)) if host else None
    if kind == "VirtualService":
        vs = VirtualServiceDef(namespace, name, spec, EVERYONE)
        if not vs.bound_to_mesh:
            return None  # only gateways apply it: it says nothing about its namespace's sidecars
        # the hosts it sends its own namespace's requests to (routes and mirrors)
        return ClientConfig(kind, namespace, name, vs.hosts, tuple(sorted(destinations_for(vs, namespace))))
    if kind == "ServiceEntry":
        hosts = tuple(H.fqdn(h, namespace) for h in (as_str(x) for x in as_list(spec.get("hosts"))) if h)
        return ClientConfig(kind, namespace, name, hosts) if hosts else None
    return None


def uses(config: ClientConfig, host: str) -> str | None:
    """How `config` shows that its namespace calls `host` (a phrase), or None."""
    if host in config.routes_to:
        return "routes to it"
    if config.kind == "DestinationRule" and any(H.covers(h, host) for h in config.written_for):
        return "sets its traffic policy"
    if config.kind == "VirtualService" and any(H.matches(h, host) for h in config.written_for):
        return "routes its requests"
    if config.kind == "ServiceEntry" and host in config.written_for:
        return "defines it"
    return None


def users_losing(host: str, lost: Visibility, configs: Iterable[ClientConfig],
                 skip: tuple[str, str, str] | None = None) -> list[tuple[ClientConfig, str]]:
    """Client-side configuration in the namespaces that lose sight of `host`. `skip` leaves out the
    resource whose visibility changed, as (kind, namespace, name)."""
    out = []
    for config in configs:
        if skip == (config.kind, config.namespace, config.name) or not lost.sees(config.namespace):
            continue
        why = uses(config, host)
        if why:
            out.append((config, why))
    return out
