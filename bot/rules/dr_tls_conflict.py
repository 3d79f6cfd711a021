"""dr-tls-conflict: what a DestinationRule sends to a port is not what the server accepts there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot import hosts as H
from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio import mtls_ports as M
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import NETWORK_ISSUES, finding
from bot.values import as_dict, as_list, as_str, str_labels
from bot.views import dr_host

ID = "dr-tls-conflict"
SEVERITY = Severity.ERROR  # warning for port keys on the wrong side, and where the outcome is unknown
SUMMARY = "A DestinationRule's TLS mode conflicts with the mutual TLS mode of the server port it reaches"
GUIDANCE = NETWORK_ISSUES + "#503-errors-after-setting-destination-rule"
DIFF_ONLY = False
READS: tuple[str, ...] = ('mesh-mtls', 'root-namespace')
WHY = (
    "Mutual TLS is decided per port on both sides. The server's mode comes from the mesh, namespace and "
    "workload PeerAuthentication, and a workload policy's portLevelMtls overrides it per target (container) "
    "port. The client's mode comes from the DestinationRule, where a portLevelSettings entry for a Service "
    "port replaces the top-level policy for that port and a subset's policy overrides both. The bot maps each "
    "Service port to its target port through the Service in the repository and compares the two sides there: "
    "DISABLE, SIMPLE or MUTUAL sent to a STRICT port, or ISTIO_MUTUAL sent to a DISABLE port, fails every "
    "connection (503). A port key written on the wrong side (a Service port in portLevelMtls, a target port "
    "in portLevelSettings) silently does nothing. When a named target port cannot be resolved from the "
    "repository, or workload policies may apply that the repository cannot match to pods, the bot says the "
    "outcome is unknown (a warning) instead of asserting an error."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/security/authn/policy_applier.go ComposePeerAuthentication',
    'istio/istio pilot/pkg/networking/core/listener_inbound.go (inbound chains per target port)',
    'istio/istio pilot/pkg/networking/util/util.go GetPortLevelTrafficPolicy, MergeSubsetTrafficPolicy',
    'istio/istio pilot/pkg/networking/core/filterchain_options.go (STRICT: TLS-only chain; DISABLE: plaintext-only)',
    'istio/istio pilot/pkg/serviceregistry/kube/controller/util.go FindPort (named target ports per pod)',
    'https://istio.io/latest/docs/reference/config/security/peer_authentication/ (portLevelMtls keys are '
    'workload ports)',
)
BAD = M.NOT_ISTIO_MTLS  # client modes that do not send Istio mTLS


def _policies(mesh: Mesh, configured: str | None) -> list[M.PeerAuth]:
    """Every PeerAuthentication, by key (the repository cannot tell which is older). With config
    `mesh-mtls`, the config stands for the mesh-wide policy."""
    root = mesh.settings.root_namespace
    out = [M.read_peer_authentication(pa.namespace, pa.name, pa.spec)
           for pa in sorted(mesh.of("PeerAuthentication"), key=lambda r: r.key)]
    if configured is not None:
        out = [p for p in out if not (p.namespace == root and p.selector is None)]
    return out


def _resource(mesh: Mesh, policy: M.PeerAuth | None) -> Resource | None:
    return mesh.get("PeerAuthentication", policy.namespace, policy.name) if policy else None


def _source(mesh: Mesh, mode: M.ServerMode) -> str:
    res = _resource(mesh, mode.source)
    if res is None:
        return "mesh-wide config (mesh-mtls)" if mode.mode != M.PERMISSIVE else "Istio's default"
    return res.display + (" portLevelMtls" if mode.port_level else "")


def tls_modes(dr: Resource) -> list[tuple[str, tuple[str | int, ...]]]:
    """(mode, field path) of every TLS setting in a DestinationRule: top level, per port, per subset."""
    out: list[tuple[str, tuple[str | int, ...]]] = []

    def policy(tp: Any, path: tuple[str | int, ...]) -> None:
        tp = as_dict(tp)
        mode = as_str(as_dict(tp.get("tls")).get("mode"))
        if mode:
            out.append((mode.upper(), (*path, "tls", "mode")))
        for i, port in enumerate(as_list(tp.get("portLevelSettings"))):
            mode = as_str(as_dict(as_dict(port).get("tls")).get("mode"))
            if mode:
                out.append((mode.upper(), (*path, "portLevelSettings", i, "tls", "mode")))

    policy(dr.spec.get("trafficPolicy"), ("spec", "trafficPolicy"))
    for i, subset in enumerate(as_list(dr.spec.get("subsets"))):
        policy(as_dict(subset).get("trafficPolicy"), ("spec", "subsets", i, "trafficPolicy"))
    return out


def _subsets(dr: Resource) -> list[str | None]:
    return [None, *(name for s in as_list(dr.spec.get("subsets")) if (name := as_str(as_dict(s).get("name"))))]


def _ports(checks: list[M.PortCheck]) -> str:
    return ", ".join(f"{c.mapping.port} (target {c.mapping.target})" if c.mapping.target != c.mapping.port
                     else str(c.mapping.port) for c in checks)


def _with_service(ctx: Context, dr: Resource, host: str, svc: Resource,
                  policies: list[M.PeerAuth]) -> Iterator[Finding]:
    """Each Service port of the host: the client's mode there against the server's at its target port."""
    mesh, root = ctx.head, ctx.config.root_namespace
    labels = str_labels(svc.spec.get("selector"))
    conflicts: dict[tuple[str | int, ...], list[M.PortCheck]] = {}
    unknown: dict[tuple[str | int, ...], list[M.PortCheck]] = {}
    for subset in _subsets(dr):
        for pc in M.check_ports(dr.spec, svc.spec, policies, svc.namespace, labels, root, ctx.config.mesh_mtls,
                                subset):
            if pc.conflict is not None:
                group = conflicts.setdefault(pc.client.path, [])
            elif pc.unknown and pc.client.mode is not None:
                group = unknown.setdefault(pc.client.path, [])
            else:
                continue
            if pc.mapping not in [c.mapping for c in group]:
                group.append(pc)
    for path, checks in conflicts.items():
        first, server, conflict = checks[0], checks[0].server, checks[0].conflict
        if server is None or conflict is None:  # a conflict always has both
            continue
        sources = sorted({_source(mesh, c.server) for c in checks if c.server})
        related = [r for c in checks if c.server and (r := _resource(mesh, c.server.source))]
        mode = first.client.mode or "plaintext"
        yield finding(
            ID, SEVERITY, dr,
            f"sends {mode} to {host} on service port {_ports(checks)}, where the server's mode is "
            f"{server.mode} ({', '.join(sources)}): {conflict.reason}, and every request fails with 503",
            fix=("use ISTIO_MUTUAL (or no tls, for auto mTLS) on these ports" if mode in BAD else
                 "remove the tls setting for these ports (auto mTLS sends plaintext where the server takes only "
                 "plaintext)"),
            detail=f"{mode}@{'.'.join(map(str, path[1:]))}", related=related, line=dr.field_line(*path))
    for path, checks in unknown.items():
        names = ", ".join(f"{c.mapping.port} (target port named {c.mapping.target_name})" for c in checks)
        yield finding(
            ID, Severity.WARNING, dr,
            f"sends {checks[0].client.mode} to {host} on service port {names}; the repository cannot resolve that "
            f"name to a container port, and portLevelMtls of the workload's PeerAuthentication sets other modes on "
            "some ports, so whether the server accepts it is unknown",
            fix="check the container port behind the name, or write the target port as a number",
            detail=f"unknown:{'.'.join(map(str, path[1:]))}", line=dr.field_line(*path))
    for key, service_port, path in M.inert_dr_ports(dr.spec, svc.spec):
        entry = path[:-2]
        if not as_str(as_dict(_at(dr.spec, entry[1:]).get("tls")).get("mode")):
            continue  # no TLS setting there: not this rule's matter
        where = (f"the target port of its port {service_port}" if service_port is not None
                 else "no port of it at all")
        yield finding(
            ID, Severity.WARNING, dr,
            f"sets TLS for port {key}, which is not a port of {svc.display} but {where}; portLevelSettings are "
            "keyed by Service port, so the entry never applies",
            fix=f"key the entry by the Service port{f' ({service_port})' if service_port is not None else ''}",
            detail=f"inert-port:{key}", related=[svc], line=dr.field_line(*path))


def _at(spec: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    """The mapping at a field path (`dr_port_keys` paths exist by construction)."""
    node: Any = spec
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return {}
    return as_dict(node)


def _without_service(ctx: Context, dr: Resource, host: str, namespace: str,
                     policies: list[M.PeerAuth]) -> Iterator[Finding]:
    """The Service (and so its ports and pods) is not in the repository: only the namespace's or the
    mesh's mode is certain, and only when no workload policy in the namespace could override it."""
    mesh = ctx.head
    mode = M.server_mode(policies, namespace, None, None, ctx.config.root_namespace, ctx.config.mesh_mtls)
    workload = [p for p in policies if p.namespace == namespace and p.selector is not None]
    for tls, path in tls_modes(dr):
        client = M.ClientTls(tls, path)
        conflict = M.conflict(client, mode)
        if conflict is None:
            continue
        source = _source(mesh, mode)
        related = [r for r in [_resource(mesh, mode.source)] if r]
        if workload:
            names = ", ".join(f"PeerAuthentication {p.namespace}/{p.name}" for p in workload)
            yield finding(
                ID, Severity.WARNING, dr,
                f"sets tls.mode {tls} for {host}, whose namespace requires {mode.mode} ({source}); {names} may "
                "set another mode for its workloads, and the Service is not in the repository, so whether the "
                "servers reject it is unknown",
                fix="use tls.mode ISTIO_MUTUAL (or remove the tls block) for in-mesh hosts",
                detail=f"{tls}@{'.'.join(map(str, path[1:]))}", related=related, line=dr.field_line(*path))
            continue
        if mode.mode == M.STRICT:
            message = (f"sets tls.mode {tls} for {host}, whose servers require mutual TLS (STRICT, from {source}); "
                       "clients stop sending Istio mTLS and every request fails with 503")
        else:
            message = (f"sets tls.mode {tls} for {host}, whose servers require {mode.mode} ({source}): "
                       f"{conflict.reason}, and every request fails with 503")
        yield finding(
            ID, SEVERITY, dr, message,
            fix="use tls.mode ISTIO_MUTUAL (or remove the tls block) for in-mesh hosts",
            detail=f"{tls}@{'.'.join(map(str, path[1:]))}", related=related, line=dr.field_line(*path))


def _wildcard(ctx: Context, dr: Resource, host: str, policies: list[M.PeerAuth]) -> Iterator[Finding]:
    """A wildcard host covering in-mesh services: the mesh-wide mode is what every namespace starts from."""
    mesh = ctx.head
    mode = M.server_mode(policies, "", None, None, ctx.config.root_namespace, ctx.config.mesh_mtls)
    if mode.mode != M.STRICT:
        return
    for tls, path in tls_modes(dr):
        if tls in BAD:
            yield finding(
                ID, SEVERITY, dr,
                f"sets tls.mode {tls} for every in-mesh service matching {host}, whose servers require mutual TLS "
                f"(STRICT, from {_source(mesh, mode)}); clients stop sending Istio mTLS and every request fails "
                "with 503",
                fix="use tls.mode ISTIO_MUTUAL (or remove the tls block) for in-mesh hosts",
                detail=f"{tls}@{'.'.join(map(str, path[1:]))}",
                related=[r for r in [_resource(mesh, mode.source)] if r], line=dr.field_line(*path))


def _peer_authentications(ctx: Context) -> Iterator[Finding]:
    """portLevelMtls keys are target ports: a key that is a Service port with another target port is inert."""
    mesh = ctx.head
    for pa in ctx.subjects("PeerAuthentication"):
        policy = M.read_peer_authentication(pa.namespace, pa.name, pa.spec)
        if policy.selector is None or not policy.port_modes:
            continue
        wanted = set(policy.selector)
        services = [svc for svc in mesh.of("Service") if svc.namespace == pa.namespace
                    and wanted <= set(str_labels(svc.spec.get("selector")).items())]
        for svc in services:
            for key, target in M.inert_pa_ports(policy, [svc.spec]):
                yield finding(
                    ID, Severity.WARNING, pa,
                    f"sets portLevelMtls for port {key}, which is the Service port of {svc.display} whose target "
                    f"port is {target}; portLevelMtls is keyed by workload (target) port, so the entry does not "
                    f"govern what callers reach through port {key}",
                    fix=f"key the entry by the target port ({target})",
                    detail=f"inert-port:{key}:{svc.namespace}/{svc.name}", related=[svc],
                    line=pa.field_line("spec", "portLevelMtls"))


def check(ctx: Context) -> Iterator[Finding]:
    mesh = ctx.head
    policies = _policies(mesh, ctx.config.mesh_mtls)
    for dr in ctx.subjects("DestinationRule"):
        host = dr_host(dr)
        if not host or not tls_modes(dr):
            continue  # no tls setting anywhere: auto mTLS follows each port, and no port entry sets TLS
        ns = H.service_namespace(host)
        if ns:
            svc = mesh.get("Service", ns, host.split(".")[0])
            if svc is not None:
                yield from _with_service(ctx, dr, host, svc, policies)
            else:
                yield from _without_service(ctx, dr, host, ns, policies)
        elif host.startswith("*") and H.covers(host, f"x.y.{H.DOMAIN}"):
            yield from _wildcard(ctx, dr, host, policies)
        # any other host is not in the mesh: external TLS is legitimate
    yield from _peer_authentications(ctx)
