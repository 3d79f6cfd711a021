"""VirtualService delegation: which delegate a root's route uses, whether it can, and what survives.

Follows `pilot/pkg/model/virtualservice_controller.go` (delegateVirtualServices, mergeVirtualServices;
`pilot/pkg/model/virtualservice.go` mergeVirtualServicesIfNeeded before 1.30, same rules) and
`pilot/pkg/model/virtualservice.go` (MergeHTTPRoutes, mergeHTTPMatchRequests, hasConflict,
stringMatchConflict); see https://istio.io/latest/docs/reference/config/networking/virtual-service/#Delegate.

- A delegate is a VirtualService without `hosts`; it is never applied alone.
- `delegate.namespace` empty means the root's namespace.
- The delegate must be visible to the **root's** namespace: its exportTo contains `*` or that
  namespace (empty exportTo: the mesh default with `.` read as the delegate's namespace). Nothing
  else is required; the merged routes carry the root's exportTo and gateways.
- A missing, hidden or non-delegate target drops only that root route: its requests fall through to
  the root's later routes, and with none left the host gets no routes from this VirtualService.
- Each delegate match must be compatible with some root match, or that delegate route is dropped.
- Short host names inside a delegate resolve against the delegate's namespace, as for any
  VirtualService (`bot.views.vs_destinations` on the delegate gives its destinations and subsets);
  the clients that use them are the root's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.values import as_dict, as_list, as_str
from bot.visibility import Visibility


@dataclass(frozen=True)
class DelegateRef:
    namespace: str
    name: str
    route: int  # index of the root's http route that delegates

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def is_delegate(spec: Mapping[str, Any]) -> bool:
    return not as_list(spec.get("hosts"))


def delegate_refs(spec: Mapping[str, Any], namespace: str) -> list[DelegateRef]:
    """The delegates a root VirtualService in `namespace` names, one per delegating http route."""
    out = []
    for i, raw in enumerate(as_list(spec.get("http"))):
        delegate = as_dict(as_dict(raw).get("delegate"))
        name = as_str(delegate.get("name"))
        if name:
            out.append(DelegateRef(as_str(delegate.get("namespace")) or namespace, name, i))
    return out


MISSING, HIDDEN, NOT_A_DELEGATE = "missing", "not exported to the root's namespace", "has hosts"


def delegation_problem(ref: DelegateRef, root_namespace: str, delegate: Mapping[str, Any] | None,
                       visibility: Visibility | None) -> str | None:
    """Why the root route `ref` gets no routes from its delegate, or None when it does.

    `delegate` is the delegate's spec (None: no such VirtualService); `visibility` its exportTo as
    the mesh reads it.
    """
    if delegate is None:
        return MISSING
    if not is_delegate(delegate):
        return NOT_A_DELEGATE
    if visibility is not None and not visibility.sees(root_namespace):
        return HIDDEN
    return None


def string_match_conflict(root: Any, leaf: Any) -> bool:
    """`virtualservice.go` stringMatchConflict: the leaf's condition is not within the root's."""
    if not isinstance(root, dict) or not isinstance(leaf, dict) or not root or not leaf:
        return False
    r_exact, r_prefix, r_regex = (as_str(root.get(k)) for k in ("exact", "prefix", "regex"))
    l_exact, l_prefix, l_regex = (as_str(leaf.get(k)) for k in ("exact", "prefix", "regex"))
    if r_regex and (l_regex or l_prefix or l_exact):
        return True
    if l_regex and (r_regex or r_prefix or r_exact):
        return True
    if r_exact:
        return bool(l_prefix) or l_exact != r_exact
    if r_prefix:
        if l_prefix:
            return not l_prefix.startswith(r_prefix)
        if l_exact:
            return not l_exact.startswith(r_prefix)
    return True


def match_conflict(root: Mapping[str, Any], leaf: Mapping[str, Any]) -> bool:
    """`virtualservice.go` hasConflict: a delegate match that no request of the root match can meet."""
    for key in ("uri", "scheme", "method", "authority"):
        if string_match_conflict(root.get(key), leaf.get(key)):
            return True
    for key in ("headers", "withoutHeaders", "queryParams"):
        mine = as_dict(root.get(key))
        if any(string_match_conflict(mine.get(k), v) for k, v in as_dict(leaf.get(key)).items()):
            return True
    if bool(root.get("ignoreUriCase")) != bool(leaf.get("ignoreUriCase")):
        return True
    r_port, l_port = root.get("port"), leaf.get("port")
    if isinstance(r_port, int) and isinstance(l_port, int) and r_port > 0 and l_port > 0 and r_port != l_port:
        return True
    r_source = as_str(root.get("sourceNamespace"))
    if r_source and as_str(leaf.get("sourceNamespace")) != r_source:
        return True
    r_labels = as_dict(root.get("sourceLabels"))
    if any(k in r_labels and r_labels[k] != v for k, v in as_dict(leaf.get("sourceLabels")).items()):
        return True
    r_gateways, l_gateways = as_list(root.get("gateways")), as_list(leaf.get("gateways"))
    return bool(r_gateways and l_gateways and (len(r_gateways) < len(l_gateways)
                                               or not set(map(str, l_gateways)) <= set(map(str, r_gateways))))


def dropped_routes(root_route: Mapping[str, Any], delegate: Mapping[str, Any]) -> list[int]:
    """Indexes of the delegate's http routes dropped under this root route (`mergeHTTPMatchRequests`):
    some match of theirs fits none of the root's matches."""
    roots = [as_dict(m) for m in as_list(root_route.get("match"))]
    if not roots:
        return []
    out = []
    for i, raw in enumerate(as_list(delegate.get("http"))):
        leaves = [as_dict(m) for m in as_list(as_dict(raw).get("match"))]
        if any(all(match_conflict(r, leaf) for r in roots) for leaf in leaves):
            out.append(i)
    return out
