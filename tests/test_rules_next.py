"""Staged fixtures (tests/rules-next, see its README.md) stay well-formed until they become goldens."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyze import load_config
from bot.rules import RULE_IDS

ROOT = Path(__file__).parent / "rules-next"
CASES = sorted(p for p in ROOT.glob("*/*") if p.is_dir())
NEW_RULES = {"sidecar-scope-narrowed", "dr-move-order", "vs-host-unserved"}


def test_every_rule_folder_names_a_rule_and_has_a_draft_page() -> None:
    rules = {p.name for p in ROOT.iterdir() if p.is_dir()}
    assert rules <= set(RULE_IDS) | NEW_RULES
    assert all((ROOT / rule / "RULE.md").exists() for rule in rules)
    assert all(any(c.parent.name == rule and c.name.startswith("fires") for c in CASES) for rule in rules)


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_case_is_complete(case: Path) -> None:
    assert case.name.startswith(("fires", "near-miss"))
    assert (case / "head.yaml").exists()
    if (case / "config.yaml").exists():
        load_config((case / "config.yaml").read_text())
    expected = (case / "EXPECTED.md").read_text()
    want = expected.split("\n## Today\n")[0]
    assert "\n## Today\n" in expected
    if case.name.startswith("near-miss"):
        assert f"nothing from `{case.parent.name}`" in want or "Must report no" in want
    else:
        assert f"`{case.parent.name}`" in want and ("error" in want or "warning" in want or "notice" in want)
