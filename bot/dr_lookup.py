"""The DestinationRule lookup path: which DestinationRule(s) a client namespace uses for a host.

Lookup order (`pilot/pkg/model/push_context.go` destinationRule; see
https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration):
the client's namespace, then the service's namespace, then the root namespace. The first namespace
with a match wins, the most specific host within it; nothing merges across them.

DestinationRules are indexed by namespace and host, and clients that must resolve alike are asked
once for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from bot import hosts as H
from bot.resource import Resource
from bot.views import dr_host
from bot.visibility import OTHER, Visibility

Groups = list[tuple[list[str], list[Resource]]]  # (client namespaces, the DestinationRules they use)


class DestinationRuleLookup:
    """Lookups over the DestinationRules of one snapshot."""

    def __init__(self, drs: list[Resource], root_namespace: str, visibility: Callable[[Resource], Visibility],
                 service_namespaces: Callable[[str], set[str]]) -> None:
        self._drs = drs
        self._root = root_namespace
        self._visibility = visibility
        self._service_namespaces = service_namespaces
        self._found: dict[tuple[str, str, str | None], list[Resource]] = {}
        self._one_of: dict[str, list[Resource] | None] = {}
        self._shapes: dict[str, tuple[set[str], bool]] = {}
        self._groups: dict[tuple[str, tuple[str, ...]], Groups] = {}

    def destination_rules_for(self, host: str, client_ns: str, skip: str | None = None) -> list[Resource]:
        """The DestinationRule(s) a client in `client_ns` uses for `host`.

        `skip` leaves one namespace out: what clients would get without the DRs there.
        """
        key = (host, client_ns, skip)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._resolve(host, client_ns, skip)
        return found

    def _resolve(self, host: str, client_ns: str, skip: str | None) -> list[Resource]:
        order = [client_ns, *sorted(self._service_namespaces(host)), self._root]
        for ns in dict.fromkeys(order):
            if ns == skip:
                continue
            candidates = [dr for dr in self._in(ns, host) if self._visibility(dr).sees(client_ns)]
            if candidates:
                best = max(H.specificity(dr_host(dr) or "") for dr in candidates)
                return [dr for dr in candidates if H.specificity(dr_host(dr) or "") == best]
        return []

    def all_clients_use_one_of(self, host: str) -> list[Resource] | None:
        """Every DestinationRule that covers `host`, if each client surely uses one of them; else None.

        True when a DR visible to every namespace sits on the shared part of the lookup path (the
        service's or the root namespace): whatever a client finds first is one of these. Lets a rule
        that holds for all of them skip the per-client lookup.
        """
        if host not in self._one_of:
            shared = any(self._visibility(dr).everyone for dr in self._shared_path(host))
            self._one_of[host] = self._covering(host) if shared else None
        return self._one_of[host]

    def lookup_groups(self, host: str, clients: list[str]) -> Groups:
        """The DestinationRules each client namespace uses for `host`, with alike clients grouped."""
        key = (host, tuple(clients))
        found = self._groups.get(key)
        if found is None:
            found = self._groups[key] = self._group(host, clients)
        return found

    def _group(self, host: str, clients: list[str]) -> Groups:
        special, public = self._shape(host)
        if not public:
            return [([c], self.destination_rules_for(host, c)) for c in clients]
        mine = [c for c in clients if c in special]
        out: Groups = []
        if len(mine) < len(clients):
            generic = [c for c in clients if c not in special] if mine else clients
            out.append((generic, self.destination_rules_for(host, OTHER)))
        out += [([c], self.destination_rules_for(host, c)) for c in mine]
        return out

    def _shape(self, host: str) -> tuple[set[str], bool]:
        """(namespaces whose clients may resolve `host` differently, whether the rest all agree)."""
        found = self._shapes.get(host)
        if found is None:
            special = {dr.namespace for dr in self._covering(host)} | {self._root}
            public = all(self._visibility(dr).everyone for dr in self._shared_path(host))
            found = self._shapes[host] = (special, public)
        return found

    # the index

    @cached_property
    def _index(self) -> dict[str, tuple[dict[str, list[Resource]], list[Resource]]]:
        """namespace -> (exact host -> DRs, wildcard DRs)."""
        out: dict[str, tuple[dict[str, list[Resource]], list[Resource]]] = {}
        for dr in self._drs:
            host = dr_host(dr)
            if not host:
                continue
            exact, wild = out.setdefault(dr.namespace, ({}, []))
            if host.startswith("*"):
                wild.append(dr)
            else:
                exact.setdefault(host, []).append(dr)
        return out

    def _in(self, ns: str, host: str) -> list[Resource]:
        """DRs in `ns` whose host covers `host`."""
        entry = self._index.get(ns)
        if entry is None:
            return []
        exact, wild = entry
        found = list(exact.get(host, ()))
        if wild:
            found += [dr for dr in wild if H.covers(dr_host(dr) or "", host)]
        return found

    @cached_property
    def _exact_hosts(self) -> dict[str, set[str]]:
        """exact host -> namespaces that hold a DestinationRule for it."""
        out: dict[str, set[str]] = {}
        for ns, (exact, _) in self._index.items():
            for host in exact:
                out.setdefault(host, set()).add(ns)
        return out

    @cached_property
    def _wildcards(self) -> list[tuple[str, Resource]]:
        """(host, DR) of every wildcard DestinationRule."""
        return [(dr_host(dr) or "", dr) for _, wild in self._index.values() for dr in wild]

    def _covering(self, host: str) -> list[Resource]:
        """Every DestinationRule whose host covers `host`, wherever it sits."""
        exact = [dr for ns in self._exact_hosts.get(host, ()) for dr in self._index[ns][0][host]]
        return exact + [dr for wild, dr in self._wildcards if H.covers(wild, host)]

    def _shared_path(self, host: str) -> list[Resource]:
        """DestinationRules for `host` on the part of the lookup path every client shares: the
        service's namespace(s), then the root namespace."""
        chain = [*self._service_namespaces(host), self._root]
        return [dr for ns in chain for dr in self._in(ns, host)]
