"""Listeners as Istio programs them: route kinds, protocols, the merged listener list and conflicts.

- Route kinds per protocol (istio `pilot/pkg/config/kube/gatewaycommon/conversion.go`
  GenerateGatewaySupportedKinds): HTTP and HTTPS take HTTPRoute and GRPCRoute, TCP takes TCPRoute, TLS
  takes TLSRoute (and TCPRoute when it terminates). `allowedRoutes.kinds` narrows that list; a kind it
  names that the protocol cannot carry makes the listener `ResolvedRefs=False InvalidRouteKinds`.
- Protocols (`pilot/pkg/config/kube/gateway/conversion.go` listenerProtocolToIstio): HTTP, HTTPS, TLS
  and TCP, upper case. UDP and lower-case names are `UnsupportedProtocol`. HTTPS or TLS without `tls`
  produces no server at all (buildListener).
- Merge and conflicts (`gatewaycommon/listener_conflict.go` ComputeGatewayListenerConflicts): the
  Gateway's listeners in order, then the ListenerSets it allows, oldest first, then by namespace/name.
  A listener that is not distinct from an earlier winner loses (Conflicted, no server): the first one
  wins. The specification instead rejects every listener of an indistinct set (gateway-api
  `apis/v1/gateway_types.go` Listeners); the API server refuses two Gateway listeners with one port,
  protocol and hostname, so inside one Gateway the difference shows with protocol clashes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.gatewayapi.kinds import GATEWAY, GROUP, LISTENER_SET
from bot.gatewayapi.namespaces import selects
from bot.gatewayapi.objects import Listener, gateway_class, listener_set_parent, listeners
from bot.gatewayapi.precedence import order
from bot.gatewayapi.snapshot import Evaluation, Snapshot
from bot.resource import Resource
from bot.values import as_dict, as_str

PROTOCOLS = ("HTTP", "HTTPS", "TLS", "TCP")
_L4 = ("TCP", "UDP")
_HTTP_LIKE = ("HTTP", "HTTPS", "TLS")


def supported_kinds(listener: Listener) -> tuple[tuple[str, ...], bool]:
    """(route kinds the listener takes, whether every kind in `allowedRoutes.kinds` is one of them)."""
    protocol = listener.protocol
    if protocol in ("HTTP", "HTTPS"):
        kinds: tuple[str, ...] = ("HTTPRoute", "GRPCRoute")
    elif protocol == "TCP":
        kinds = ("TCPRoute",)
    elif protocol == "TLS":
        kinds = ("TLSRoute", "TCPRoute") if listener.tls_mode == "Terminate" else ("TLSRoute",)
    else:
        kinds = ()
    if not listener.kinds:
        return kinds, True
    wanted = {kind for group, kind in listener.kinds if group == GROUP}
    allowed = tuple(k for k in kinds if k in wanted)
    return allowed, len(allowed) == len(listener.kinds)


def unsupported_protocol(listener: Listener) -> str | None:
    """Why Istio does not accept the listener's protocol, or None."""
    if listener.protocol in PROTOCOLS:
        return None
    if listener.protocol.upper() in PROTOCOLS:
        upper = listener.protocol.upper()
        return f"protocol {listener.protocol!r} is unsupported (Istio reads only upper case: {upper!r})"
    return f"protocol {listener.protocol!r} is unsupported by Istio"


def has_server(listener: Listener) -> bool:
    """False for HTTPS or TLS without `tls`: Istio builds no server, routes cannot attach."""
    return not (listener.protocol in ("HTTPS", "TLS") and listener.tls_mode is None)


def _distinct(a: Listener, b: Listener) -> bool:
    if a.port != b.port:
        return True
    if (a.protocol in _L4 and b.protocol in _HTTP_LIKE) or (a.protocol in _HTTP_LIKE and b.protocol in _L4):
        return False
    if a.protocol in _L4 and b.protocol in _L4:
        return False
    if a.protocol in _HTTP_LIKE and b.protocol in _HTTP_LIKE:
        return a.hostname != b.hostname
    return a.protocol != b.protocol


def _reason(a: Listener, b: Listener) -> str:
    if a.protocol in _L4 and b.protocol in _L4:
        return "ProtocolConflict"
    return "ProtocolConflict" if a.protocol != b.protocol else "HostnameConflict"


@dataclass(frozen=True)
class Slot:
    """A listener in its Gateway's merged list: where it comes from, and the earlier one it lost to."""

    listener: Listener
    owner: Resource  # the Gateway or the ListenerSet that writes it
    lost_to: Slot | None = None
    reason: str = ""  # HostnameConflict or ProtocolConflict when it lost

    @property
    def usable(self) -> bool:
        """Istio builds a server for it and routes may attach."""
        return self.lost_to is None and has_server(self.listener)


def allows_listener_set(gateway: Resource, ls: Resource, snap: Snapshot) -> bool:
    """`spec.allowedListeners` (default: none;
    istio `gatewaycommon/gateway_utils.go` NamespaceAcceptedByAllowListeners)."""
    namespaces = as_dict(as_dict(gateway.spec.get("allowedListeners")).get("namespaces"))
    if not namespaces:
        return False
    how = as_str(namespaces.get("from")) or "Selector"
    if how == "All":
        return True
    if how == "Same":
        return ls.namespace == gateway.namespace
    if how != "Selector" or not isinstance(namespaces.get("selector"), dict):
        return False
    return bool(selects(namespaces["selector"], ls.namespace, snap.namespace_labels(ls.namespace)))


def merged(gateway: Resource, ev: Evaluation) -> tuple[Slot, ...]:
    """The Gateway's listeners followed by those of the ListenerSets it allows, with conflicts marked."""
    return ev.memo(("merged", gateway), lambda: _merge(gateway, ev))


def _merge(gateway: Resource, ev: Evaluation) -> tuple[Slot, ...]:
    snap = ev.head
    sets = [ls for ls in snap.listener_sets_of(gateway) if allows_listener_set(gateway, ls, snap)]
    sets = _oldest_first(sets, ev.base)
    entries = [Slot(lst, gateway) for lst in listeners(gateway)]
    entries += [Slot(lst, ls) for ls in sets for lst in listeners(ls)]
    out: list[Slot] = []
    winners: list[Slot] = []
    for entry in entries:
        prior = next((w for w in winners if not _distinct(entry.listener, w.listener)), None)
        if prior is None:
            winners.append(entry)
            out.append(entry)
        else:
            out.append(Slot(entry.listener, entry.owner, prior, _reason(entry.listener, prior.listener)))
    return tuple(out)


def _oldest_first(sets: list[Resource], base: Snapshot | None) -> list[Resource]:
    out: list[Resource] = []
    for ls in sorted(sets, key=lambda r: (r.namespace, r.name)):
        i = len(out)
        while i > 0 and order(out[i - 1], ls, base, audit_by_name=True).first is ls:
            i -= 1
        out.insert(i, ls)
    return out


def slots_of(parent: Resource, ev: Evaluation) -> tuple[Slot, ...]:
    """The listeners a route's parent offers: a Gateway's own, or one ListenerSet's (merged with its Gateway's)."""
    if parent.kind == LISTENER_SET:
        gw_key = listener_set_parent(parent)
        gateway = ev.head.get(*gw_key) if gw_key else None
        if gateway is None or not allows_listener_set(gateway, parent, ev.head):
            return ()
        return tuple(s for s in merged(gateway, ev) if s.owner.key == parent.key)
    return tuple(s for s in merged(parent, ev) if s.owner.key == parent.key)


def renames(before: Resource, after: Resource) -> dict[str, str]:
    """Listener renames between two versions of a Gateway: old name -> new name.

    A listener whose name is gone, and a new name on the same port, protocol and hostname, read as one
    listener renamed (the names are the only change), not as one removed and one added.
    """
    old = {lst.name: lst for lst in listeners(before)}
    new = {lst.name: lst for lst in listeners(after)}
    gone = [lst for name, lst in old.items() if name not in new]
    fresh = [lst for name, lst in new.items() if name not in old]
    out: dict[str, str] = {}
    for lst in gone:
        same = [f for f in fresh if (f.port, f.protocol, f.hostname) == (lst.port, lst.protocol, lst.hostname)
                and f.name not in out.values()]
        if len(same) == 1:
            out[lst.name] = same[0].name
    return out


def namespace_allowed(listener: Listener, owner: Resource, route_ns: str, snap: Snapshot) -> bool | None:
    """Whether the listener takes routes from `route_ns` (None: depends on labels the repository lacks)."""
    if listener.allowed_from == "Same":
        return route_ns == owner.namespace
    if listener.allowed_from == "All" or listener.selector is None:
        return True  # From=Selector without a selector: Istio allows all (namespacesFromSelector)
    return selects(listener.selector, route_ns, snap.namespace_labels(route_ns))


def _shape(gw: Resource) -> tuple[object, ...]:
    return (gateway_class(gw), tuple(sorted((lst.name, lst.port or 0, lst.protocol, lst.hostname)
                                            for lst in listeners(gw))))


def same_shape(a: Resource, b: Resource) -> bool:
    """Two Gateways of one class with the same listeners (names, ports, protocols, hostnames)."""
    return _shape(a) == _shape(b)


def gateway_renames(ev: Evaluation) -> dict[tuple[str, str, str], Resource]:
    """Gateways the change deletes and re-adds under another name with the same class and listeners:
    old key -> the new Gateway. A rename is a delete and a create for Kubernetes (and for Istio's
    deployment, which is named after the Gateway)."""
    return ev.memo("gateway-renames", lambda: _gateway_renames(ev.head, ev.base) if ev.base is not None else {})


def _gateway_renames(head: Snapshot, base: Snapshot) -> dict[tuple[str, str, str], Resource]:
    added = [g for g in head.of(GATEWAY) if base.get(*g.key) is None]
    out: dict[tuple[str, str, str], Resource] = {}
    for old in base.of(GATEWAY):
        if head.get(*old.key) is not None:
            continue
        same = [g for g in added if g.namespace == old.namespace and same_shape(g, old)]
        if len(same) == 1:
            out[old.key] = same[0]
    return out
