"""exportto-narrowed: a resource becomes invisible to namespaces that use it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bot import hosts as H
from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio.consumers import ClientConfig, read_client_config, users_losing
from bot.istio.delegation import delegate_refs, delegation_problem, is_delegate
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding
from bot.rules.shared.delegates import fallthrough, route_name
from bot.rules.shared.exports import VisibilityChange, visibility_changes
from bot.values import as_dict, as_str
from bot.views import dr_host, dr_subsets, se_hosts, service_host, vs_destinations, vs_gateways, vs_hosts
from bot.visibility import Visibility

ID = "exportto-narrowed"
SEVERITY = Severity.NOTICE  # error when a namespace loses a host or subset it uses, warning for a policy
SUMMARY = "A VirtualService, DestinationRule, ServiceEntry or Service becomes invisible to namespaces that use it"
GUIDANCE = BEST_PRACTICES + "#cross-namespace-configuration"
DIFF_ONLY = True
READS: tuple[str, ...] = ('export-to-defaults', 'gateway-namespaces')
WHY = (
    "Narrowing exportTo (or the Service annotation networking.istio.io/exportTo) is as dangerous as widening "
    "it. A namespace uses a host when a VirtualService there routes to it or is written for it, or a "
    "DestinationRule there is written for it: such client-side configuration is evidence, whichever "
    "resource's visibility changes. When that namespace loses a Service or ServiceEntry, its sidecars drop "
    "the host and its client configuration stops applying; when it loses a DestinationRule, it loses that "
    "rule's subsets (503) or policy; when it loses a VirtualService, its routing rules. A gateway applies "
    "only VirtualServices visible to the namespace its pods run in. A delegate VirtualService is used only "
    "through its roots and must stay visible to each root's namespace, whatever else it stops being visible "
    "to; hidden, the delegated routes are dropped and requests fall through to the root's later routes. "
    "Error when a namespace loses a host, subsets or routes it uses, warning when it loses only a policy or "
    "routing rules, notice otherwise."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pkg/config/visibility/visibility.go',
    'istio/istio pilot/pkg/serviceregistry/kube/conversion.go ConvertService (the Service annotation)',
    'istio/istio pilot/pkg/model/push_context.go IsServiceVisible, VirtualServicesForGateway, destinationRule',
    'istio/istio pilot/pkg/model/virtualservice_controller.go mergeVirtualServices (a delegate visible to'
    " the root's namespace)",
)


@dataclass(frozen=True)
class Loss:
    severity: Severity
    sentence: str
    related: tuple[Resource, ...] = ()


def _configs(mesh: Mesh) -> list[tuple[ClientConfig, Resource]]:
    """Client-side configuration (DestinationRules, VirtualServices) of every namespace."""
    out = []
    for res in (*mesh.of("DestinationRule"), *mesh.of("VirtualService")):
        config = read_client_config(res.kind, res.namespace, res.name, res.spec)
        if config is not None:
            out.append((config, res))
    return out


class _Consumers:
    """What stops working when `vc` loses `lost`: one Loss per consumer."""

    def __init__(self, ctx: Context) -> None:
        self.base: Mesh = ctx.base if ctx.base is not None else ctx.head
        self.head = ctx.head
        self._configs: list[tuple[ClientConfig, Resource]] | None = None

    @property
    def configs(self) -> list[tuple[ClientConfig, Resource]]:
        if self._configs is None:
            self._configs = _configs(self.head)
        return self._configs

    def users(self, host: str, lost: Visibility, skip: Resource) -> list[tuple[ClientConfig, str, Resource]]:
        """Client configuration in the namespaces that lose `host`, with why it proves use, and its resource."""
        resource = {id(c): r for c, r in self.configs}
        found = users_losing(host, lost, [c for c, _ in self.configs], skip=skip.key)
        return [(c, why, resource[id(c)]) for c, why in found]

    def of(self, vc: VisibilityChange, lost: Visibility) -> list[Loss]:
        new = vc.head
        if new.kind == "VirtualService":
            return self.virtual_service(vc, lost)
        if new.kind == "DestinationRule":
            return self.destination_rule(vc, lost)
        return self.host(new, lost)

    def virtual_service(self, vc: VisibilityChange, lost: Visibility) -> list[Loss]:
        new = vc.head
        out = []
        # A gateway applies only the VirtualServices visible to the namespace its pods run in
        # (push_context.go VirtualServicesForGateway).
        for ref in vs_gateways(new):
            gw = self.head.gateway(ref)
            if gw is None:
                continue
            ns = self.head.workload_namespace(gw)
            if lost.sees(ns):
                out.append(Loss(Severity.ERROR, f"{gw.display} (pods in {ns}) silently drops these routes"))
        for host in dict.fromkeys(vs_hosts(new)):
            for config, why, res in self.users(host, lost, new):
                out.append(Loss(Severity.WARNING, f"{res.display} shows that {config.namespace} calls {host} ({why}); "
                                f"its sidecars lose these routing rules", (res,)))
        return out

    def delegate(self, vc: VisibilityChange, lost: Visibility) -> list[Loss] | None:
        """A delegate is used only through its roots: what each root whose namespace loses it drops.
        None when no root in the repository names it (read it as any VirtualService)."""
        new = vc.head
        roots = self.head.delegations_to(new.namespace, new.name)
        if not roots:
            return None
        out = []
        for root, ref in roots:
            old_root = self.base.get(*root.key)
            refs = delegate_refs(old_root.spec, old_root.namespace) if old_root is not None else []
            was = ref.key in {r.key for r in refs} \
                and delegation_problem(ref, root.namespace, vc.base.spec, vc.before) is None
            if was and delegation_problem(ref, root.namespace, new.spec, vc.after) is not None:
                out.append(Loss(Severity.ERROR,
                                f"it is a delegate of {root.display} (route {route_name(root, ref)}), which must see "
                                f"it from its own namespace {root.namespace}; no longer exported there, the delegated "
                                f"routes are dropped and those requests {fallthrough(root, ref)}", (root,)))
        return out

    def destination_rule(self, vc: VisibilityChange, lost: Visibility) -> list[Loss]:
        old, new = vc.base, vc.head
        host = dr_host(new)
        out = []
        for vs in self.head.of("VirtualService"):
            for client in self.head.clients(vs):
                if not lost.sees(client):
                    continue
                for dest in vs_destinations(vs):
                    if (host and dest.subset and H.covers(host, dest.host) and dest.subset in dr_subsets(new)
                            and self._used(old, dest.host, client)
                            and not any(dest.subset in dr_subsets(d)
                                        for d in self.head.destination_rules_for(dest.host, client))):
                        out.append(Loss(Severity.ERROR, f"{vs.display} routes clients in {client} to subset "
                                        f"{dest.subset}, which they lose", (vs,)))
        if out or not host:
            return out
        policy = _policy(new)
        if not policy:
            return out
        for config, _, res in self.users(host, lost, new):
            if config.kind != "VirtualService":
                continue  # a DestinationRule of its own there: that namespace never used this one
            for target in [h for h in (*config.routes_to, *config.written_for) if H.covers(host, h)][:1]:
                if self._used(old, target, config.namespace) and not any(
                        d.key == new.key for d in self.head.destination_rules_for(target, config.namespace)):
                    out.append(Loss(Severity.WARNING, f"{res.display} routes to {target} from {config.namespace}, "
                                    f"whose clients lose its traffic policy ({policy})", (res,)))
        return out

    def _used(self, old: Resource, host: str, client: str) -> bool:
        return any(d.key == old.key for d in self.base.destination_rules_for(host, client))

    def host(self, new: Resource, lost: Visibility) -> list[Loss]:
        hosts = se_hosts(new) if new.kind == "ServiceEntry" else [service_host(new)]
        out = []
        for vs in self.head.of("VirtualService"):
            lost_clients = [c for c in self.head.clients(vs) if lost.sees(c)]
            if lost_clients and any(d.host in hosts for d in vs_destinations(vs)):
                out.append(Loss(Severity.ERROR, f"{vs.display} routes to {new.display} for clients in "
                                f"{', '.join(lost_clients)}", (vs,)))
        named = {loss.related[0].key for loss in out}
        for host in hosts:
            for config, why, res in self.users(host, lost, new):
                if res.key in named:
                    continue
                named.add(res.key)
                out.append(Loss(Severity.ERROR, f"{res.display} shows that {config.namespace} calls {host} ({why}): "
                                "its sidecars drop the host (plaintext through PassthroughCluster, or 502 under "
                                "REGISTRY_ONLY) and that configuration stops applying", (res,)))
        return out


def _policy(dr: Resource) -> str:
    """A short account of a DestinationRule's top-level traffic policy."""
    policy = as_dict(dr.spec.get("trafficPolicy"))
    parts = []
    for key in policy:
        if key == "tls":
            mode = as_str(as_dict(policy["tls"]).get("mode"))
            parts.append(f"TLS {mode}" if mode else "TLS")
        else:
            parts.append(str(key))
    return ", ".join(parts)


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.base is None:
        return
    consumers = _Consumers(ctx)
    for vc in visibility_changes(ctx):
        lost = vc.after.lost(vc.before)
        if lost.empty:
            continue
        delegate = vc.head.kind == "VirtualService" and is_delegate(vc.head.spec)
        losses = consumers.delegate(vc, lost) if delegate else None
        if losses is not None and not losses:
            continue  # a delegate that every root still sees: nothing else uses it
        if losses is None:
            losses = consumers.of(vc, lost)
        detail = f"{vc.before.describe()}->{vc.after.describe()}"
        if losses:
            sentences = list(dict.fromkeys(loss.sentence for loss in losses))
            severity = max((loss.severity for loss in losses), key=lambda s: s.rank)
            yield finding(
                ID, severity, vc.head, f"is no longer visible to {lost.describe()}: {'; '.join(sentences)}",
                fix="keep it exported to the namespaces listed (for a Gateway: the namespace its pods run in"
                    + ("; for a delegate: its roots' namespaces)" if delegate else ")"),
                detail=detail, related=[r for loss in losses for r in loss.related], line=vc.line)
        else:
            yield finding(
                ID, SEVERITY, vc.head,
                f"is no longer visible to {lost.describe()} (now: {vc.after.describe()}); nothing in this repository "
                "uses it from there, but workloads deployed elsewhere might",
                detail=detail, line=vc.line)
