"""vs-fragment-conflict: several VirtualServices for one host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.context import Context
from bot.findings import Finding, Severity
from bot.istio.gateway_hosts import fragments_meet, route_types
from bot.resource import Resource
from bot.rules.base import BEST_PRACTICES, finding, losers
from bot.rules.shared.routes import is_catch_all, match_key
from bot.rules.shared.served import server_hosts
from bot.values import as_dict, as_list
from bot.views import vs_gateways, vs_hosts

ID = "vs-fragment-conflict"
SEVERITY = Severity.WARNING  # error when a mesh VirtualService is ignored
SUMMARY = ("Several VirtualServices for one host and route type: undefined order on gateways, all but the oldest "
           "ignored in the mesh")
GUIDANCE = BEST_PRACTICES + "#split-virtual-services"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "VirtualServices for one host merge only where they meet: on a gateway that serves the host to both (its "
    "virtual hosts are the intersection of its server hosts, with their namespace filters, and the "
    "VirtualService hosts), and only for a route type both use (HTTP routes merge with HTTP routes; TLS and "
    "TCP routes are separate). There, the order of rules across fragments is undefined: overlapping matches "
    "may be served by either fragment, and only the first catch-all ever matches. Sidecars do not merge at "
    "all: for a mesh host the oldest VirtualService wins and the others are ignored, so the one a PR adds is "
    "the one that has no effect; a VirtualService with only TCP or TLS routes does not compete with one that "
    "has only HTTP routes."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/networking/core/gateway.go buildGatewayHTTPRouteConfig (served hosts, merged fragments)',
    'istio/istio pilot/pkg/networking/core/route/route.go buildSidecarVirtualHostsForVirtualService (no '
    'HTTP routes, no virtual host)',
    'istio/istio pilot/pkg/networking/core/httproute.go (duplicate domain from virtual service)',
)


def _http(vs: Resource) -> list[dict[str, Any]]:
    return [as_dict(r) for r in as_list(vs.spec.get("http"))]


def _matches(vs: Resource) -> set[str]:
    return {match_key(m) for r in _http(vs) for m in as_list(r.get("match")) if m}


def check(ctx: Context) -> Iterator[Finding]:
    mesh = ctx.head
    groups: dict[tuple[str, str], list[Resource]] = {}
    for vs in mesh.of("VirtualService"):
        for host in dict.fromkeys(vs_hosts(vs)):
            for ref in vs_gateways(vs):
                groups.setdefault((ref.raw if ref.is_mesh else f"{ref.namespace}/{ref.name}", host), []).append(vs)
    for (gateway, host), members in sorted(groups.items()):
        members = sorted(dict.fromkeys(members), key=lambda r: r.key)
        if gateway == "mesh":
            yield from _mesh_group(ctx, members, host)
            continue
        ns, _, name = gateway.partition("/")
        gw = mesh.get("Gateway", ns, name)
        servers = server_hosts(gw) if gw is not None else None  # not in the repository: assume it serves
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                # pilot/pkg/networking/core/gateway.go buildGatewayHTTPRouteConfig: only a served host gets
                # a virtual host, and only HTTP routes merge into it
                if "http" in fragments_meet(host, a.namespace, a.spec, b.namespace, b.spec, servers):
                    yield from _gateway_pair(ctx, a, b, host, gateway)


def _types(vs: Resource) -> frozenset[str]:
    """Route types a VirtualService has; one with none is read as HTTP, as before route types counted."""
    return route_types(vs.spec) or frozenset({"http"})


def _mesh_group(ctx: Context, members: list[Resource], host: str) -> Iterator[Finding]:
    # Sidecars do not merge VirtualServices: the first for a host wins and the rest are dropped
    # ("duplicate domain from virtual service", pilot/pkg/networking/core/httproute.go).
    mesh = ctx.head
    audience = {vs.key: set(mesh.audience(mesh.visibility(vs))) for vs in members}
    beaten: dict[tuple[str, str, str], list[Resource]] = {}
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            # a sidecar builds a route type's virtual host from the first VirtualService with such routes
            # (pilot/pkg/networking/core/route/route.go buildSidecarVirtualHostsForVirtualService)
            if audience[a.key] & audience[b.key] and _types(a) & _types(b):
                for loser, winner in losers(ctx, a, b):
                    beaten.setdefault(loser.key, []).append(winner)
    for res in members:
        others = beaten.get(res.key)
        if not others:
            continue
        listed = ", ".join(o.display for o in others)
        yield finding(
            ID, Severity.ERROR, res,
            f"is a mesh VirtualService for {host}, like {listed}; sidecars do not merge them: the oldest wins "
            "and the newer ones are ignored",
            fix="merge the routes into one VirtualService per host, or bind the others to a gateway",
            detail=f"mesh:{host}:" + ",".join(f"{o.namespace}/{o.name}" for o in others), related=others,
            line=res.field_line("spec", "hosts"))


def _gateway_pair(ctx: Context, a: Resource, b: Resource, host: str, gateway: str) -> Iterator[Finding]:
    res, other = losers(ctx, a, b)[0]  # the merge is one vhost: one finding per pair
    catch = [vs for vs in (other, res) if any(is_catch_all(r) for r in _http(vs))]
    catch_matches = {match_key(m) for vs in (a, b) for r in _http(vs) if is_catch_all(r)
                     for m in as_list(r.get("match"))}
    overlap = sorted((_matches(a) & _matches(b)) - catch_matches)
    if len(catch) > 1:
        yield finding(
            ID, SEVERITY, res,
            f"has a catch-all route for {host} on gateway {gateway}, and so does {other.display}; merged "
            "fragments move catch-alls to the end and only the first one ever matches",
            fix="keep one catch-all across the fragments",
            detail=f"catchall:{gateway}:{host}:{other.namespace}/{other.name}", related=[other],
            line=res.field_line("spec", "http"))
    if overlap:
        yield finding(
            ID, SEVERITY, res,
            f"matches {overlap[0]} for {host} on gateway {gateway}, as {other.display} does; the order across "
            "fragments is undefined, so which route serves it can change on any push",
            fix="make the matches of the fragments disjoint",
            detail=f"overlap:{gateway}:{host}:{other.namespace}/{other.name}", related=[other],
            line=res.field_line("spec", "http"))
