"""DestinationRule renames and moves (bot/istio/dr_moves.py) and client-side users (bot/istio/consumers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.istio.consumers import read_client_config, users_losing
from bot.istio.dr_lookup import DestinationRuleIndex, Rule, read_rule
from bot.istio.dr_moves import DrVersion, clients_losing, pair_moves, risks
from bot.visibility import Visibility

ROOT = "istio-system"
REVIEWS = "reviews.bookinfo.svc.cluster.local"
SUBSETS = [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]


def dr(namespace: str, name: str, **spec: Any) -> DrVersion:
    return DrVersion(namespace, name, {"host": REVIEWS, "subsets": SUBSETS, **spec})


def test_pairing_renames_and_moves() -> None:
    old = dr("bookinfo", "reviews")
    renamed = dr("bookinfo", "reviews-v2")
    moved = dr("istio-system", "reviews")
    other = DrVersion("bookinfo", "ratings", {"host": "ratings"})
    assert [(m.old.name, m.new.name, m.kind) for m in pair_moves([old], [other, renamed])] == \
        [("reviews", "reviews-v2", "rename")]
    assert [m.kind for m in pair_moves([old], [moved, renamed])] == ["move"]  # same name first


def test_short_host_move_changes_meaning() -> None:
    old = DrVersion("bookinfo", "reviews", {"host": "reviews"})
    new = DrVersion("istio-system", "reviews", {"host": "reviews"})
    (move,) = pair_moves([old], [new])
    assert move.short_host_moved and move.new.host == "reviews.istio-system.svc.cluster.local"
    assert not pair_moves([old], [DrVersion("istio-system", "other", {"host": "reviews"})])


def test_risks_of_applying_both_at_once() -> None:
    (move,) = pair_moves([dr("bookinfo", "reviews")], [dr("bookinfo", "reviews-new", subsets=SUBSETS[:1],
                                                       trafficPolicy={"tls": {"mode": "ISTIO_MUTUAL"}})])
    found = risks(move, {"v2", "v3"})
    assert found.missing_subsets == ("v2",) and found.policy_changed and not found.export_changed
    same = risks(pair_moves([dr("bookinfo", "a")], [dr("bookinfo", "b")])[0], {"v1", "v2"})
    assert same == type(same)((), (), False, False)
    relabelled = dr("bookinfo", "b", subsets=[{"name": "v1", "labels": {"version": "one"}}, SUBSETS[1]])
    assert risks(pair_moves([dr("bookinfo", "a")], [relabelled])[0], ()).changed_subsets == ("v1",)


def test_clients_losing_a_moved_rule() -> None:
    old, new = dr("bookinfo", "reviews"), dr("shop", "reviews", exportTo=["."])
    def gets(*versions: DrVersion) -> Callable[[str], tuple[Rule, ...]]:
        rules = [r for v in versions if (r := read_rule(v.namespace, v.name, v.spec))]
        index = DestinationRuleIndex(rules, ROOT, lambda _: {"bookinfo"})
        return lambda client: index.applied(REVIEWS, client)

    (move,) = pair_moves([old], [new])
    assert clients_losing(move, ["shop", "web", ROOT], gets(old), gets(new)) == ["web", ROOT]
    public = dr(ROOT, "reviews")
    (move,) = pair_moves([old], [public])
    assert clients_losing(move, ["shop", "web", ROOT], gets(old), gets(public)) == []


def test_client_side_configuration_proves_use() -> None:
    configs = [c for c in [
        read_client_config("DestinationRule", "web", "reviews-client", {"host": REVIEWS}),
        read_client_config("DestinationRule", "web", "all", {"host": "*.bookinfo.svc.cluster.local"}),
        read_client_config("VirtualService", "shop", "route", {"hosts": ["shop.example.com"], "http": [
            {"route": [{"destination": {"host": REVIEWS}}]}]}),
        read_client_config("VirtualService", "ops", "pin", {"hosts": [REVIEWS], "tcp": [
            {"route": [{"destination": {"host": "other"}}]}]}),
        read_client_config("DestinationRule", "kept", "kept", {"host": REVIEWS}),
    ] if c]
    lost = Visibility(True, frozenset({"kept"}))
    found = {(c.namespace, c.name, why) for c, why in users_losing(REVIEWS, lost, configs)}
    assert found == {("web", "reviews-client", "sets its traffic policy"), ("web", "all", "sets its traffic policy"),
                     ("shop", "route", "routes to it"), ("ops", "pin", "routes its requests")}
    assert users_losing(REVIEWS, lost, configs, skip=("DestinationRule", "web", "all"))
    assert users_losing("ratings.bookinfo.svc.cluster.local", Visibility(False, frozenset({"shop"})), configs) == []
