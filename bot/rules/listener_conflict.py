"""listener-conflict: two listeners claim one port (and hostname); Istio keeps the first and drops the other."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.istio import share_workload
from bot.gatewayapi.listeners import Slot, merged
from bot.gatewayapi.objects import Listener, listeners
from bot.gatewayapi.precedence import How, order
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Resource
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, evaluation, istio_gateways, name, wanted

ID = "listener-conflict"
SEVERITY = Severity.ERROR
SUMMARY = ("Two listeners of one Gateway (with its ListenerSets), or of Gateways on one workload, claim the same "
           "port and hostname or clash on protocol; the later one gets no traffic")
GUIDANCE = GATEWAY_API + "#manual-deployment"
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "Listeners must be distinct: HTTP, HTTPS and TLS listeners on one port need different hostnames, and a TCP "
    "listener cannot share a port with any other. Istio merges a Gateway's listeners and then those of the "
    "ListenerSets it allows (oldest first, then by namespace/name) and keeps the first of two that are not "
    "distinct; the later one is Conflicted, gets no server, and its routes get nothing (istio "
    "pilot/pkg/config/kube/gatewaycommon/listener_conflict.go). The specification instead rejects every "
    "listener of the indistinct set, so under Istio the first one keeps working. The API server refuses a "
    "Gateway whose own listeners repeat a port, protocol and hostname. Gateways that share pods (manual "
    "deployment: spec.addresses naming the same Service) merge their servers too: a TLS hostname repeated "
    "on one port, or a protocol clash, drops the younger Gateway's server, with no status to show it."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "The specification rejects every listener of a set that is not distinct (Conflicted=True on all of them; "
    "gateway-api apis/v1/gateway_types.go). Istio keeps the first and rejects only the later ones (istio "
    "pilot/pkg/config/kube/gatewaycommon/listener_conflict.go), so under Istio the first listener keeps serving. "
    "Conflicts between Gateways on one workload are Istio's own (manual deployment) and show in no status."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/config/kube/gatewaycommon/listener_conflict.go ComputeGatewayListenerConflicts',
    'kubernetes-sigs/gateway-api apis/v1/gateway_types.go ListenerConditionConflicted',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    for gw in istio_gateways(ev):
        for slot in merged(gw, ev):
            if slot.lost_to is not None and wanted(ctx, slot.owner):
                yield _inside(slot, ev)
    yield from _across(ctx, ev)


def _inside(slot: Slot, ev: Evaluation) -> Finding:
    lost_to = slot.lost_to or slot  # called for slots that lost
    lst, other = slot.listener, lost_to.listener
    same_gateway = slot.owner.key == lost_to.owner.key
    where = "" if same_gateway else f" of {name(ev, lost_to.owner)}"
    rejected = (" The API server rejects a Gateway whose listeners repeat a port, protocol and hostname."
                if same_gateway and lst.port == other.port and (lst.protocol, lst.hostname) == (other.protocol,
                                                                                                other.hostname)
                else "")
    return finding(
        ID, SEVERITY, slot.owner,
        f"{lst.where} conflicts with {other.where}{where} ({slot.reason}): Istio keeps the earlier listener and "
        f"drops this one, so routes attached to it get nothing (the specification would reject both).{rejected}",
        fix="use another port or hostname for one of the listeners",
        detail=f"{lost_to.owner.key[1]}/{lost_to.owner.key[2]}/{other.name}:{lst.name}:{slot.reason}",
        related=[lost_to.owner], line=slot.owner.field_line(*lst.path))


def _clash(a: Listener, b: Listener) -> str | None:
    if a.port != b.port or a.port is None:
        return None
    tls = ("HTTPS", "TLS")
    if a.protocol in tls and b.protocol in tls and a.hostname == b.hostname:
        return "HostnameConflict"
    l4 = ("TCP", "UDP")
    if (a.protocol in l4) != (b.protocol in l4) or (a.protocol in l4 and b.protocol in l4):
        return "ProtocolConflict"
    return None


def _across(ctx: Context, ev: Evaluation) -> Iterator[Finding]:
    gateways = istio_gateways(ev)
    for i, a in enumerate(gateways):
        for b in gateways[i + 1:]:
            if not share_workload(a, b):
                continue
            for la in listeners(a):
                for lb in listeners(b):
                    reason = _clash(la, lb)
                    if reason is None:
                        continue
                    first = order(a, b, ev.base)
                    losers = [(a, la, b, lb), (b, lb, a, la)] if first.first is None else (
                        [(b, lb, a, la)] if first.first is a else [(a, la, b, lb)])
                    for loser, mine, winner, theirs in losers:
                        if wanted(ctx, loser):
                            yield _shared(loser, mine, winner, theirs, reason, first.how, name(ev, winner))


def _shared(res: Resource, mine: Listener, other: Resource, theirs: Listener, reason: str, how: How,
            other_name: str) -> Finding:
    verdict = ("the older Gateway keeps it and the other's server is dropped (the repository cannot tell which is "
               "older)" if how is How.UNKNOWN else f"{other_name} is older ({how.value}), so this server is dropped")
    return finding(
        ID, SEVERITY, res,
        f"{mine.where} runs on the same pods as {theirs.where} of {other_name} ({reason}): {verdict}, and the "
        "routes attached to it get nothing, with no status to show it",
        fix="give the Gateways separate workloads (no shared spec.addresses), or another port or hostname",
        detail=f"{other.namespace}/{other.name}/{theirs.name}:{mine.name}:{reason}", related=[other],
        line=res.field_line(*mine.path))
