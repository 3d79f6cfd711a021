"""VirtualService delegation (bot/istio/delegation.py)."""

from __future__ import annotations

from typing import Any

from bot.istio.delegation import (
    HIDDEN,
    MISSING,
    NOT_A_DELEGATE,
    DelegateRef,
    delegate_refs,
    delegation_problem,
    dropped_routes,
    match_conflict,
)
from bot.visibility import EVERYONE, Visibility, export_to

ROOT_SPEC: dict[str, Any] = {"hosts": ["shop.example.com"], "gateways": ["edge/gw"], "http": [
    {"match": [{"uri": {"prefix": "/cart"}}], "delegate": {"name": "cart", "namespace": "cart"}},
    {"match": [{"uri": {"prefix": "/search"}}], "delegate": {"name": "search"}},
    {"route": [{"destination": {"host": "web"}}]}]}


def test_refs_default_to_the_roots_namespace() -> None:
    assert delegate_refs(ROOT_SPEC, "edge") == [DelegateRef("cart", "cart", 0), DelegateRef("edge", "search", 1)]


def test_visibility_is_checked_from_the_roots_namespace() -> None:
    ref = DelegateRef("cart", "cart", 0)
    delegate = {"http": [{"route": [{"destination": {"host": "cart"}}]}]}
    assert delegation_problem(ref, "edge", delegate, EVERYONE) is None
    assert delegation_problem(ref, "edge", delegate, export_to(["edge"], "cart")) is None
    assert delegation_problem(ref, "edge", delegate, export_to(["."], "cart")) == HIDDEN
    # the gateway's or clients' namespaces do not matter
    assert delegation_problem(ref, "edge", delegate, Visibility(False, frozenset({"edge"}))) is None
    assert delegation_problem(ref, "edge", None, None) == MISSING
    assert delegation_problem(ref, "edge", {**delegate, "hosts": ["cart.example.com"]}, EVERYONE) == NOT_A_DELEGATE


def test_match_nesting() -> None:
    root = {"uri": {"prefix": "/cart"}}
    assert not match_conflict(root, {"uri": {"prefix": "/cart/items"}})
    assert not match_conflict(root, {"uri": {"exact": "/cart"}})
    assert match_conflict(root, {"uri": {"prefix": "/checkout"}})
    assert match_conflict(root, {"uri": {"regex": "/cart/.*"}})
    assert match_conflict({"uri": {"exact": "/a"}}, {"uri": {"prefix": "/a"}})
    assert match_conflict(root, {"uri": {"prefix": "/cart/x"}, "ignoreUriCase": True})
    assert not match_conflict(root, {"headers": {"x-user": {"exact": "a"}}})  # root sets no header: no conflict
    assert match_conflict({**root, "port": 80}, {"port": 8080})
    assert match_conflict({**root, "sourceNamespace": "web"}, {"uri": {"prefix": "/cart"}})
    assert match_conflict({**root, "gateways": ["edge/gw"]}, {"gateways": ["edge/other"]})


def test_dropped_delegate_routes() -> None:
    delegate = {"http": [{"match": [{"uri": {"prefix": "/cart/items"}}], "route": [{"destination": {"host": "a"}}]},
                         {"match": [{"uri": {"prefix": "/other"}}], "route": [{"destination": {"host": "b"}}]},
                         {"route": [{"destination": {"host": "c"}}]}]}
    assert dropped_routes(ROOT_SPEC["http"][0], delegate) == [1]
    assert dropped_routes({"delegate": {"name": "x"}}, delegate) == []
