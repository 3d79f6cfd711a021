"""The steps of the plan: a change as at head (or its deletion), a transition version that keeps
what routes still use, and how to wait for a Gateway API object to be taken."""

from __future__ import annotations

import io
from typing import Any

from bot.changes import Change
from bot.gatewayapi import rollout
from bot.gatewayapi.kinds import GATEWAY, ROUTE_KINDS
from bot.plan import Step
from bot.planning.route_ordering import RoutePlan
from bot.resource import Resource
from bot.values import as_dict, as_list


def step_for(change: Change, routes: RoutePlan) -> Step:
    if change.head is not None:
        return Step("apply", change.head.ref(), change.head.source, wait=_gateway_api_wait(change.head, routes, ""))
    return Step("delete", change.resource.ref(), change.resource.source)


def _gateway_api_wait(res: Resource, routes: RoutePlan, phase: str) -> str:
    """How to wait for a Gateway API object to be taken (empty for other kinds, and kinds without status)."""
    if res.kind in ROUTE_KINDS:
        parent = routes.watched.get((res.key, phase))
        return rollout.wait_command(res, parent) if parent is not None else ""
    if res.kind in (GATEWAY, "ListenerSet"):
        return rollout.wait_command(res)
    return ""


def transition_for(change: Change, routes: RoutePlan) -> Step:
    """The DestinationRule as at head plus the subsets it loses, or the route as at head plus the
    parentRefs it drops: nothing breaks while routes (or listeners) move."""
    base, head = change.base, change.head
    if base is None or head is None:  # a transition is planned only for a modified resource
        raise ValueError(f"no transition for a change that {change.change} {change.resource.display}")
    if head.kind in ROUTE_KINDS:
        kept = routes.kept[change.key]
        names = ", ".join(_parent_text(as_dict(p)) for p in kept)
        return Step("apply", head.ref(), _with_items(head, "parentRefs", kept),
                    note=f"transition version: as at head, still naming {names} until the parent has changed",
                    wait=_gateway_api_wait(head, routes, "transition"))
    keep = [s for s in as_list(base.spec.get("subsets"))
            if as_dict(s).get("name") not in {as_dict(h).get("name") for h in as_list(head.spec.get("subsets"))}]
    names = ", ".join(str(as_dict(s).get("name")) for s in keep)
    return Step("apply", head.ref(), _with_items(head, "subsets", keep),
                note=f"transition version: as at head, still keeping subset {names} until routes have moved")


def _parent_text(ref: dict[str, Any]) -> str:
    section = f" listener {ref['sectionName']}" if ref.get("sectionName") else ""
    return f"parentRef {ref.get('name')}{section}"


def _with_items(head: Resource, key: str, extra: list[Any]) -> str:
    """The head document's text with `extra` items appended to `spec.<key>`; comments kept (round-trip YAML)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        doc = yaml.load(head.source) if not head.from_list else None
    except Exception:  # noqa: BLE001 - fall back to a plain dump below
        doc = None
    if not isinstance(doc, dict):
        import yaml as pyyaml

        body = dict(head.body)
        spec = dict(as_dict(body.get("spec")))
        spec[key] = list(as_list(spec.get(key))) + extra
        body["spec"] = spec
        return "---\n" + pyyaml.safe_dump(body, sort_keys=False)
    spec = doc.setdefault("spec", {})
    items = spec.get(key)
    if not isinstance(items, list):
        items = spec[key] = []
    items.extend(extra)
    out = io.StringIO()
    yaml.dump(doc, out)
    return "---\n" + out.getvalue()
