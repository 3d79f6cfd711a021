"""One revision of the repository, indexed for Gateway API questions.

The repository is rarely the whole cluster: Gateways often live in a platform repository and Services
in the applications'. So an object that is not in the snapshot is *absent* only when the change removes
it, or when the repository defines other objects of that kind in its namespace (the namespace's objects
of that kind are kept here, and this one is not among them). Otherwise it is *unknown*, and the rules
say nothing rather than guess.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.gatewayapi.kinds import LISTENER_SET, NAMESPACE, REFERENCE_GRANT, ROUTE_KINDS
from bot.gatewayapi.namespaces import labels_of
from bot.gatewayapi.objects import listener_set_parent
from bot.model import Resource

Key = tuple[str, str, str]


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


@dataclass(frozen=True, eq=False)
class Snapshot:
    by_key: dict[Key, Resource]
    by_kind: dict[str, tuple[Resource, ...]]
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, resources: Iterable[Resource]) -> Snapshot:
        by_key: dict[Key, Resource] = {}
        for res in resources:
            by_key.setdefault(res.key, res)  # a duplicate definition: the first counts (duplicate-resource says so)
        by_kind: dict[str, list[Resource]] = {}
        for res in by_key.values():
            by_kind.setdefault(res.kind, []).append(res)
        return cls(by_key, {k: tuple(v) for k, v in by_kind.items()})

    def of(self, kind: str) -> tuple[Resource, ...]:
        return self.by_kind.get(kind, ())

    def get(self, kind: str, namespace: str, name: str) -> Resource | None:
        return self.by_key.get((kind, namespace, name))

    @property
    def routes(self) -> tuple[Resource, ...]:
        cached = self.cache.get("routes")
        if cached is None:
            cached = self.cache["routes"] = tuple(r for kind in ROUTE_KINDS for r in self.of(kind))
        return cached

    def namespaces_with(self, kind: str) -> frozenset[str]:
        key = ("namespaces-with", kind)
        if key not in self.cache:
            self.cache[key] = frozenset(r.namespace for r in self.of(kind))
        return self.cache[key]  # type: ignore[no-any-return]

    def lookup(self, kind: str, namespace: str, name: str, base: Snapshot | None, noun: str | None = None) -> Lookup:
        """Present, absent (removed by the change, or missing from a namespace the repository keeps), or unknown."""
        found = self.get(kind, namespace, name)
        if found is not None:
            return Lookup(Presence.PRESENT, found, "")
        noun = noun or kind
        if base is not None and base.get(kind, namespace, name) is not None:
            return Lookup(Presence.ABSENT, base.get(kind, namespace, name), "which this change removes")
        if namespace in self.namespaces_with(kind):
            return Lookup(Presence.ABSENT, None, f"which is not defined, although the repository defines the other "
                                                 f"{noun}s of namespace {namespace}")
        return Lookup(Presence.UNKNOWN, None, "")

    def grants(self) -> tuple[Resource, ...]:
        return self.of(REFERENCE_GRANT)

    def namespace_labels(self, name: str) -> dict[str, str] | None:
        ns = self.get(NAMESPACE, name, name)
        return labels_of(name, ns.labels) if ns is not None else None

    def listener_sets_of(self, gateway: Resource) -> tuple[Resource, ...]:
        index = self.cache.get("listener-sets")
        if index is None:
            index = {}
            for ls in self.of(LISTENER_SET):
                parent = listener_set_parent(ls)
                if parent is not None:
                    index.setdefault(parent, []).append(ls)
            self.cache["listener-sets"] = index
        return tuple(index.get(gateway.key, ()))
