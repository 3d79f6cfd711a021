"""sidecar-scope-narrowed: a Sidecar change stops workloads from importing a host they use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot import hosts as H
from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio import mtls_ports as M
from bot.istio import sidecar_scope as S
from bot.istio.consumers import ClientConfig, read_client_config, uses
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import finding
from bot.values import as_dict, as_list, as_str, str_labels
from bot.views import gateway_selector, se_hosts, service_host
from bot.visibility import export_to

ID = "sidecar-scope-narrowed"
SEVERITY = Severity.WARNING  # error under REGISTRY_ONLY, or when the server requires mutual TLS
SUMMARY = "A Sidecar change stops workloads from importing a host they use"
GUIDANCE = "https://istio.io/latest/docs/reference/config/networking/sidecar/"
DIFF_ONLY = True
READS: tuple[str, ...] = ("root-namespace", "mesh-outbound-mode", "mesh-mtls", "istio-version", "export-to-defaults")
WHY = (
    "A Sidecar's egress hosts decide which services and VirtualServices a workload's proxy imports; a "
    "workload Sidecar replaces the namespace's, which replaces the root namespace's default, and nothing "
    "merges, not even outboundTrafficPolicy. When a change (a narrowed host list, a new workload or root "
    "default Sidecar, a ~ exclusion) drops a host that the namespace uses (a VirtualService there routes to "
    "it, a DestinationRule or ServiceEntry there is written for it), the proxy has no cluster for it: under "
    "REGISTRY_ONLY, HTTP calls get 502 and other traffic is closed; under ALLOW_ANY they leave through "
    "PassthroughCluster in plaintext, without the DestinationRule's policy or an Istio identity, and a STRICT "
    "server resets them. Hosts that an imported VirtualService routes to stay imported, and DestinationRules "
    "are not selected by egress hosts. Gateways ignore Sidecars. Egress entries written ~ns/host subtract "
    "hosts from Istio 1.31 (config istio-version); before, validation rejects them."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/model/push_context.go doGetSidecarScope (which Sidecar applies; gateways use none)',
    'istio/istio pilot/pkg/model/sidecar.go convertIstioListenerToWrapper, selectServices, '
    'collectImportedServices, initSidecarScopeInternalIndexes',
    'istio/istio pilot/pkg/model/virtualservice.go SelectVirtualServices',
    'istio/istio pilot/pkg/networking/core/listener_builder.go (PassthroughCluster, BlackHoleCluster)',
    'istio/istio pilot/pkg/networking/core/httproute.go buildCatchAllVirtualHost (502 under REGISTRY_ONLY)',
    'istio/istio commit 4c3c712eed2 (~ exclusions, Istio 1.31); istio/istio#41978 (calls leaving the mesh'
    ' after a Sidecar)',
)


@dataclass(frozen=True)
class _Snapshot:
    """One revision's Sidecars, read for the scope computation."""

    sidecars: list[S.SidecarConfig]
    resources: dict[tuple[str, str], Resource]


def _sidecars(mesh: Mesh) -> _Snapshot:
    found = sorted(mesh.of("Sidecar"), key=lambda r: r.key)  # the repository cannot tell age: by name
    return _Snapshot([S.read_sidecar(r.namespace, r.name, r.spec) for r in found],
                     {(r.namespace, r.name): r for r in found})


def _services(mesh: Mesh, implied: set[str]) -> list[S.ServiceDef]:
    """Services and ServiceEntries with their visibility, plus Kubernetes service hosts that client
    configuration names but the repository does not define (visible as a Service is by default)."""
    out = []
    for svc in mesh.of("Service"):
        numbers = (as_dict(x).get("port") for x in as_list(svc.spec.get("ports")))
        ports = tuple(p for p in numbers if isinstance(p, int))
        out.append(S.ServiceDef(service_host(svc), svc.namespace, mesh.visibility(svc), True, ports))
    for se in mesh.of("ServiceEntry"):
        numbers = (as_dict(x).get("number") for x in as_list(se.spec.get("ports")))
        ports = tuple(p for p in numbers if isinstance(p, int))
        out += [S.ServiceDef(h, se.namespace, mesh.visibility(se), False, ports) for h in se_hosts(se)]
    defined = {s.host for s in out}
    default = mesh.settings.export_to_defaults.get("Service", ("*",))
    for host in sorted(implied - defined):
        ns = H.service_namespace(host)
        if ns:
            out.append(S.ServiceDef(host, ns, export_to(list(default), ns)))
    return out


def _evidence(mesh: Mesh) -> dict[str, list[tuple[ClientConfig, Resource]]]:
    """Client-side configuration by namespace: what shows that its workloads call a host."""
    out: dict[str, list[tuple[ClientConfig, Resource]]] = {}
    for res in (*mesh.of("DestinationRule"), *mesh.of("VirtualService"), *mesh.of("ServiceEntry")):
        config = read_client_config(res.kind, res.namespace, res.name, res.spec)
        if config is not None:
            out.setdefault(res.namespace, []).append((config, res))
    return out


def _affected(ctx: Context, base: _Snapshot, head: _Snapshot, root: str) -> dict[str, list[Mapping[str, str] | None]]:
    """Namespace -> the workload label sets whose Sidecar may have changed (None: no selector Sidecar
    selects them)."""
    namespaces: set[str] = set()
    for change in ctx.changed("Sidecar"):
        for res in (change.base, change.head):
            if res is None:
                continue
            if res.namespace == root and not as_dict(res.spec.get("workloadSelector")).get("labels"):
                # the mesh-wide default, read per client namespace
                namespaces |= set(ctx.head.namespaces) | (set(ctx.base.namespaces) if ctx.base else set())
            else:
                namespaces.add(res.namespace)
    gateways = [sel for gw in ctx.head.of("Gateway") if (sel := gateway_selector(gw))]
    out: dict[str, list[Mapping[str, str] | None]] = {}
    for ns in sorted(namespaces):
        classes: list[Mapping[str, str] | None] = [None]
        for sc in (*base.sidecars, *head.sidecars):
            if sc.namespace == ns and sc.selector is not None and dict(sc.selector) not in classes:
                classes.append(dict(sc.selector))
        # gateway pods use no Sidecar (push_context.go: Router proxies get the default scope)
        out[ns] = [c for c in classes if c is None or not any(g.items() <= c.items() for g in gateways)]
    return out


def _exclusion_entries(res: Resource) -> list[tuple[int, str]]:
    """(listener index, entry) of `~ns/host` entries: subtractions from Istio 1.31 on."""
    out = []
    for i, raw in enumerate(as_list(res.spec.get("egress"))):
        for host in (as_str(h) for h in as_list(as_dict(raw).get("hosts"))):
            if host and host.startswith("~") and host.count("/") == 1 and host.split("/")[0] not in ("~",):
                out.append((i, host))
    return out


def _hosts_line(res: Resource, index: int = 0) -> int | None:
    return res.field_line("spec", "egress", index, "hosts") or res.field_line("spec", "egress") \
        or res.field_line("spec")


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None or not ctx.changed("Sidecar"):
        return
    config = ctx.config
    root = config.root_namespace
    exclusions = config.istio_version >= S.EXCLUSIONS_SINCE
    if not exclusions:
        for change in ctx.changed("Sidecar"):
            if change.head is not None:
                for index, entry in _exclusion_entries(change.head):
                    yield finding(
                        ID, Severity.NOTICE, change.head,
                        f"egress host {entry} subtracts hosts only from Istio 1.31 on (istio-version is "
                        f"{'.'.join(map(str, config.istio_version))}): before, validation rejects this Sidecar",
                        fix="set istio-version if the mesh runs 1.31 or later; otherwise list the hosts to import",
                        detail=f"exclusion:{entry}", line=_hosts_line(change.head, index))
    base, head = _sidecars(ctx.base), _sidecars(ctx.head)
    evidence = _evidence(ctx.head)
    affected = _affected(ctx, base, head, root)
    if not any(ns in evidence for ns in affected):
        return
    implied = {h for configs in evidence.values() for c, _ in configs for h in (*c.written_for, *c.routes_to)}
    services = _services(ctx.head, implied)
    vss = [S.VirtualServiceDef(vs.namespace, vs.name, vs.spec, ctx.head.visibility(vs))
           for vs in ctx.head.of("VirtualService")]
    policies = [M.read_peer_authentication(p.namespace, p.name, p.spec)
                for p in sorted(ctx.head.of("PeerAuthentication"), key=lambda r: r.key)]
    for ns, classes in affected.items():
        configs = evidence.get(ns)
        if not configs:
            continue
        for labels in classes:
            before = S.scope(ns, labels, base.sidecars, services, vss, root, config.mesh_outbound_mode, exclusions)
            after = S.scope(ns, labels, head.sidecars, services, vss, root, config.mesh_outbound_mode, exclusions)
            yield from _report(ctx, ns, labels, before, after, configs, base, head, policies)


def _report(ctx: Context, ns: str, labels: Mapping[str, str] | None, before: S.Scope, after: S.Scope,
            configs: list[tuple[ClientConfig, Resource]], base: _Snapshot, head: _Snapshot,
            policies: list[M.PeerAuth]) -> Iterator[Finding]:
    sidecar = after.sidecar or before.sidecar
    if sidecar is None:
        return
    snapshot = head if after.sidecar is not None else base
    res = snapshot.resources[(sidecar.namespace, sidecar.name)]
    who = f"workloads in {ns}" if labels is None else \
        f"workloads {','.join(f'{k}={v}' for k, v in sorted(labels.items()))} in {ns}"
    replaced = ""
    if before.sidecar is not None and after.sidecar is not None and before.sidecar != after.sidecar \
            and (before.sidecar.namespace, before.sidecar.name) != (after.sidecar.namespace, after.sidecar.name):
        replaced = (f" now use this Sidecar instead of Sidecar {before.sidecar.namespace}/{before.sidecar.name} "
                    "(nothing merges) and")
    reverted = ""
    if after.sidecar is not None and after.sidecar.outbound_mode is None \
            and before.outbound_mode != after.outbound_mode:
        reverted = (f"; this Sidecar sets no outboundTrafficPolicy, so they get the mesh's {after.outbound_mode}, "
                    f"not {before.outbound_mode}")
    lost = []
    for host in S.lost_hosts(before, after):
        shown = [(r, why) for c, r in configs if (why := uses(c, host))]
        if shown:
            lost.append((host, shown))
    if not lost:
        if reverted and (before.outbound_mode, after.outbound_mode) == (S.REGISTRY_ONLY, S.ALLOW_ANY):
            yield finding(
                ID, SEVERITY, res,
                f"{who}{replaced} get the mesh's outbound mode ALLOW_ANY instead of REGISTRY_ONLY: this Sidecar "
                "sets no outboundTrafficPolicy and nothing is inherited from the Sidecar it replaces, so calls to "
                "hosts outside the registry now leave the mesh",
                fix="set outboundTrafficPolicy in this Sidecar too", detail=f"mode:{ns}:{labels}",
                line=_hosts_line(res))
        return
    severity = SEVERITY
    parts = []
    related: list[Resource] = []
    for host, shown in lost:
        definer = before.services.get(host, "")
        server = M.server_mode(policies, definer, _workload(ctx.head, host), None, ctx.config.root_namespace,
                               ctx.config.mesh_mtls) if definer else None
        proof = ", ".join(f"{r.display} {why}" for r, why in shown)
        proof += "; it no longer applies" if len(shown) == 1 else "; they no longer apply"
        if after.outbound_mode == S.REGISTRY_ONLY:
            severity = Severity.ERROR
            effect = "under REGISTRY_ONLY, HTTP calls get 502 and other traffic is closed (BlackHoleCluster)"
        elif server is not None and server.mode == M.STRICT:
            severity = Severity.ERROR
            source = ctx.head.get("PeerAuthentication", server.source.namespace, server.source.name) \
                if server.source else None
            if source is not None:
                related.append(source)
            effect = ("under ALLOW_ANY the calls leave in plaintext through PassthroughCluster and the server "
                      f"requires mutual TLS (STRICT{', ' + source.display if source else ''}): the connections "
                      "are reset")
        else:
            effect = ("under ALLOW_ANY the calls still leave, but through PassthroughCluster: plaintext, with no "
                      "Istio identity")
        parts.append(f"{host} ({proof}): {effect}{_short_name_hint(res, host)}")
        related += [r for r, _ in shown]
    yield finding(
        ID, severity, res,
        f"{who}{replaced} stop importing {'; '.join(parts)}{reverted}",
        fix="keep " + ", ".join(_entry(before, h) for h, _ in lost) + " in the egress hosts",
        detail=f"{ns}:{labels}:" + ",".join(h for h, _ in lost), related=related, line=_hosts_line(res))


def _workload(mesh: Mesh, host: str) -> dict[str, str] | None:
    """The labels of the pods behind a Kubernetes service host, when the Service is in the repository."""
    ns = H.service_namespace(host)
    svc = mesh.get("Service", ns, host.split(".")[0]) if ns else None
    return str_labels(svc.spec.get("selector")) if svc is not None else None


def _entry(before: S.Scope, host: str) -> str:
    ns = before.services.get(host) or H.service_namespace(host) or "*"
    return f"{ns}/{host} (or {ns}/*)"


def _short_name_hint(res: Resource, host: str) -> str:
    """Egress hosts are matched as written: `ns/details` does not name details.ns.svc.cluster.local."""
    for raw in as_list(res.spec.get("egress")):
        for entry in (as_str(h) for h in as_list(as_dict(raw).get("hosts"))):
            if entry and entry.count("/") == 1:
                ns, name = entry.split("/")
                if "." not in name and "*" not in name and f"{name}.{ns}.{H.DOMAIN}" == host:
                    return f" (egress hosts are matched as written: {entry} is not expanded; write {ns}/{host})"
    return ""
