"""ReferenceGrant: which cross-namespace references the target namespace allows.

gateway-api `apis/v1/referencegrant_types.go`: a grant lives in the namespace of the referenced
object; its `from` entries (group, kind, namespace) and `to` entries (group, kind, optional name) are
each ORed, and a `to` without `name` allows every object of that kind. Istio honours `from` kinds
Gateway, HTTPRoute, GRPCRoute, TLSRoute, TCPRoute and ListenerSet, and `to` kinds Secret, ConfigMap,
Service, XBackend and InferencePool (istio `pilot/pkg/config/kube/gatewaycommon/references.go`
ReferenceGrantsCollection); other entries are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.gatewayapi.kinds import GROUP
from bot.resource import Resource, per_resource
from bot.values import as_dict, as_list, as_str

_FROM = {(GROUP, k) for k in ("Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "ListenerSet")}
_TO = {("", "Secret"), ("", "ConfigMap"), ("", "Service"), ("gateway.networking.x-k8s.io", "XBackend"),
       ("inference.networking.k8s.io", "InferencePool")}


@dataclass(frozen=True)
class Permission:
    """One (from, to) pair a grant allows; `name` None allows every object of the kind."""

    from_group: str
    from_kind: str
    from_namespace: str
    to_group: str
    to_kind: str
    name: str | None


@per_resource
def permissions(grant: Resource) -> tuple[Permission, ...]:
    out = []
    for f in as_list(grant.spec.get("from")):
        f = as_dict(f)
        source = (as_str(f.get("group")) or "", as_str(f.get("kind")) or "")
        namespace = as_str(f.get("namespace"))
        if source not in _FROM or not namespace:
            continue
        for t in as_list(grant.spec.get("to")):
            t = as_dict(t)
            target = (as_str(t.get("group")) or "", as_str(t.get("kind")) or "")
            if target in _TO:
                out.append(Permission(*source, namespace, *target, as_str(t.get("name")) or None))
    return tuple(out)


def allowing(grants: Iterable[Resource], from_kind: str, from_namespace: str, to_group: str, to_kind: str,
             to_namespace: str, to_name: str) -> list[Resource]:
    """The grants (of the target namespace) that allow this reference."""
    out = []
    for grant in grants:
        if grant.namespace != to_namespace:
            continue
        for p in permissions(grant):
            if (p.from_kind == from_kind and p.from_namespace == from_namespace and p.to_group == to_group
                    and p.to_kind == to_kind and p.name in (None, to_name)):
                out.append(grant)
                break
    return out
