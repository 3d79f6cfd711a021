"""A snapshot of the mesh (`Mesh`): every resource at one revision, indexed, with the questions Istio
answers about it: who sees a resource (exportTo), where a Gateway's pods run, which namespaces' proxies
apply a VirtualService, which DestinationRule a client uses, who routes to what.

Snapshot-wide indexes are built once on first use (`cached_property`); answers to a question are
kept per argument in a dict of their own.
"""

from __future__ import annotations

from functools import cached_property

from bot import hosts as H
from bot.config import MeshSettings
from bot.gatewayapi.snapshot import Snapshot
from bot.istio.delegation import DelegateRef, delegate_refs, delegation_problem, is_delegate
from bot.istio.dr_lookup import DestinationRuleIndex, Lookup, Rule, read_rule
from bot.kinds import EXPORTED, NAMES
from bot.resource import Key, Resource
from bot.views import Destination, GatewayRef, gateway_selector, se_hosts, service_host, vs_destinations, vs_gateways
from bot.visibility import EVERYONE, OTHER, Visibility, export_to, split_annotation

EXPORT_ANNOTATION = "networking.istio.io/exportTo"


class Mesh:
    """Every resource at one revision, with the lookups Istio does."""

    def __init__(self, resources: list[Resource], settings: MeshSettings,
                 prefer: frozenset[str] = frozenset()) -> None:
        self.resources = resources
        self.settings = settings
        self.prefer = prefer
        self._visibility: dict[Key, tuple[Resource, Visibility]] = {}
        self._audience: dict[Visibility, list[str]] = {}
        self._clients: dict[Key, list[str]] = {}

    @cached_property
    def by_key(self) -> dict[Key, Resource]:
        """The definition of each (kind, namespace, name) that counts: the first, unless a later copy
        is in one of the `prefer` files (those a pull request changes) and the first is not. So copies
        are paired by file: a change to one copy is that file applied on top of the rest."""
        out: dict[Key, Resource] = {}
        if not self.prefer:
            for res in self.resources:
                out.setdefault(res.key, res)
            return out
        for res in self.resources:
            current = out.get(res.key)
            if current is None or (res.file in self.prefer and current.file not in self.prefer):
                out[res.key] = res
        return out

    @cached_property
    def _by_kind(self) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {kind: [] for kind in NAMES}
        for res in self.by_key.values():
            out[res.kind].append(res)
        return out

    @cached_property
    def kinds(self) -> frozenset[str]:
        """The kinds this revision holds."""
        return frozenset(kind for kind, found in self._by_kind.items() if found)

    def of(self, kind: str) -> list[Resource]:
        return self._by_kind.get(kind, [])

    def get(self, kind: str, namespace: str, name: str) -> Resource | None:
        return self.by_key.get((kind, namespace, name))

    @cached_property
    def gateway_api(self) -> Snapshot:
        """The Gateway API view of this revision (`bot.gatewayapi`), over the same indexes."""
        return Snapshot(self.by_key, self._by_kind)

    @cached_property
    def namespaces(self) -> list[str]:
        names = {res.namespace for res in self.by_key.values() if res.namespace}  # "": cluster-scoped
        names.add(self.settings.root_namespace)
        return sorted(names)

    # visibility (exportTo)

    def visibility(self, res: Resource) -> Visibility:
        cached = self._visibility.get(res.key)
        if cached is None or cached[0] is not res:
            cached = self._visibility[res.key] = (res, self._export(res))
        return cached[1]

    def _export(self, res: Resource) -> Visibility:
        if res.kind not in EXPORTED:
            return EVERYONE
        default = export_to(list(self.settings.export_to_defaults.get(res.kind, ("*",))), res.namespace)
        if res.kind == "Service":  # the annotation, comma-separated
            value = res.annotations.get(EXPORT_ANNOTATION)
            if value is None:
                return default
            return export_to(split_annotation(value), res.namespace, default)
        return export_to(res.spec.get("exportTo"), res.namespace, default)

    def audience(self, vis: Visibility) -> list[str]:
        """Namespaces to check on behalf of a visibility: the known ones it reaches, and OTHER."""
        found = self._audience.get(vis)
        if found is None:
            found = [ns for ns in self.namespaces if vis.sees(ns)] + ([OTHER] if vis.everyone else [])
            self._audience[vis] = found
        return found

    # gateways

    def workload_namespace(self, gw: Resource) -> str:
        """Where the gateway's pods run: config `gateway-namespaces`, else the Gateway's namespace."""
        selector = gateway_selector(gw)
        for pattern, namespace in self.settings.gateway_namespaces.items():
            wanted = dict(part.split("=", 1) for part in pattern.split(",") if "=" in part)
            if wanted and all(selector.get(k) == v for k, v in wanted.items()):
                return namespace
        return gw.namespace

    def share_workload(self, a: Resource, b: Resource) -> bool:
        """One selector is a subset of the other: some gateway pod runs both."""
        if self.settings.scope_gateway_to_namespace and self.workload_namespace(a) != self.workload_namespace(b):
            return False
        sa, sb = gateway_selector(a).items(), gateway_selector(b).items()
        return sa <= sb or sb <= sa

    def gateway(self, ref: GatewayRef) -> Resource | None:
        return None if ref.is_mesh else self.get("Gateway", ref.namespace, ref.name)

    # clients and destination rules

    def clients(self, vs: Resource) -> list[str]:
        """Namespaces whose proxies apply this VirtualService: its mesh audience and gateway pods.

        A delegate is applied only merged into its roots, with the root's exportTo and gateways
        (`pilot/pkg/model/virtualservice_controller.go` mergeVirtualServices): its clients are theirs.
        A VirtualService without hosts that no root in the repository names is read as if applied
        on its own (its roots, if any, are elsewhere).
        """
        found = self._clients.get(vs.key)
        if found is None:
            out: list[str] = []
            if is_delegate(vs.spec) and self.delegations_to(vs.namespace, vs.name):
                for root in self.roots(vs):
                    out += self.clients(root)
                found = self._clients[vs.key] = list(dict.fromkeys(out))
                return found
            vis = self.visibility(vs)
            for ref in vs_gateways(vs):
                if ref.is_mesh:
                    out += self.audience(vis)
                else:
                    gw = self.gateway(ref)
                    ns = self.workload_namespace(gw) if gw else ref.namespace
                    if vis.sees(ns):
                        out.append(ns)
            found = self._clients[vs.key] = list(dict.fromkeys(out))
        return found

    # delegation

    @cached_property
    def _delegating(self) -> dict[tuple[str, str], list[tuple[Resource, DelegateRef]]]:
        """(namespace, name) of a delegate -> the VirtualServices whose routes name it."""
        out: dict[tuple[str, str], list[tuple[Resource, DelegateRef]]] = {}
        for vs in self.of("VirtualService"):
            for ref in delegate_refs(vs.spec, vs.namespace):
                out.setdefault(ref.key, []).append((vs, ref))
        return out

    def delegations_to(self, namespace: str, name: str) -> list[tuple[Resource, DelegateRef]]:
        """(root, route) pairs naming the VirtualService namespace/name as their delegate."""
        return self._delegating.get((namespace, name), [])

    def roots(self, delegate: Resource) -> list[Resource]:
        """The VirtualServices whose routes take this delegate's: it has no hosts and is visible to
        their namespace (`bot.istio.delegation`)."""
        out = []
        for root, ref in self.delegations_to(delegate.namespace, delegate.name):
            if delegation_problem(ref, root.namespace, delegate.spec, self.visibility(delegate)) is None:
                out.append(root)
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
    def _rules(self) -> dict[tuple[str, str], tuple[Rule, Resource]]:
        """(namespace, name) -> the DestinationRule as the lookup reads it, and the resource."""
        out = {}
        for dr in self.of("DestinationRule"):
            rule = read_rule(dr.namespace, dr.name, dr.spec)
            if rule is not None:
                out[(dr.namespace, dr.name)] = (rule, dr)
        return out

    @cached_property
    def dr_index(self) -> DestinationRuleIndex:
        """Istio's DestinationRule lookup over this snapshot (see `bot.istio.dr_lookup`)."""
        default = self.settings.export_to_defaults.get("DestinationRule", ("*",))
        return DestinationRuleIndex((rule for rule, _ in self._rules.values()), self.settings.root_namespace,
                                    self.service_namespaces, default)

    def rule_resource(self, rule: Rule) -> Resource:
        return self._rules[(rule.namespace, rule.name)][1]

    def resources_of(self, rules: tuple[Rule, ...] | list[Rule]) -> list[Resource]:
        return [self._rules[(r.namespace, r.name)][1] for r in rules]

    def dr_lookup(self, host: str, client_ns: str, skip: str | None = None) -> Lookup:
        """Where the DestinationRule lookup of a client in `client_ns` for `host` ends, and what it gets."""
        return self.dr_index.lookup(host, client_ns, skip=skip)

    def destination_rules_for(self, host: str, client_ns: str, skip: str | None = None) -> list[Resource]:
        """The DestinationRule(s) a client in `client_ns` uses for `host` (see `bot.istio.dr_lookup`);
        `skip` leaves the rules of one namespace out."""
        return self.resources_of(self.dr_index.applied(host, client_ns, skip))

    def all_clients_use_one_of(self, host: str) -> list[Resource] | None:
        found = self.dr_index.all_clients_use_one_of(host)
        return None if found is None else self.resources_of(found)

    def lookup_groups(self, host: str, clients: list[str]) -> list[tuple[list[str], list[Resource]]]:
        """The DestinationRules each client namespace uses for `host`, alike clients grouped."""
        return [(group, self.resources_of(rules)) for group, rules in self.dr_index.lookup_groups(host, clients)]

    # routes and hosts

    @cached_property
    def routes(self) -> list[tuple[Resource, Destination]]:
        """Every (VirtualService, destination) pair."""
        return [(vs, d) for vs in self.of("VirtualService") for d in vs_destinations(vs)]

    @cached_property
    def _routes_by_target(self) -> dict[tuple[str, str | None], list[Resource]]:
        out: dict[tuple[str, str | None], list[Resource]] = {}
        for vs, d in self.routes:
            users = out.setdefault((d.host, d.subset), [])
            if not users or users[-1] is not vs:
                users.append(vs)
        return out

    def subset_users(self, host: str, subset: str) -> list[Resource]:
        return list(self._routes_by_target.get((host, subset), ()))

    @cached_property
    def _routes_by_host(self) -> dict[str, list[tuple[Resource, Destination]]]:
        out: dict[str, list[tuple[Resource, Destination]]] = {}
        for vs, d in self.routes:
            out.setdefault(d.host, []).append((vs, d))
        return out

    def routes_to(self, pattern: str) -> list[tuple[Resource, Destination]]:
        """(VirtualService, destination) pairs whose host `pattern` covers."""
        if not pattern.startswith("*"):
            return list(self._routes_by_host.get(pattern, ()))
        return [(vs, d) for vs, d in self.routes if H.covers(pattern, d.host)]

    @cached_property
    def _defined_hosts(self) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {}
        for se in self.of("ServiceEntry"):
            for host in se_hosts(se):
                out.setdefault(host, []).append(se)
        for svc in self.of("Service"):
            out.setdefault(service_host(svc), []).append(svc)
        return out

    def host_defined(self, host: str) -> list[Resource]:
        """ServiceEntries and Services in the repository that define `host`."""
        return list(self._defined_hosts.get(host, ()))

