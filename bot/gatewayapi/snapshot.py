"""One revision of the repository, indexed for Gateway API questions, and that revision judged
against the base a pull request compares it with.

The repository is rarely the whole cluster: Gateways often live in a platform repository and Services
in the applications'. So an object that is not in the snapshot is *absent* only when the change removes
it, or when the repository defines other objects of that kind in its namespace (the namespace's objects
of that kind are kept here, and this one is not among them). Otherwise it is *unknown*, and the rules
say nothing rather than guess.

`Snapshot` holds what one revision alone answers (the mesh builds it once, `Mesh.gateway_api`).
`Evaluation` is a revision next to its base (or alone, in an audit and on the base itself): what is
absent because the change removes it, which objects the change makes younger. Its answers are kept
in its own memo, one `Evaluation` per base (`Snapshot.against`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

from bot.gatewayapi.kinds import (
    GATEWAY,
    GATEWAY_CLASS,
    LISTENER_SET,
    NAMESPACE,
    REFERENCE_GRANT,
    ROUTE_KINDS,
    VIRTUAL_SERVICE,
)
from bot.gatewayapi.namespaces import labels_of
from bot.gatewayapi.objects import listener_set_parent
from bot.kinds import qualified_in
from bot.resource import Key, Resource

T = TypeVar("T")


class Presence(enum.Enum):
    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Lookup:
    """Whether an object is there, and in words why the bot thinks so."""

    presence: Presence
    resource: Resource | None
    why: str  # for ABSENT: "which this change removes" / "which the repository does not define ..."


class Snapshot:
    """The Gateway API objects (and the Services, Namespaces and VirtualServices they meet) of one revision."""

    def __init__(self, by_key: Mapping[Key, Resource], by_kind: Mapping[str, Sequence[Resource]]) -> None:
        self.by_key = by_key  # the first definition of each key (duplicate-resource reports the others)
        self._by_kind = by_kind
        self._against: dict[Snapshot | None, Evaluation] = {}

    @classmethod
    def build(cls, resources: Sequence[Resource]) -> Snapshot:
        """A snapshot of loose resources (the mesh passes its own indexes instead)."""
        by_key: dict[Key, Resource] = {}
        for res in resources:
            by_key.setdefault(res.key, res)
        by_kind: dict[str, list[Resource]] = {}
        for res in by_key.values():
            by_kind.setdefault(res.kind, []).append(res)
        return cls(by_key, by_kind)

    def of(self, kind: str) -> Sequence[Resource]:
        return self._by_kind.get(kind, ())

    def get(self, kind: str, namespace: str, name: str) -> Resource | None:
        return self.by_key.get((kind, namespace, name))

    def against(self, base: Snapshot | None) -> Evaluation:
        """This revision judged against `base` (None: on its own), built once per base."""
        found = self._against.get(base)
        if found is None:
            found = self._against[base] = Evaluation(self, base)
        return found

    @cached_property
    def used(self) -> bool:
        """Whether the revision holds anything the Gateway API rules judge (routes, Gateways, ListenerSets)."""
        return any(self.of(kind) for kind in (*ROUTE_KINDS, GATEWAY, LISTENER_SET))

    @cached_property
    def routes(self) -> tuple[Resource, ...]:
        return tuple(r for kind in ROUTE_KINDS for r in self.of(kind))

    @cached_property
    def mixed(self) -> bool:
        """Both Istio's Gateway and the Gateway API Gateway are here: names must say which is which."""
        return bool(qualified_in(frozenset(kind for kind, found in self._by_kind.items() if found)))

    @cached_property
    def _namespaces_with(self) -> dict[str, frozenset[str]]:
        return {kind: frozenset(r.namespace for r in resources) for kind, resources in self._by_kind.items()}

    def namespaces_with(self, kind: str) -> frozenset[str]:
        return self._namespaces_with.get(kind, frozenset())

    def grants(self) -> Sequence[Resource]:
        return self.of(REFERENCE_GRANT)

    def namespace(self, name: str) -> Resource | None:
        return self.get(NAMESPACE, "", name)

    def namespace_labels(self, name: str) -> dict[str, str] | None:
        ns = self.namespace(name)
        return labels_of(name, ns.labels) if ns is not None else None

    def gateway_class(self, name: str) -> Resource | None:
        return self.get(GATEWAY_CLASS, "", name)

    def virtual_services(self) -> Sequence[Resource]:
        return self.of(VIRTUAL_SERVICE)

    @cached_property
    def _listener_sets(self) -> dict[Key, list[Resource]]:
        index: dict[Key, list[Resource]] = {}
        for ls in self.of(LISTENER_SET):
            parent = listener_set_parent(ls)
            if parent is not None:
                index.setdefault(parent, []).append(ls)
        return index

    def listener_sets_of(self, gateway: Resource) -> tuple[Resource, ...]:
        return tuple(self._listener_sets.get(gateway.key, ()))


@dataclass(eq=False)
class Evaluation:
    """A revision (`head`) judged against the base it is compared with (`base`, None on its own).

    Every answer that depends on both is computed once and kept in `memo`, keyed by the question.
    """

    head: Snapshot
    base: Snapshot | None
    _memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    @property
    def alone(self) -> Evaluation:
        """The head on its own, as an audit sees it."""
        return self.head.against(None)

    @property
    def before(self) -> Evaluation | None:
        """The base on its own (what was true before the change), or None in an audit."""
        return self.base.against(None) if self.base is not None else None

    @property
    def mixed(self) -> bool:
        return self.head.mixed or (self.base is not None and self.base.mixed)

    def lookup(self, kind: str, namespace: str, name: str, noun: str | None = None) -> Lookup:
        """Present, absent (removed by the change, or missing from a namespace the repository keeps), or unknown."""
        found = self.head.get(kind, namespace, name)
        if found is not None:
            return Lookup(Presence.PRESENT, found, "")
        noun = noun or kind
        removed = self.base.get(kind, namespace, name) if self.base is not None else None
        if removed is not None:
            return Lookup(Presence.ABSENT, removed, "which this change removes")
        if namespace in self.head.namespaces_with(kind):
            return Lookup(Presence.ABSENT, None, f"which is not defined, although the repository defines the other "
                                                 f"{noun}s of namespace {namespace}")
        return Lookup(Presence.UNKNOWN, None, "")
