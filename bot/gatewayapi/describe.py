"""What a change does to a Gateway API object, in the words of the API: field-level phrases.

A listener is known by its name, a parentRef by (group, kind, namespace, name, sectionName, port), a
backendRef by its target, a hostname by itself; so a renamed listener reads as one rename, a parentRef
moved to another listener as "sectionName http -> web", and a weight shift as
"cart-v2 weight 10 -> 50 (10% -> 50%)". A Gateway (or route, grant, ListenerSet) deleted and created
again under another name with the same spec reads as one rename (`is_rename`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.gatewayapi import hostnames as hn
from bot.gatewayapi.backends import percent
from bot.gatewayapi.kinds import GATEWAY, GATEWAY_CLASS, LISTENER_SET, NAMESPACE, REFERENCE_GRANT, ROUTE_KINDS
from bot.gatewayapi.listeners import renames, same_shape
from bot.gatewayapi.objects import BackendRef, Listener, ParentRef, RouteRule, gateway_class, listeners, route
from bot.resource import Resource
from bot.values import as_dict, as_list, as_str, canonical

KINDS = (GATEWAY, LISTENER_SET, *ROUTE_KINDS, REFERENCE_GRANT, NAMESPACE, GATEWAY_CLASS)
Phrases = tuple[list[str], tuple[str, ...]]  # (phrases, field paths they account for)


def describe(before: Resource, after: Resource) -> Phrases:
    """Phrases for what changed between two versions of a Gateway API object (or a Namespace), and
    the field paths (as `bot.changes` writes them) the phrases account for."""
    if before.kind in (GATEWAY, LISTENER_SET):
        out = _listeners(before, after)
        if before.kind == GATEWAY and gateway_class(before) != gateway_class(after):
            out.insert(0, f"gatewayClassName {gateway_class(before) or '(none)'} -> {gateway_class(after) or '(none)'}")
        return out, ("spec.listeners", "spec.gatewayClassName")
    if before.kind in ROUTE_KINDS:
        return _parents(before, after) + _hostnames(before, after) + _rules(before, after), (
            "spec.parentRefs", "spec.hostnames", "spec.rules")
    if before.kind == REFERENCE_GRANT:
        return _grant(before, after), ("spec.from", "spec.to")
    if before.kind == NAMESPACE:
        return _labels(before.labels, after.labels), ("metadata.labels",)
    if before.kind == GATEWAY_CLASS:
        old, new = as_str(before.spec.get("controllerName")), as_str(after.spec.get("controllerName"))
        return ([f"controllerName {old} -> {new}"] if old != new else []), ("spec.controllerName",)
    return [], ()


def is_rename(old: Resource, new: Resource) -> bool:
    """Whether a deleted object and a created one read as one object renamed: same kind and namespace,
    and for a Gateway the same class and listeners (what route-detached and the plan call a rename),
    for the other kinds the same spec."""
    if old.kind != new.kind or old.namespace != new.namespace or old.kind not in KINDS:
        return False
    if old.kind in (NAMESPACE, GATEWAY_CLASS):
        return False  # a Namespace or class of another name is another one, not this one renamed
    if old.kind == GATEWAY:
        return same_shape(old, new)
    return canonical(old.spec) == canonical(new.spec)


# ---- listeners --------------------------------------------------------------------------------


def _host(name: str) -> str:
    return "unset" if name == hn.ANY else name


def _allowed(lst: Listener) -> str:
    if lst.allowed_from != "Selector":
        return lst.allowed_from
    return "Selector " + (canonical(lst.selector) if lst.selector is not None else "(none: all)")


def _kinds(lst: Listener) -> str:
    return ", ".join(k for _, k in lst.kinds) or "by protocol"


def _certs(lst: Listener) -> str:
    return ", ".join(c.text for c in lst.certs) or "none"


_LISTENER_FIELDS: tuple[tuple[str, Callable[[Listener], object]], ...] = (
    ("port", lambda lst: lst.port),
    ("protocol", lambda lst: lst.protocol),
    ("hostname", lambda lst: _host(lst.hostname)),
    ("tls mode", lambda lst: lst.tls_mode or "none"),
    ("certificateRefs", _certs),
    ("tls options", lambda lst: canonical(lst.tls_options) if lst.tls_options else "none"),
    ("allowedRoutes namespaces", _allowed),
    ("allowedRoutes kinds", _kinds),
)


def _listener_edits(name: str, old: Listener, new: Listener) -> list[str]:
    out = []
    for label, get in _LISTENER_FIELDS:
        a, b = get(old), get(new)
        if a != b:
            out.append(f"listener {name} {label} {a} -> {b}")
    return out


def _same_but_name(a: Listener, b: Listener) -> bool:
    return all(get(a) == get(b) for _, get in _LISTENER_FIELDS)


def _listeners(before: Resource, after: Resource) -> list[str]:
    old = {lst.name: lst for lst in listeners(before)}
    new = {lst.name: lst for lst in listeners(after)}
    gone = [n for n in old if n not in new]
    fresh = [n for n in new if n not in old]
    moved: dict[str, str] = {}
    for g in gone:  # the same listener under a new name first, then one on the same port, protocol and hostname
        same = [f for f in fresh if f not in moved.values() and _same_but_name(old[g], new[f])]
        if len(same) == 1:
            moved[g] = same[0]
    for g, f in renames(before, after).items():
        if g not in moved and f not in moved.values():
            moved[g] = f
    out = []
    for g, f in moved.items():
        out.append(f"listener {g} renamed to {f}")
        out += _listener_edits(f, old[g], new[f])
    for name, lst in new.items():
        if name in old:
            out += _listener_edits(name, old[name], lst)
    out += [f"listener {n} removed ({_where(old[n])})" for n in gone if n not in moved]
    out += [f"listener {n} added ({_where(new[n])})" for n in fresh if n not in moved.values()]
    return out


def _where(lst: Listener) -> str:
    host = "" if lst.hostname == hn.ANY else f" {lst.hostname}"
    return f"{lst.protocol} {lst.port}{host}"


# ---- routes -----------------------------------------------------------------------------------


def _parent_key(ref: ParentRef) -> tuple[str, str, str, str, str | None, int | None]:
    return (ref.group, ref.kind, ref.namespace, ref.name, ref.section, ref.port)


def _parents(before: Resource, after: Resource) -> list[str]:
    old = {_parent_key(p): p for p in route(before).parents}
    new = {_parent_key(p): p for p in route(after).parents}
    gone = [p for k, p in old.items() if k not in new]
    fresh = [p for k, p in new.items() if k not in old]
    out = []
    for p in list(gone):  # the same parent, another listener or port: one edit
        same = [f for f in fresh if _parent_key(f)[:4] == _parent_key(p)[:4]]
        if len(same) != 1:
            continue
        f = same[0]
        edits = []
        if p.section != f.section:
            edits.append(f"sectionName {p.section or '(none)'} -> {f.section or '(none)'}")
        if p.port != f.port:
            edits.append(f"port {p.port or '(none)'} -> {f.port or '(none)'}")
        out.append(f"parentRef {p.parent_label()} {', '.join(edits)}")
        gone.remove(p)
        fresh.remove(f)
    out += [f"parentRef {p.text} removed" for p in gone]
    out += [f"parentRef {p.text} added" for p in fresh]
    return out


def _hostnames(before: Resource, after: Resource) -> list[str]:
    old, new = route(before).hostnames, route(after).hostnames
    return ([f"hostname {h} removed" for h in old if h not in new]
            + [f"hostname {h} added" for h in new if h not in old])


def _rule_label(rule: RouteRule) -> str:
    return f"rule {rule.name}" if rule.name else f"rules[{rule.index}]"


def _pair_rules(old: tuple[RouteRule, ...], new: tuple[RouteRule, ...]) -> list[tuple[RouteRule | None,
                                                                                        RouteRule | None]]:
    """Rules of two versions matched: by name, then by identical matches, then by position."""
    pairs: list[tuple[RouteRule | None, RouteRule | None]] = []
    left, right = list(old), list(new)
    keys: tuple[Callable[[RouteRule], object], ...] = (lambda r: r.name, lambda r: None if r.name else r.matches,
                                                      lambda r: None if r.name else r.index)
    for key in keys:
        for a in list(left):
            k = key(a)
            if k is None:
                continue
            match = next((b for b in right if key(b) == k), None)
            if match is not None:
                pairs.append((a, match))
                left.remove(a)
                right.remove(match)
    pairs += [(a, None) for a in left] + [(None, b) for b in right]
    return sorted(pairs, key=lambda p: p[1].index if p[1] is not None else p[0].index if p[0] is not None else 0)


def _target(ref: BackendRef, route_ns: str) -> str:
    if ref.is_service:
        name = ref.name if ref.namespace == route_ns else f"{ref.namespace}/{ref.name}"
    else:
        name = f"{ref.kind} {ref.namespace}/{ref.name}"
    return name


def _backends(rule: RouteRule) -> dict[tuple[object, ...], BackendRef]:
    """backendRefs by target; by target and port where one rule names a target twice."""
    out: dict[tuple[object, ...], BackendRef] = {}
    counts: dict[tuple[str, str, str, str], int] = {}
    for b in rule.backends:
        counts[(b.group, b.kind, b.namespace, b.name)] = counts.get((b.group, b.kind, b.namespace, b.name), 0) + 1
    for b in rule.backends:
        target = (b.group, b.kind, b.namespace, b.name)
        out.setdefault(target if counts[target] == 1 else (*target, b.port), b)
    return out


def _share(ref: BackendRef, rule: RouteRule) -> str:
    return percent(ref.weight, rule.total_weight) if rule.total_weight > 0 else "0%"


def _rule_edits(a: RouteRule, b: RouteRule, raw_a: dict[str, Any], raw_b: dict[str, Any], route_ns: str) -> list[str]:
    out = []
    old, new = _backends(a), _backends(b)
    for key, ref in new.items():
        was = old.get(key)
        name = _target(ref, route_ns)
        if was is None:
            out.append(f"backend {name} added (weight {ref.weight}, {_share(ref, b)})")
            continue
        if was.weight != ref.weight:
            out.append(f"{name} weight {was.weight} -> {ref.weight} ({_share(was, a)} -> {_share(ref, b)})")
        elif _share(was, a) != _share(ref, b):
            out.append(f"{name} share {_share(was, a)} -> {_share(ref, b)}")
        if was.port != ref.port:
            out.append(f"{name} port {was.port} -> {ref.port}")
    out += [f"backend {_target(ref, route_ns)} removed (was {_share(ref, a)})" for key, ref in old.items()
            if key not in new]
    if a.matches != b.matches:
        out.append("matches changed")
    for field in sorted((raw_a.keys() | raw_b.keys()) - {"backendRefs", "matches", "name"}):
        if canonical(raw_a.get(field)) != canonical(raw_b.get(field)):
            out.append(f"{field} changed")
    return out


def _rules(before: Resource, after: Resource) -> list[str]:
    ra, rb = route(before), route(after)
    raw_a, raw_b = as_list(before.spec.get("rules")), as_list(after.spec.get("rules"))
    prefix = len(ra.rules) > 1 or len(rb.rules) > 1
    out = []
    for a, b in _pair_rules(ra.rules, rb.rules):
        if a is None and b is not None:
            out.append(f"{_rule_label(b)} added")
        elif b is None and a is not None:
            out.append(f"{_rule_label(a)} removed")
        elif a is not None and b is not None:
            edits = _rule_edits(a, b, _raw(raw_a, a.index), _raw(raw_b, b.index), after.namespace)
            if a.index != b.index and not edits:
                continue  # a rule that only moved reads through the others
            out += [f"{_rule_label(b)}: {e}" if prefix else e for e in edits]
    return out


def _raw(rules: list[Any], index: int) -> dict[str, Any]:
    return as_dict(rules[index]) if index < len(rules) else {}


# ---- ReferenceGrant, Namespace ----------------------------------------------------------------


def _entries(grant: Resource, field: str, parts: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [tuple(as_str(as_dict(e).get(p)) or "" for p in parts) for e in as_list(grant.spec.get(field))]


def _from_text(entry: tuple[str, ...]) -> str:
    group, kind, namespace = entry
    return f"from {kind}{'' if group in ('', 'gateway.networking.k8s.io') else '.' + group} in {namespace}"


def _to_text(entry: tuple[str, ...]) -> str:
    group, kind, name = entry
    kind = kind + ("" if group == "" else "." + group)
    return f"to {kind} {name}" if name else f"to every {kind}"


def _diff(old: Iterable[tuple[str, ...]], new: Iterable[tuple[str, ...]],
          text: Callable[[tuple[str, ...]], str]) -> list[str]:
    a, b = list(dict.fromkeys(old)), list(dict.fromkeys(new))
    return [f"{text(e)} removed" for e in a if e not in b] + [f"{text(e)} added" for e in b if e not in a]


def _grant(before: Resource, after: Resource) -> list[str]:
    return (_diff(_entries(before, "from", ("group", "kind", "namespace")),
                  _entries(after, "from", ("group", "kind", "namespace")), _from_text)
            + _diff(_entries(before, "to", ("group", "kind", "name")), _entries(after, "to", ("group", "kind", "name")),
                    _to_text))


def _labels(old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = [f"label {k} removed (was {old[k]})" for k in old if k not in new]
    out += [f"label {k}: {old[k]} -> {new[k]}" for k in new if k in old and old[k] != new[k]]
    out += [f"label {k}={new[k]} added" for k in new if k not in old]
    return out
