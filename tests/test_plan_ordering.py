"""The staged plan on rule fixtures: which steps each stage holds, in order (make before break)."""

from __future__ import annotations

from pathlib import Path

from bot.plan import Plan
from tests.helpers import diff

RULES = Path(__file__).parent / "rules"


def plan(case: str) -> Plan:
    folder = RULES / case
    base = {"manifest.yaml": (folder / "base.yaml").read_text()} if (folder / "base.yaml").exists() else {}
    return diff(base, {"manifest.yaml": (folder / "head.yaml").read_text()}).plan


def stages(case: str) -> list[list[str]]:
    """Each stage as `action Kind ns/name` steps."""
    return [[f"{s.action} {s.resource.display}" for s in stage.steps] for stage in plan(case).stages]


def test_virtual_service_moves_off_before_the_gateway_stops_serving_its_host() -> None:
    assert stages("vs-host-unserved/near-miss-vs-moved-off-too") == [
        ["delete VirtualService shop/storefront"], ["apply Gateway edge/public"]]
    assert plan("vs-host-unserved/near-miss-vs-moved-off-too").stages[0].wait  # waited on before the Gateway


def test_deleted_virtual_service_goes_before_the_subsets_it_used() -> None:
    assert stages("subset-remove-order/fires-virtual-service-deleted-with-rule") == [
        ["delete VirtualService bookinfo/reviews"], ["delete DestinationRule bookinfo/reviews"]]


def test_root_stops_delegating_before_the_delegate_is_deleted() -> None:
    assert stages("reference-missing/near-miss-root-stops-delegating-first") == [
        ["apply VirtualService edge/shop"], ["delete VirtualService cart/cart"]]


def test_renamed_or_moved_destination_rule_is_applied_before_the_old_one_is_deleted() -> None:
    assert stages("dr-move-order/fires-rename") == [
        ["apply DestinationRule bookinfo/reviews-subsets"], ["delete DestinationRule bookinfo/reviews"]]
    assert stages("dr-move-order/near-miss-policy-moved-where-every-client-finds-it") == [
        ["apply DestinationRule bookinfo/reviews"], ["delete DestinationRule istio-system/reviews"]]
    first = plan("dr-move-order/fires-rename").stages[0]
    assert first.wait and "DestinationRule reviews-subsets.bookinfo" in first.wait
