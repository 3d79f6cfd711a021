"""route-conflict: two routes claim the same hostname and match on one parent; the newer one loses."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.attachment import Served
from bot.gatewayapi.conflicts import Clash, clashes
from bot.gatewayapi.precedence import How, order
from bot.gatewayapi.snapshot import Evaluation, Snapshot
from bot.resource import Resource
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, evaluation, name, rule_text, wanted

ID = "route-conflict"
SEVERITY = Severity.ERROR
SUMMARY = "Two routes on one parent claim the same hostname and match; only the older one gets those requests"
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "Routes attached to one listener are merged per hostname, and between two identical matches the older "
    "route wins, then the one first in namespace/name order (gateway-api HTTPRouteRule.Matches). Istio "
    "concatenates the routes oldest first and sorts their rules by match with a stable sort, so the younger "
    "rule is never used; both routes still report Accepted. The same holds for two TLSRoutes with one SNI "
    "hostname, two TCPRoutes on one listener, and two mesh routes of one namespace for one Service. A route "
    "the change adds is younger than every route already there, and deleting and re-creating a route (a "
    "rename, a move to another namespace) makes it the youngest: an old route can lose its traffic that way. "
    "Between two routes that were both there before, the repository cannot tell which is older, and both "
    "are reported."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "Istio follows the specification's order (oldest first, then namespace/name, then rule order) by sorting "
    "routes by creation time before a stable sort by match (istio pilot/pkg/config/kube/gateway/conversion.go "
    "sortRoutesByCreationTime, sortHTTPRoutes). Where the specification leaves the order of regular expressions to "
    "the implementation, Istio orders them by length. Of two TCPRoutes on one listener only the older gets "
    "connections, as the (provisional) conformance test expects; both report Accepted."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'kubernetes-sigs/gateway-api apis/v1/httproute_types.go HTTPRouteRule.Matches (precedence)',
    'istio/istio pilot/pkg/config/kube/gateway/conversion.go sortRoutesByCreationTime, sortHTTPRoutes',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    for clash in clashes(ev):
        first = order(clash.a, clash.b, ev.base)
        if first.first is None:
            pairs = [(clash.a, clash.rule_a, clash.b, clash.rule_b), (clash.b, clash.rule_b, clash.a, clash.rule_a)]
        elif first.first is clash.a:
            pairs = [(clash.b, clash.rule_b, clash.a, clash.rule_a)]
        else:
            pairs = [(clash.a, clash.rule_a, clash.b, clash.rule_b)]
        for loser, rule, winner, other_rule in pairs:
            if wanted(ctx, loser):
                yield _finding(loser, rule, winner, other_rule, clash, first.how, ev)


def _parent(served: Served, ev: Evaluation) -> str:
    parent = ev.head.get(*served.parent)
    text = name(ev, parent) if parent is not None else "/".join(served.parent)
    if served.listener:
        return f"{text} listener {served.listener}"
    return f"{text} (mesh{f', port {served.port}' if served.port else ''})"


def _renamed_from(res: Resource, base: Snapshot | None) -> Resource | None:
    """The route this one replaces under another name (same kind, namespace and spec), if any."""
    if base is None or base.get(*res.key) is not None:
        return None
    return next((old for old in base.of(res.kind) if old.namespace == res.namespace and old.name != res.name
                 and old.spec == res.spec), None)


def _finding(loser: Resource, rule: int, winner: Resource, other_rule: int, clash: Clash, how: How,
             ev: Evaluation) -> Finding:
    served, match = clash.served, clash.match
    host = "every hostname" if served.host == "*" else served.host
    if how is How.UNKNOWN:
        verdict = (f"the older of the two wins and the other's rule is never used ({how.value}; if this one is "
                   "newer, it loses)")
    else:
        verdict = f"{name(ev, winner)} is older ({how.value}), so this rule never gets those requests"
        renamed = _renamed_from(loser, ev.base) if how is How.CHANGE else None
        if renamed is not None:
            verdict += (f"; this change renames {name(ev, renamed)} to {loser.name}, and a renamed route is created "
                        "anew, so it loses the seniority it had")
    duplicate = (" Both rules send to the same backends today, so nothing changes yet, but an edit to the younger "
                 "one will never take effect." if clash.same_effect else "")
    return finding(
        ID, Severity.NOTICE if clash.same_effect else SEVERITY, loser,
        f"{rule_text(rule, None)} matches {match} for {host} on {_parent(served, ev)}, exactly like "
        f"{rule_text(other_rule, None)} of {name(ev, winner)}: {verdict}. Both routes still report "
        f"Accepted.{duplicate}",
        fix="give one of the rules a more specific match, move one route to another hostname, or merge the rules "
            "into one route",
        detail=f"{winner.kind}/{winner.namespace}/{winner.name}:{served.host}:{match}", related=[winner],
        line=loser.field_line("spec", "rules", rule))
