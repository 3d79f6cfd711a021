"""exportTo semantics (`pkg/config/visibility/visibility.go`).

`.` is the resource's own namespace, `*` all namespaces, `~` nobody (ServiceEntry and the Service
annotation), any other value that namespace. An empty or missing list takes the mesh default,
which is `*` unless MeshConfig says otherwise
(https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Visibility:
    """The namespaces that can see a resource: a finite set, or everyone except a finite set."""

    everyone: bool
    namespaces: frozenset[str] = frozenset()  # members, or (when everyone) the exceptions

    def sees(self, namespace: str) -> bool:
        return (namespace not in self.namespaces) if self.everyone else (namespace in self.namespaces)

    def gained(self, before: Visibility) -> Visibility:
        """Namespaces that see it now but did not before (set difference self - before)."""
        a, b = self.namespaces, before.namespaces
        if not self.everyone and not before.everyone:
            return Visibility(False, a - b)
        if not self.everyone:
            return Visibility(False, a & b)
        if not before.everyone:
            return Visibility(True, a | b)
        return Visibility(False, b - a)

    def lost(self, before: Visibility) -> Visibility:
        return before.gained(self)

    @property
    def empty(self) -> bool:
        return not self.everyone and not self.namespaces

    def describe(self) -> str:
        if self.everyone:
            if self.namespaces:
                return "all namespaces except " + ", ".join(sorted(self.namespaces))
            return "all namespaces"
        if not self.namespaces:
            return "no namespace"
        return ", ".join(sorted(self.namespaces))


EVERYONE = Visibility(True)
OTHER = "<any other namespace>"  # stands for every namespace the repository does not name


def export_to(values: object, own_namespace: str, default: Visibility = EVERYONE) -> Visibility:
    """Visibility of a resource from its exportTo list (already split for the Service annotation)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values:
        return default
    names: set[str] = set()
    for raw in values:
        value = str(raw).strip()
        if value == "*":
            return EVERYONE
        if value in ("~", ""):
            continue
        if value == ".":
            value = own_namespace
        names.add(value)
    return Visibility(False, frozenset(names))


def split_annotation(value: object) -> list[str]:
    """The Service annotation `networking.istio.io/exportTo: "a, b"` is comma-separated."""
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]
