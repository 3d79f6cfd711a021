"""The kinds of resources the bot reads: one definition.

The reader's text pre-filter, the apiVersion check and the mesh's per-kind indexes all follow from
`KINDS`; adding a kind is one line here (rules and views then say what it means).
"""

from __future__ import annotations

from dataclasses import dataclass

NETWORKING = "networking.istio.io"
SECURITY = "security.istio.io"
GATEWAY_API = "gateway.networking.k8s.io"
CORE = ""  # the core API group: apiVersion is just the version


@dataclass(frozen=True)
class Kind:
    name: str  # how the bot names it (Resource.kind)
    group: str  # the API group of its apiVersion
    written: str = ""  # the manifest's `kind:` when it differs from `name`
    api_versions: tuple[str, ...] = ()  # accepted apiVersions, when not every version of the group
    exported: bool = False  # its visibility follows exportTo (config `export-to-defaults`)
    cluster_scoped: bool = False  # no namespace: its key's namespace is ""

    @property
    def manifest_kind(self) -> str:
        return self.written or self.name


KINDS: tuple[Kind, ...] = (
    Kind("Gateway", NETWORKING),
    Kind("VirtualService", NETWORKING, exported=True),
    Kind("DestinationRule", NETWORKING, exported=True),
    Kind("ServiceEntry", NETWORKING, exported=True),
    Kind("Sidecar", NETWORKING),
    Kind("PeerAuthentication", SECURITY),
    Kind("Service", CORE, api_versions=("v1",), exported=True),  # exportTo through an annotation
    Kind("KubernetesGateway", GATEWAY_API, written="Gateway"),  # VirtualServices may bind to it by ns/name
    Kind("HTTPRoute", GATEWAY_API),
    Kind("GRPCRoute", GATEWAY_API),
    Kind("TLSRoute", GATEWAY_API),
    Kind("TCPRoute", GATEWAY_API),
    Kind("ReferenceGrant", GATEWAY_API),
    Kind("ListenerSet", GATEWAY_API),
    Kind("GatewayClass", GATEWAY_API, cluster_scoped=True),
    Kind("Namespace", CORE, api_versions=("v1",), cluster_scoped=True),  # its labels select Gateway API routes
)

NAMES: tuple[str, ...] = tuple(kind.name for kind in KINDS)
EXPORTED: tuple[str, ...] = tuple(kind.name for kind in KINDS if kind.exported)
MANIFEST_KINDS: tuple[str, ...] = tuple(dict.fromkeys(kind.manifest_kind for kind in KINDS))
_BY_MANIFEST = {(kind.manifest_kind, kind.group): kind for kind in KINDS}
_BY_NAME = {kind.name: kind for kind in KINDS}
# Kinds written like another of our kinds (the Gateway API Gateway and Istio's Gateway): where both are in
# a repository, the first says its API group so the two cannot be confused.
_SHARED_NAME = frozenset(kind.name for kind in KINDS if kind.written and kind.written in NAMES)


def external(name: str) -> tuple[str, str]:
    """(the `kind:` manifests write, the API group) of one of our kinds; another name is taken as it is."""
    found = _BY_NAME.get(name)
    return (found.manifest_kind, found.group) if found is not None else (name, "")


def internal(kind: str, group: str) -> str:
    """The bot's name for a manifest `kind` of an API group (the inverse of `external`)."""
    found = _BY_MANIFEST.get((kind, group))
    return found.name if found is not None else kind


def qualified_in(present: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    """Of the kinds present (bot names), those that must say their group to be told apart."""
    return frozenset(name for name in _SHARED_NAME if name in present and _BY_NAME[name].manifest_kind in present)


def display(name: str, qualified: frozenset[str] = frozenset()) -> str:
    """How people read a kind: as manifests write it, with its group when it is in `qualified`."""
    kind, group = external(name)
    return f"{kind} ({group})" if name in qualified else kind


def recognize(kind: str | None, api_version: str) -> Kind | None:
    """The kind a manifest's `kind` and `apiVersion` stand for, if it is one of ours."""
    found = _BY_MANIFEST.get((kind or "", api_version.rpartition("/")[0]))
    if found is None or (found.api_versions and api_version not in found.api_versions):
        return None
    return found
