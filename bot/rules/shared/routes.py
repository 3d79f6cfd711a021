"""How HTTP/TCP/TLS rules of a VirtualService match: vs-fragment-conflict and vs-unreachable-rule."""

from __future__ import annotations

from typing import Any

from bot.values import as_dict, canonical


def is_catch_all(rule: dict[str, Any]) -> bool:
    """A rule that matches every request: no match, or only `/` / `.*` URI matches.

    Inside one VirtualService, translation stops after the first catch-all
    (https://istio.io/latest/docs/concepts/traffic-management/#routing-rule-precedence).
    """
    matches = rule.get("match")
    if matches is None or matches == []:
        return True
    if not isinstance(matches, list):
        return False
    for raw in matches:
        match = as_dict(raw)
        if set(match) - {"uri", "name"}:
            continue
        uri = as_dict(match.get("uri"))
        if not match.get("uri") or uri in ({"prefix": "/"}, {"regex": ".*"}, {"regex": "/.*"}):
            return True
    return False


def match_key(match: object) -> str:
    """A match's identity: its conditions, without its `name` (validation.go compares them so)."""
    if isinstance(match, dict):
        match = {k: v for k, v in match.items() if k != "name"}
    return canonical(match)
