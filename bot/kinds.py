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
)

NAMES: tuple[str, ...] = tuple(kind.name for kind in KINDS)
EXPORTED: tuple[str, ...] = tuple(kind.name for kind in KINDS if kind.exported)
MANIFEST_KINDS: tuple[str, ...] = tuple(dict.fromkeys(kind.manifest_kind for kind in KINDS))
_BY_MANIFEST = {(kind.manifest_kind, kind.group): kind for kind in KINDS}


def recognize(kind: str | None, api_version: str) -> Kind | None:
    """The kind a manifest's `kind` and `apiVersion` stand for, if it is one of ours."""
    found = _BY_MANIFEST.get((kind or "", api_version.rpartition("/")[0]))
    if found is None or (found.api_versions and api_version not in found.api_versions):
        return None
    return found
