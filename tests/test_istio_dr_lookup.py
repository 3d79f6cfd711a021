"""DestinationRule lookup (bot/istio/dr_lookup.py) in Istio's order, root namespace included."""

from __future__ import annotations

from typing import Any

from bot.istio.dr_lookup import Rule, is_private, lookup, read_rule

ROOT = "istio-system"
REVIEWS = "reviews.bookinfo.svc.cluster.local"


def rule(namespace: str, name: str, host: str = REVIEWS, **spec: Any) -> Rule:
    found = read_rule(namespace, name, {"host": host, **spec})
    assert found is not None
    return found


def names(rules: tuple[Rule, ...]) -> list[str]:
    return [f"{r.namespace}/{r.name}" for r in rules]


def test_reading_resolves_short_hosts_against_the_rules_namespace() -> None:
    assert rule("bookinfo", "r", "reviews").host == REVIEWS
    assert rule("istio-system", "r", "reviews").host == "reviews.istio-system.svc.cluster.local"
    assert read_rule("x", "r", {"host": None}) is None


def test_client_namespace_then_service_then_root() -> None:
    owner = rule("bookinfo", "owner")
    mine = rule("shop", "mine")
    default = rule(ROOT, "default", "*.local")
    rules = [owner, mine, default]
    assert names(lookup("shop", REVIEWS, "bookinfo", rules, ROOT).applied) == ["shop/mine"]
    assert lookup("other", REVIEWS, "bookinfo", rules, ROOT).step == 2
    assert names(lookup("other", "ratings.bookinfo.svc.cluster.local", "bookinfo", rules, ROOT).applied) == \
        ["istio-system/default"]


def test_root_namespace_client_takes_public_root_rules_last() -> None:
    owner = rule("bookinfo", "owner")
    public_root = rule(ROOT, "public", REVIEWS)
    result = lookup(ROOT, REVIEWS, "bookinfo", [owner, public_root], ROOT)
    assert (result.step, names(result.applied)) == (2, ["bookinfo/owner"])
    private_root = rule(ROOT, "private", REVIEWS, exportTo=["."])
    result = lookup(ROOT, REVIEWS, "bookinfo", [owner, public_root, private_root], ROOT)
    assert (result.step, names(result.applied)) == (1, ["istio-system/private"])
    assert lookup(ROOT, REVIEWS, "bookinfo", [public_root], ROOT).step == 3
    # exported to the root namespace by name, alone: private too
    by_name = rule(ROOT, "named", REVIEWS, exportTo=[ROOT])
    assert lookup(ROOT, REVIEWS, "bookinfo", [owner, by_name], ROOT).step == 1


def test_exportto_decides_each_step() -> None:
    hidden = rule("bookinfo", "owner", exportTo=["."])
    assert lookup("shop", REVIEWS, "bookinfo", [hidden], ROOT).step == 0
    assert lookup("bookinfo", REVIEWS, "bookinfo", [hidden], ROOT).step == 1
    others_only = rule("shop", "mine", exportTo=["bookinfo"])
    # exported only to another namespace: not in its own namespace's local index
    assert lookup("shop", REVIEWS, "bookinfo", [others_only], ROOT).step == 0
    listed = rule("bookinfo", "owner", exportTo=["shop", "."])
    assert lookup("shop", REVIEWS, "bookinfo", [listed], ROOT).step == 2
    assert lookup("web", REVIEWS, "bookinfo", [listed], ROOT).step == 0


def test_mesh_default_export_to_private() -> None:
    unexported = rule("bookinfo", "owner")
    assert is_private(unexported, (".",)) and not is_private(unexported)
    assert lookup("shop", REVIEWS, "bookinfo", [unexported], ROOT, default_export=(".",)).step == 0
    assert lookup("bookinfo", REVIEWS, "bookinfo", [unexported], ROOT, default_export=(".",)).step == 1


def test_most_specific_host_in_a_namespace() -> None:
    wide = rule("shop", "wide", "*.local")
    narrow = rule("shop", "narrow", "*.bookinfo.svc.cluster.local")
    exact = rule("shop", "exact")
    assert names(lookup("shop", REVIEWS, "bookinfo", [wide, narrow], ROOT).applied) == ["shop/narrow"]
    assert names(lookup("shop", REVIEWS, "bookinfo", [wide, narrow, exact], ROOT).applied) == ["shop/exact"]


def test_workload_selector_rules() -> None:
    owner = rule("bookinfo", "owner")
    pinned = rule("shop", "pinned", workloadSelector={"matchLabels": {"app": "cart"}}, exportTo=["*"])
    assert is_private(pinned)
    cart = lookup("shop", REVIEWS, "bookinfo", [owner, pinned], ROOT, labels={"app": "cart", "v": "2"})
    assert names(cart.applied) == ["shop/pinned"]
    other = lookup("shop", REVIEWS, "bookinfo", [owner, pinned], ROOT, labels={"app": "web"})
    assert other.step == 1 and other.applied == () and other.hidden_by_selector
    assert lookup("web", REVIEWS, "bookinfo", [owner, pinned], ROOT).step == 2  # never exported
    both = lookup("shop", REVIEWS, "bookinfo", [owner, pinned, rule("shop", "plain")], ROOT, labels={"app": "web"})
    assert names(both.applied) == ["shop/plain"]
