"""route-detached: a route that served traffic at the base stops attaching to its Gateway."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi import hostnames as hn
from bot.gatewayapi.attachment import NOT_FOUND, ParentResult, Served, evaluate, hosts_text
from bot.gatewayapi.kinds import GATEWAY, GATEWAY_CLASS, LISTENER_SET, NAMESPACE, failure, label
from bot.gatewayapi.listeners import gateway_renames, renames
from bot.gatewayapi.objects import listener_set_parent, listeners, route
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Key, Resource
from bot.rules.base import finding
from bot.rules.shared.gateway_api import ATTACHMENT_SOURCES, GATEWAY_API, evaluation, routes

ID = "route-detached"
SEVERITY = Severity.ERROR
SUMMARY = ("An HTTPRoute, GRPCRoute, TLSRoute or TCPRoute that served hostnames at the base stops attaching: "
           "its Gateway or listener is deleted or renamed, or no longer accepts it")
GUIDANCE = GATEWAY_API
DIFF_ONLY = True
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "A route serves traffic only through the listeners that accept it: the parentRef's sectionName and port "
    "must name a listener, the listener's allowedRoutes must admit the route's namespace and kind, and the "
    "hostnames must intersect. When a change renames or deletes the listener or the Gateway, narrows "
    "allowedRoutes, changes a Namespace label a selector relies on, or changes hostnames so they no longer "
    "intersect, the route is detached: Istio generates nothing for it, HTTP requests get 404 and TLS or TCP "
    "connections are refused, while the route itself did not change. The finding names the route and the "
    "hostnames that stop working. A renamed listener (same port, protocol and hostname, new name) is "
    "reported as a rename, with the parentRefs to update. Hostnames the route itself stops claiming and "
    "parentRefs it drops are intended and not reported."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "Istio decides attachment as the specification does (gateway-api apis/v1/shared_types.go ParentReference; "
    "istio pilot/pkg/config/kube/gateway/conversion.go referenceAllowed). Two differences show in status, not in "
    "traffic: a parentRef to a Gateway that no longer exists gets no status entry at all (Istio removes the old "
    "one; the specification allows that), and with several listeners Istio reports NotAllowedByListeners over "
    "NoMatchingListenerHostname over NoMatchingParent (conditions.go createRouteStatus). Traffic is lost either "
    "way: 404 for HTTP and gRPC, a refused connection for TLS and TCP."
)


SOURCES = ATTACHMENT_SOURCES  # the behaviour it follows


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    if ev.base is None or ev.before is None:
        return
    touched = _touched(ctx, ev)
    for res in routes(ctx):
        before = ev.base.get(*res.key)
        if before is None or (before.body == res.body and not _depends_on(res, touched, ev)):
            continue  # neither the route nor anything it attaches through changed
        old = evaluate(before, ev.before)
        new = evaluate(res, ev)
        claimed = route(res).hostnames or (hn.ANY,)
        for target in dict.fromkeys(r.ref.target for r in new if r.ref.target is not None):
            was = [s for r in old if r.ref.target == target for s in r.served]
            now = [s for r in new if r.ref.target == target for s in r.served]
            lost = [s for s in was if not _kept(s, now) and any(hn.intersection(h, s.host) for h in claimed)]
            if not lost:
                continue
            results = [r for r in new if r.ref.target == target]
            yield _finding(res, results, lost, bool(now), ev)


def _touched(ctx: Context, ev: Evaluation) -> set[Key] | None:
    """Keys of the changed objects a route attaches through (a ListenerSet stands for its Gateway too);
    None when a change can move every route (a GatewayClass decides which Gateways are Istio's)."""
    out: set[Key] = set()
    for change in ctx.changes:
        if change.kind == GATEWAY_CLASS:
            return None
        out.add(change.key)
        if change.kind == LISTENER_SET:
            out |= {k for res in (change.base, change.head) if res is not None
                    if (k := listener_set_parent(res)) is not None}
    return out


def _depends_on(res: Resource, touched: set[Key] | None, ev: Evaluation) -> bool:
    if touched is None or (NAMESPACE, "", res.namespace) in touched:
        return True
    for ref in route(res).parents:
        target = ref.target
        if target is None:
            continue
        if target in touched:
            return True
        ls = ev.head.get(*target) if ref.is_listener_set else None
        if ls is not None and listener_set_parent(ls) in touched:
            return True
    return False


def _kept(s: Served, now: list[Served]) -> bool:
    return any(n.port == s.port and hn.covers(n.host, s.host) for n in now)


def _finding(res: Resource, results: list[ParentResult], lost: list[Served], partly: bool, ev: Evaluation) -> Finding:
    first = results[0]
    parent = first.parent
    name = first.ref.parent_label(ev.mixed)
    hosts = hosts_text(lost)
    unknown = all(r.state == "unknown" for r in results)
    if partly:
        ports = ", ".join(str(p) for p in sorted({s.port for s in lost if s.port is not None}))
        what = f"no longer serves {hosts}{f' on port {ports}' if ports else ''} through {name}"
        cause = _partial_cause(lost, ev)
    elif unknown:
        what = f"may no longer attach to {name}"
        cause = first.message
    else:
        what = f"no longer attaches to {name}"
        cause = "; ".join(dict.fromkeys(_cause(r, res.namespace, ev) if r.state == "detached" else r.message
                                        for r in results if r.state != "attached"))
    severity = Severity.NOTICE if unknown and not partly else SEVERITY
    effect = "the repository cannot tell" if unknown and not partly else failure(res.kind)
    if first.ref.is_mesh:
        effect = "mesh traffic no longer follows this route"
    message = f"{what}: {cause}; for {hosts}, {effect}" if not unknown or partly else f"{what}: {cause}"
    related = [r for r in (parent, *(x.parent for x in results)) if r is not None]
    fix = (f"keep a listener of {name} that takes {hosts} until the route moves, or move those hostnames first"
           if partly else _fix(results, ev))
    return finding(ID, severity, res, message, fix=fix, related=related,
                   detail=f"{first.ref.kind}/{first.ref.namespace}/{first.ref.name}:"
                          f"{'partly' if partly else first.reason}",
                   line=res.field_line("spec", "parentRefs", first.ref.index))


def _cause(r: ParentResult, route_ns: str, ev: Evaluation) -> str:
    head, base = ev.head, ev.base
    if base is None:  # the rule runs in a diff only
        return r.message
    ref = r.ref
    gateway = ref.parent_label(ev.mixed)
    if r.reason == NOT_FOUND:
        gone = base.get(GATEWAY, ref.namespace, ref.name) if ref.is_gateway else None
        if gone is not None and head.get(*gone.key) is None:
            renamed = gateway_renames(ev).get(gone.key)
            return (f"this change renames {gateway} to {renamed.name}, and "
                    f"parentRefs[{ref.index}] still names {ref.name}" if renamed
                    else f"this change deletes {gateway}")
        return f"{r.message}, {r.why_absent}" if r.why_absent else r.message
    if ref.section and r.parent is not None and ref.is_gateway:
        before = base.get(*r.parent.key)
        if before is not None and ref.section in {lst.name for lst in listeners(before)}:
            new_name = renames(before, r.parent).get(ref.section)
            if new_name:
                return (f"this change renames listener {ref.section} to {new_name}, and "
                        f"parentRefs[{ref.index}].sectionName still says {ref.section} ({r.reason})")
            if ref.section not in {lst.name for lst in listeners(r.parent)}:
                return f"this change removes listener {ref.section} ({r.reason})"
    why = _changed_around(r, route_ns, ev)
    return f"{r.message} ({r.reason})" + (f"; {why}" if why else "")


def _changed_around(r: ParentResult, route_ns: str, ev: Evaluation) -> str:
    """What this change did to the listeners, or to the route's Namespace, that explains a refusal."""
    head, base = ev.head, ev.base
    if base is None:
        return ""
    out = []
    if r.parent is not None:
        before = base.get(*r.parent.key)
        old = {lst.name: lst for lst in listeners(before)} if before is not None else {}
        for lst in listeners(r.parent):
            was = old.get(lst.name)
            if was is None:
                continue
            if (was.allowed_from, was.selector, was.kinds) != (lst.allowed_from, lst.selector, lst.kinds):
                out.append(f"this change edits listener {lst.name}'s allowedRoutes")
            elif was.hostname != lst.hostname:
                out.append(f"this change sets listener {lst.name}'s hostname to {lst.hostname} (was {was.hostname})")
    ns_now, ns_before = head.namespace(route_ns), base.namespace(route_ns)
    if ns_before is not None and (ns_now is None or ns_now.labels != ns_before.labels):
        out.append(f"this change {'removes' if ns_now is None else 'changes the labels of'} Namespace {route_ns}")
    return "; ".join(out)


def _partial_cause(lost: list[Served], ev: Evaluation) -> str:
    head, base = ev.head, ev.base
    if base is None:
        return ""
    out = []
    for key, name in dict.fromkeys((s.parent, s.listener) for s in lost if s.listener):
        now, before = head.get(*key), base.get(*key)
        new = {lst.name: lst for lst in listeners(now)} if now is not None else {}
        old = {lst.name: lst for lst in listeners(before)} if before is not None else {}
        if name in new and name in old and new[name].port != old[name].port:
            out.append(f"this change moves listener {name} from port {old[name].port} to {new[name].port}")
        elif name in new and name in old and new[name].hostname != old[name].hostname:
            out.append(f"this change sets listener {name}'s hostname to {new[name].hostname} "
                       f"(was {old[name].hostname})")
        elif name in new:
            owners = [lst.name for lst in new.values() if lst.name not in old and lst.port == new[name].port]
            out.append(f"listener {', '.join(owners)}, which this change adds, now owns them (listener isolation)"
                       if owners else f"listener {name} no longer takes them")
    return "; ".join(out) or "the parent no longer covers these hostnames"


def _fix(results: list[ParentResult], ev: Evaluation) -> str:
    for r in results:
        renamed = gateway_renames(ev).get((GATEWAY, r.ref.namespace, r.ref.name)) if r.ref.is_gateway else None
        if renamed is not None:
            return f"point parentRefs[{r.ref.index}] at {label(renamed, ev.mixed)} in the same change"
        if r.ref.section and r.parent is not None and ev.base is not None:
            before = ev.base.get(*r.parent.key)
            new_name = renames(before, r.parent).get(r.ref.section) if before is not None else None
            if new_name:
                return (f"set parentRefs[{r.ref.index}].sectionName to {new_name} in the same change, or keep the "
                        f"listener name {r.ref.section}")
    return ("keep the Gateway and listener the route attaches to until the route is moved, or move the route in "
            "the same change")
