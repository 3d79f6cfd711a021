"""Mutual TLS per port: what a server accepts on a target port, what a client sends to a service port.

Server side follows `pilot/pkg/security/authn/policy_applier.go` ComposePeerAuthentication: the
mesh policy (selector-less, root namespace), then the namespace policy (selector-less, workload's
namespace), then the workload policy (a selector, outside the root namespace); UNSET inherits;
nothing set is PERMISSIVE. `portLevelMtls` comes only from the workload policy and is keyed by the
**workload (target) port** (`pilot/pkg/networking/core/listener_inbound.go` uses the target port).
A selector policy in the root namespace is ignored by sidecars (policy_applier_test.go "ignore
non-emptypb selector in root namespace").

Client side follows `pilot/pkg/networking/util/util.go` GetPortLevelTrafficPolicy and
MergeSubsetTrafficPolicy: a DestinationRule `portLevelSettings` entry is keyed by the **service
port** and replaces the top-level policy for that port (no field inheritance); a subset's policy
then overrides per field (its own port entry replacing its top level). No `tls` means auto mTLS
(`pilot/pkg/networking/core/cluster_tls.go`), which follows each endpoint and port.

Kubernetes maps a service port to a target port (`spec.ports[].targetPort`, a number, a name
resolved per pod against container ports, or omitted: the port itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.values import as_dict, as_list, as_str, str_labels

STRICT, PERMISSIVE, DISABLE = "STRICT", "PERMISSIVE", "DISABLE"
ISTIO_MUTUAL = "ISTIO_MUTUAL"
NOT_ISTIO_MTLS = ("DISABLE", "SIMPLE", "MUTUAL")  # client modes that do not send Istio mTLS


def _mode(value: Any) -> str | None:
    mode = as_str(as_dict(value).get("mode"))
    return mode.upper() if mode and mode.upper() != "UNSET" else None


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)  # portLevelMtls keys are strings once read from YAML maps of numbers
    return None


@dataclass(frozen=True)
class PeerAuth:
    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...] | None  # selector.matchLabels; None or empty: namespace-wide
    mode: str | None  # None: UNSET or absent
    port_modes: tuple[tuple[int, str | None], ...] = ()  # portLevelMtls: target port -> mode (None: UNSET)


def read_peer_authentication(namespace: str, name: str, spec: Mapping[str, Any]) -> PeerAuth:
    labels = str_labels(as_dict(spec.get("selector")).get("matchLabels"))
    ports = []
    for key, value in as_dict(spec.get("portLevelMtls")).items():
        number = _port(key)
        if number is not None:
            ports.append((number, _mode(value)))
    return PeerAuth(namespace, name, tuple(sorted(labels.items())) if labels else None, _mode(spec.get("mtls")),
                    tuple(sorted(ports)))


@dataclass(frozen=True)
class ServerMode:
    """What a server workload accepts on one target port, and which policy says so."""

    mode: str
    source: PeerAuth | None  # None: nothing in the repository sets it (mesh-wide config or the default)
    port_level: bool = False
    ignored: tuple[PeerAuth, ...] = ()  # root-namespace selector policies, younger policies of a tier

    @property
    def accepts_plaintext(self) -> bool:
        return self.mode in (PERMISSIVE, DISABLE)

    @property
    def accepts_mtls(self) -> bool:
        return self.mode in (PERMISSIVE, STRICT)


def server_mode(policies: Sequence[PeerAuth], namespace: str, labels: Mapping[str, str] | None,
                target_port: int | None, root_namespace: str, mesh_mode: str | None = None) -> ServerMode:
    """The mTLS mode a workload in `namespace` with `labels` enforces on `target_port`.

    `policies` come oldest first (the first of a tier wins; a repository cannot tell age, so callers
    pass them by name and report the others as `ignored`). `labels` None: the workload's labels are
    unknown, so workload policies cannot be applied. `mesh_mode` stands in for a mesh policy that is
    not in the repository.
    """
    mesh = [p for p in policies if p.namespace == root_namespace and p.selector is None]
    local = [p for p in policies if p.namespace == namespace and namespace != root_namespace and p.selector is None]
    workload = [p for p in policies if p.namespace == namespace and namespace != root_namespace and p.selector
                is not None and labels is not None and set(p.selector) <= set(labels.items())]
    ignored = (*mesh[1:], *local[1:], *workload[1:],
               *(p for p in policies if p.namespace == root_namespace and p.selector is not None))
    mode, source = (mesh_mode or PERMISSIVE), None
    if mesh and mesh[0].mode:
        mode, source = mesh[0].mode, mesh[0]
    if local and local[0].mode:
        mode, source = local[0].mode, local[0]
    if workload and workload[0].mode:
        mode, source = workload[0].mode, workload[0]
    if workload and target_port is not None:
        for port, port_mode in workload[0].port_modes:
            if port == target_port:
                return ServerMode(port_mode or mode, workload[0], True, ignored)
    return ServerMode(mode, source, False, ignored)


@dataclass(frozen=True)
class ClientTls:
    """What a client sends to one service port (and subset) of a host."""

    mode: str | None  # None: no tls setting, auto mTLS decides per endpoint
    path: tuple[str | int, ...]  # where the deciding `tls` (or the replacing port entry) is written
    port_entry: bool = False  # a portLevelSettings entry for this port decided


def client_tls(spec: Mapping[str, Any], service_port: int | None, subset: str | None = None) -> ClientTls:
    """The TLS mode a DestinationRule gives `service_port` (and `subset`), with the field that decides."""
    top = as_dict(spec.get("trafficPolicy"))
    result = _policy_tls(top, service_port, ("spec", "trafficPolicy"))
    if subset is None:
        return result
    for i, raw in enumerate(as_list(spec.get("subsets"))):
        entry = as_dict(raw)
        if as_str(entry.get("name")) != subset:
            continue
        policy = as_dict(entry.get("trafficPolicy"))
        if policy:
            own = _policy_tls(policy, service_port, ("spec", "subsets", i, "trafficPolicy"))
            if own.mode is not None or own.port_entry:
                return own
        break
    return result


def _policy_tls(policy: dict[str, Any], port: int | None, path: tuple[str | int, ...]) -> ClientTls:
    for i, raw in enumerate(as_list(policy.get("portLevelSettings"))):
        entry = as_dict(raw)
        if port is not None and _port(as_dict(entry.get("port")).get("number")) == port:
            where = (*path, "portLevelSettings", i)
            mode = _mode(entry.get("tls"))
            return ClientTls(mode, (*where, "tls", "mode") if mode else where, True)
    mode = _mode(policy.get("tls"))
    return ClientTls(mode, (*path, "tls", "mode") if mode else path)


def dr_port_keys(spec: Mapping[str, Any]) -> list[tuple[int, tuple[str | int, ...]]]:
    """Every `portLevelSettings` port of a DestinationRule (top level and subsets) with its path."""
    out = []
    for policy, path in [(as_dict(spec.get("trafficPolicy")), ("spec", "trafficPolicy")),
                         *((as_dict(as_dict(s).get("trafficPolicy")), ("spec", "subsets", i, "trafficPolicy"))
                           for i, s in enumerate(as_list(spec.get("subsets"))))]:
        for j, raw in enumerate(as_list(policy.get("portLevelSettings"))):
            number = _port(as_dict(as_dict(raw).get("port")).get("number"))
            if number is not None:
                out.append((number, (*path, "portLevelSettings", j, "port", "number")))
    return out


@dataclass(frozen=True)
class PortMapping:
    """One Service port and the workload port behind it."""

    port: int
    target: int | None  # None: a named targetPort the repository cannot resolve
    target_name: str | None = None


def service_ports(service_spec: Mapping[str, Any],
                  container_ports: Mapping[str, int] | None = None) -> list[PortMapping]:
    """The ports of a Kubernetes Service with their target ports.

    A named targetPort is resolved with `container_ports` (name -> number, from the pods' spec) when
    known, else left unknown: Istio resolves it per pod (`pilot/pkg/serviceregistry/kube/controller/util.go`
    FindPort), and different pods may map it to different numbers.
    """
    out = []
    for raw in as_list(service_spec.get("ports")):
        entry = as_dict(raw)
        port = _port(entry.get("port"))
        if port is None:
            continue
        target = entry.get("targetPort")
        if target is None:
            out.append(PortMapping(port, port))
        elif (number := _port(target)) is not None:
            out.append(PortMapping(port, number))
        else:
            name = str(target)
            out.append(PortMapping(port, (container_ports or {}).get(name), name))
    return out


@dataclass(frozen=True)
class Conflict:
    """A client setting that the server's mode on that port rejects."""

    client: ClientTls
    server: ServerMode
    reason: str


def conflict(client: ClientTls, server: ServerMode, auto_mtls: bool = True) -> Conflict | None:
    """Whether what the client sends cannot be accepted.

    Plaintext or non-Istio TLS against STRICT (the TLS-only chain closes it: 503); Istio mTLS against
    DISABLE (the ClientHello meets a plaintext-only chain); plaintext without auto mTLS against
    STRICT. See https://istio.io/latest/docs/ops/common-problems/network-issues/#503-errors-after-setting-destination-rule.
    """
    if client.mode in NOT_ISTIO_MTLS and server.mode == STRICT:
        return Conflict(client, server, f"{client.mode} traffic meets a server that accepts only mutual TLS")
    if client.mode == ISTIO_MUTUAL and server.mode == DISABLE:
        return Conflict(client, server, "Istio mutual TLS meets a server port that accepts only plaintext")
    if client.mode is None and not auto_mtls and server.mode == STRICT:
        return Conflict(client, server, "plaintext (auto mTLS is off) meets a server that accepts only mutual TLS")
    return None


@dataclass(frozen=True)
class PortCheck:
    """One service port of a host, checked end to end."""

    mapping: PortMapping
    client: ClientTls
    server: ServerMode | None  # None: the target port is unknown
    conflict: Conflict | None

    @property
    def unknown(self) -> bool:
        return self.server is None


def check_ports(dr_spec: Mapping[str, Any], service_spec: Mapping[str, Any], policies: Sequence[PeerAuth],
                namespace: str, labels: Mapping[str, str] | None, root_namespace: str,
                mesh_mode: str | None = None, subset: str | None = None,
                container_ports: Mapping[str, int] | None = None) -> list[PortCheck]:
    """Each service port: the client's mode there against the server's mode at its target port.

    Where the target port is unknown, the server mode is still known when no workload policy sets
    `portLevelMtls` (every port then has the workload mode); otherwise it is left unknown.
    """
    out = []
    has_port_levels = any(p.port_modes for p in policies if p.namespace == namespace and p.selector is not None)
    for mapping in service_ports(service_spec, container_ports):
        client = client_tls(dr_spec, mapping.port, subset)
        if mapping.target is None and has_port_levels:
            out.append(PortCheck(mapping, client, None, None))
            continue
        server = server_mode(policies, namespace, labels, mapping.target, root_namespace, mesh_mode)
        out.append(PortCheck(mapping, client, server, conflict(client, server)))
    return out


def inert_dr_ports(dr_spec: Mapping[str, Any], service_spec: Mapping[str, Any]) -> list[tuple[int, int | None,
                                                                                              tuple[str | int, ...]]]:
    """DestinationRule port entries that match no Service port: (key, the Service port whose target
    port it equals, or None; path). Keys are Service ports, so these entries never apply."""
    mappings = service_ports(service_spec)
    ports = {m.port for m in mappings}
    out = []
    for key, path in dr_port_keys(dr_spec):
        if key not in ports:
            out.append((key, next((m.port for m in mappings if m.target == key), None), path))
    return out


def inert_pa_ports(policy: PeerAuth, service_specs: Sequence[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """`portLevelMtls` keys that are a Service port with a different target port: (key, that target
    port). Keys are target ports, so the entry does not govern the Service port it names."""
    out = []
    for spec in service_specs:
        mappings = service_ports(spec)
        targets = {m.target for m in mappings}
        for key, _ in policy.port_modes:
            for m in mappings:
                if m.port == key and m.target is not None and m.target != key and key not in targets:
                    out.append((key, m.target))
    return sorted(set(out))
