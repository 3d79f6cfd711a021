"""What a root VirtualService's delegating route becomes without its delegate: exportto-narrowed and
reference-missing.

A missing, hidden or non-delegate target drops only that root route; its requests fall through to
the root's later routes, and with none left the host gets no route from this VirtualService
(`pilot/pkg/model/virtualservice_controller.go` mergeVirtualServices,
`pilot/pkg/networking/core/route/route.go` BuildHTTPRoutesForVirtualService).
"""

from __future__ import annotations

from bot.istio.delegation import DelegateRef
from bot.resource import Resource
from bot.values import as_dict, as_list, as_str


def route_name(root: Resource, ref: DelegateRef) -> str:
    """The root route by its first URI match (`/cart`), else its position."""
    route = as_dict(as_list(root.spec.get("http"))[ref.route])
    for match in as_list(route.get("match")):
        uri = as_dict(as_dict(match).get("uri"))
        for how in ("prefix", "exact", "regex"):
            value = as_str(uri.get(how))
            if value:
                return value
    name = as_str(route.get("name"))
    return name or f"http[{ref.route}]"


def fallthrough(root: Resource, ref: DelegateRef) -> str:
    """Where the requests of the dropped route go: the next root route that routes, or nowhere."""
    for raw in as_list(root.spec.get("http"))[ref.route + 1:]:
        route = as_dict(raw)
        if route.get("delegate"):
            continue
        hosts = [h for d in as_list(route.get("route"))
                 if (h := as_str(as_dict(as_dict(d).get("destination")).get("host")))]
        if hosts:
            return f"fall through to the root's next route ({', '.join(dict.fromkeys(hosts))})"
        if route.get("redirect") or route.get("directResponse"):
            return "fall through to the root's next route (a redirect or direct response)"
    return "get no route from it (404 on a gateway, default routing on sidecars)"
