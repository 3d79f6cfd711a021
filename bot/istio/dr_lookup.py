"""Which DestinationRule a client proxy uses for a host.

Follows `pilot/pkg/model/push_context.go` (setDestinationRules builds the indexes, destinationRule
walks them) and `pilot/pkg/model/sidecar.go` (SidecarScope.DestinationRule picks by workload
selector); see https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration.

1. The client's namespace: DestinationRules there exported to `*`, `.`, the namespace itself, or not
   exported at all. For a client **in the root namespace** only the root namespace's private rules
   (exported to it alone) count here.
2. The service's namespace: rules exported to the client, private ones excluded.
3. The root namespace: rules exported to the client, private ones excluded; a public root rule is
   therefore the last resort even for clients in the root namespace.

In each step the most specific host wins (exact, then the longest wildcard); the first step with a
match ends the search and nothing merges across steps. A rule with a `workloadSelector` is private to
its namespace and applies only to workloads it selects; it still ends the search in step 1 for the
others, which then get no rule at all (istio/istio#57719, #52691).

`DestinationRuleIndex` answers these lookups over one snapshot's rules, indexed by namespace and
host, and asks once for clients that must resolve alike; `lookup` is the one-off form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from bot import hosts as H
from bot.values import as_dict, as_list, as_str, str_labels

PUBLIC, PRIVATE = "*", "."


@dataclass(frozen=True)
class Rule:
    """A DestinationRule as the lookup sees it."""

    namespace: str
    name: str
    host: str  # resolved against the rule's namespace; may be a wildcard
    export_to: tuple[str, ...]  # as written; empty: the mesh default applies
    selector: tuple[tuple[str, str], ...] | None = None  # workloadSelector.matchLabels

    @cached_property
    def exports(self) -> frozenset[str]:
        """exportTo as written; a selector rule is private (`setDestinationRules`)."""
        return frozenset({PRIVATE}) if self.selector is not None else frozenset(self.export_to)


def read_rule(namespace: str, name: str, spec: Mapping[str, object]) -> Rule | None:
    host = as_str(spec.get("host"))
    if not host:
        return None
    labels = str_labels(as_dict(spec.get("workloadSelector")).get("matchLabels"))
    export = tuple(str(v).strip() for v in as_list(spec.get("exportTo")) if v is not None)
    return Rule(namespace, name, H.fqdn(host, namespace), export, tuple(sorted(labels.items())) if labels else None)


def _export_set(rule: Rule) -> frozenset[str]:
    return rule.exports


def is_private(rule: Rule, default: Sequence[str] = (PUBLIC,)) -> bool:
    """Exported to its own namespace alone (`setDestinationRules` isPrivateOnly)."""
    export = _export_set(rule)
    if not export:
        return PRIVATE in default
    return len(export) == 1 and (PRIVATE in export or rule.namespace in export)


def _local(rule: Rule) -> bool:
    """In its namespace's local index: exported to `*`, `.`, its namespace, or unexported."""
    export = _export_set(rule)
    return not export or bool(export & {PUBLIC, PRIVATE, rule.namespace})


def _open_to(rule: Rule, client: str | None) -> bool:
    """An exported rule (not private) that a client namespace may take (`getExportedDestinationRuleFromNamespace`);
    `client` None: every client may."""
    export = rule.exports
    return not export or PUBLIC in export or (client is not None and client in export)


@dataclass(frozen=True)
class Lookup:
    """The outcome for one client namespace (and workload labels) and one host."""

    step: int  # 1 client namespace, 2 service namespace, 3 root namespace, 0 none
    namespace: str | None  # where the search ended
    candidates: tuple[Rule, ...]  # the rules found there (merged by Istio when alike)
    applied: tuple[Rule, ...]  # what the workload gets: a selector rule it matches, else the selector-less ones

    @property
    def hidden_by_selector(self) -> bool:
        """The search ended on selector rules the workload does not match: it gets no rule at all."""
        return bool(self.candidates) and not self.applied


NONE = Lookup(0, None, (), ())
Groups = list[tuple[list[str], tuple[Rule, ...]]]  # (client namespaces, the rules they get)
_Pool = tuple[dict[str, list[Rule]], list[Rule]]  # (exact host -> rules, wildcard rules)


class DestinationRuleIndex:
    """The lookups over the DestinationRules of one snapshot.

    `service_namespaces(host)` names the namespaces whose Service or ServiceEntry defines the host
    (step 2); `default_export` is MeshConfig `defaultDestinationRuleExportTo`.
    """

    def __init__(self, rules: Iterable[Rule], root_namespace: str,
                 service_namespaces: Callable[[str], Iterable[str]], default_export: Sequence[str] = (PUBLIC,)) -> None:
        self._rules = list(rules)
        self._root = root_namespace
        self._service_namespaces = service_namespaces
        self._default = tuple(default_export)
        self._found: dict[tuple[str, str, str | None], Lookup] = {}
        self._one_of: dict[str, list[Rule] | None] = {}
        self._shapes: dict[str, tuple[set[str], bool]] = {}
        self._groups: dict[tuple[str, tuple[str, ...]], Groups] = {}

    def lookup(self, host: str, client: str, labels: Mapping[str, str] | None = None,
               skip: str | None = None) -> Lookup:
        """What a client in `client` gets for `host`; `labels` None: a workload no selector rule selects.

        `skip` leaves one namespace out: what clients would get without the rules there.
        """
        if labels is not None:
            return self._resolve(host, client, labels, skip)
        key = (host, client, skip)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._resolve(host, client, None, skip)
        return found

    def applied(self, host: str, client: str, skip: str | None = None) -> tuple[Rule, ...]:
        return self.lookup(host, client, skip=skip).applied

    def _resolve(self, host: str, client: str, labels: Mapping[str, str] | None, skip: str | None) -> Lookup:
        steps: list[tuple[int, str, _Pool | None]] = []
        if client != self._root:
            steps.append((1, client, self._local.get(client)))
        else:
            steps.append((1, client, self._root_private))
        for ns in sorted(set(self._service_namespaces(host))):
            steps.append((2, ns, self._exported.get(ns)))
        steps.append((3, self._root, self._exported.get(self._root)))
        for step, ns, pool in steps:
            if ns == skip or pool is None:
                continue
            found = _most_specific(pool, host)
            if step > 1:
                found = [r for r in found if _open_to(r, client)]  # the pool holds exported rules only
            if found:
                return Lookup(step, ns, tuple(found), _applied(found, client, labels))
        return NONE

    def all_clients_use_one_of(self, host: str) -> list[Rule] | None:
        """Every rule that covers `host`, if each client surely gets one of them; else None.

        True when a public rule sits on the shared part of the lookup path (the service's or the root
        namespace) and no rule for the host has a workload selector: whatever a client finds first is
        one of these. Lets a check that holds for all of them skip the per-client lookup.
        """
        if host not in self._one_of:
            covering = self._covering(host)
            shared = any(_open_to(r, None) for r in self._shared_path(host))
            selective = any(r.selector is not None for r in covering)
            self._one_of[host] = covering if shared and not selective else None
        return self._one_of[host]

    def lookup_groups(self, host: str, clients: list[str]) -> Groups:
        """The rules each client namespace gets for `host`, with alike clients grouped."""
        key = (host, tuple(clients))
        found = self._groups.get(key)
        if found is None:
            found = self._groups[key] = self._group(host, clients)
        return found

    def _group(self, host: str, clients: list[str]) -> Groups:
        special, public = self._shape(host)
        if not public:
            return [([c], self.applied(host, c)) for c in clients]
        mine = [c for c in clients if c in special]
        out: Groups = []
        if len(mine) < len(clients):
            generic = [c for c in clients if c not in special] if mine else clients
            out.append((generic, self.applied(host, generic[0])))
        out += [([c], self.applied(host, c)) for c in mine]
        return out

    def _shape(self, host: str) -> tuple[set[str], bool]:
        """(namespaces whose clients may resolve `host` differently, whether the rest all agree).

        A client in no such namespace finds nothing in step 1; when every rule on the shared path is
        public, the rest of its search does not depend on who it is.
        """
        found = self._shapes.get(host)
        if found is None:
            special = {r.namespace for r in self._covering(host)} | {self._root}
            public = all(_open_to(r, None) for r in self._shared_path(host))
            found = self._shapes[host] = (special, public)
        return found

    # the indexes (`setDestinationRules`)

    @cached_property
    def _local(self) -> dict[str, _Pool]:
        return _index(r for r in self._rules if _local(r))

    @cached_property
    def _exported(self) -> dict[str, _Pool]:
        return _index(r for r in self._rules if not is_private(r, self._default))

    @cached_property
    def _root_private(self) -> _Pool | None:
        rules = [r for r in self._rules if r.namespace == self._root and is_private(r, self._default)]
        return _index(rules).get(self._root)

    @cached_property
    def _exact_hosts(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for rule in self._rules:
            if not rule.host.startswith("*"):
                out.setdefault(rule.host, []).append(rule)
        return out

    @cached_property
    def _wildcards(self) -> list[Rule]:
        return [r for r in self._rules if r.host.startswith("*")]

    def _covering(self, host: str) -> list[Rule]:
        """Every rule whose host covers `host`, wherever it sits."""
        return self._exact_hosts.get(host, []) + [r for r in self._wildcards if H.covers(r.host, host)]

    def _shared_path(self, host: str) -> list[Rule]:
        """Exported rules for `host` on the part of the lookup path every client shares: the service's
        namespace(s), then the root namespace."""
        chain = [*self._service_namespaces(host), self._root]
        return [r for ns in dict.fromkeys(chain) if (pool := self._exported.get(ns))
                for r in _most_specific(pool, host)]


def _index(rules: Iterable[Rule]) -> dict[str, _Pool]:
    out: dict[str, _Pool] = {}
    for rule in rules:
        exact, wild = out.setdefault(rule.namespace, ({}, []))
        if rule.host.startswith("*"):
            wild.append(rule)
        else:
            exact.setdefault(rule.host, []).append(rule)
    return out


def _most_specific(pool: _Pool, host: str) -> list[Rule]:
    """`MostSpecificHostMatch`: the rules for the exact host, else those of the longest covering wildcard."""
    exact, wild = pool
    found = exact.get(host)
    if found:
        return list(found)
    matching = [r for r in wild if H.covers(r.host, host)]
    if not matching:
        return []
    best = max(H.specificity(r.host) for r in matching)
    return [r for r in matching if H.specificity(r.host) == best]


def _applied(found: list[Rule], client_namespace: str, labels: Mapping[str, str] | None) -> tuple[Rule, ...]:
    """SidecarScope.DestinationRule: a selector rule of the client's namespace that the workload
    matches wins; otherwise the selector-less rules (Istio keeps the last one of them)."""
    if labels is not None:
        for rule in found:
            if (rule.selector is not None and rule.namespace == client_namespace
                    and set(rule.selector) <= set(labels.items())):
                return (rule,)
    return tuple(r for r in found if r.selector is None)


def lookup(client_namespace: str, host: str, service_namespace: str | None, rules: Sequence[Rule],
           root_namespace: str, default_export: Sequence[str] = (PUBLIC,),
           labels: Mapping[str, str] | None = None) -> Lookup:
    """The DestinationRule(s) a client in `client_namespace` uses for `host`, once (see `DestinationRuleIndex`)."""
    owners = {service_namespace} if service_namespace else set()
    index = DestinationRuleIndex(rules, root_namespace, lambda _: owners, default_export)
    return index.lookup(host, client_namespace, labels)
