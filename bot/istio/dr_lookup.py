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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def read_rule(namespace: str, name: str, spec: Mapping[str, Any]) -> Rule | None:
    host = as_str(spec.get("host"))
    if not host:
        return None
    labels = str_labels(as_dict(spec.get("workloadSelector")).get("matchLabels"))
    export = tuple(str(v).strip() for v in as_list(spec.get("exportTo")) if v is not None)
    return Rule(namespace, name, H.fqdn(host, namespace), export, tuple(sorted(labels.items())) if labels else None)


def _export_set(rule: Rule) -> set[str]:
    """The rule's exportTo with `.` spelled as its namespace; a selector rule is private."""
    if rule.selector is not None:
        return {rule.namespace}
    values = rule.export_to or ()
    return {rule.namespace if v == PRIVATE else v for v in values} if values else set()


def is_private(rule: Rule, default: Sequence[str] = (PUBLIC,)) -> bool:
    """Exported to its own namespace alone (`setDestinationRules` isPrivateOnly)."""
    if rule.selector is not None:
        return True
    export = _export_set(rule)
    if not export:
        return PRIVATE in default
    return export == {rule.namespace}


def _local(rule: Rule) -> bool:
    """In its namespace's local index: exported to `*`, `.`, its namespace, or unexported."""
    export = _export_set(rule)
    return not export or PUBLIC in export or rule.namespace in export


def _exported_to(rule: Rule, client: str, default: Sequence[str]) -> bool:
    export = _export_set(rule)
    return not is_private(rule, default) and (not export or PUBLIC in export or client in export)


def _most_specific(rules: list[Rule], host: str) -> list[Rule]:
    matching = [r for r in rules if H.covers(r.host, host)]
    if not matching:
        return []
    best = max(H.specificity(r.host) for r in matching)
    return [r for r in matching if H.specificity(r.host) == best]


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


def lookup(client_namespace: str, host: str, service_namespace: str | None, rules: Sequence[Rule],
           root_namespace: str, default_export: Sequence[str] = (PUBLIC,),
           labels: Mapping[str, str] | None = None) -> Lookup:
    """The DestinationRule(s) a client in `client_namespace` uses for `host` (`push_context.go` destinationRule).

    `labels` None: a workload no selector rule selects (the common case when the repository has no pods).
    """
    steps: list[tuple[int, str, list[Rule]]] = []
    if client_namespace != root_namespace:
        steps.append((1, client_namespace, [r for r in rules if r.namespace == client_namespace
                                             and _local(r)]))
    else:
        steps.append((1, root_namespace, [r for r in rules if r.namespace == root_namespace
                                          and is_private(r, default_export)]))
    if service_namespace:
        steps.append((2, service_namespace, [r for r in rules if r.namespace == service_namespace
                                             and _exported_to(r, client_namespace, default_export)]))
    steps.append((3, root_namespace, [r for r in rules if r.namespace == root_namespace
                                      and _exported_to(r, client_namespace, default_export)]))
    for step, namespace, pool in steps:
        found = _most_specific(pool, host)
        if found:
            return Lookup(step, namespace, tuple(found), _applied(found, client_namespace, labels))
    return Lookup(0, None, (), ())


def _applied(found: list[Rule], client_namespace: str, labels: Mapping[str, str] | None) -> tuple[Rule, ...]:
    """SidecarScope.DestinationRule: a selector rule of the client's namespace that the workload
    matches wins; otherwise the selector-less rules (Istio keeps the last one of them)."""
    if labels is not None:
        for rule in found:
            if (rule.selector is not None and rule.namespace == client_namespace
                    and set(rule.selector) <= set(labels.items())):
                return (rule,)
    return tuple(r for r in found if r.selector is None)
