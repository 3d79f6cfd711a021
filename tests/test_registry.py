"""Every rule is complete: id, docs page, Istio guidance link, fixtures that fire and near misses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.analyze import load_config
from bot.errors import BotError
from bot.rules import BY_ID, RULE_IDS, RULES
from bot.rules.base import docs_url
from tests.helpers import load_script

ROOT = Path(__file__).resolve().parent.parent


def _gen():  # type: ignore[no-untyped-def]
    return load_script("gen_rule_docs")


def test_ids_are_stable_kebab_case_and_unique() -> None:
    assert len(set(RULE_IDS)) == len(RULE_IDS) == len(BY_ID)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule_id) for rule_id in RULE_IDS)


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_rule_is_documented_and_has_fixtures(rule) -> None:  # type: ignore[no-untyped-def]
    assert (ROOT / "docs" / "rules" / f"{rule.ID}.md").exists()
    assert docs_url(rule.ID).endswith(f"docs/rules/{rule.ID}.md")
    assert rule.GUIDANCE.startswith(("https://istio.io/", "https://kubernetes.io/"))
    assert len(rule.WHY) > 100 and rule.SUMMARY
    assert rule.SOURCES and all(isinstance(s, str) and s for s in rule.SOURCES)
    cases = [p.name for p in (ROOT / "tests" / "rules" / rule.ID).iterdir() if p.is_dir()]
    assert any(c.startswith("fires") for c in cases), "needs a firing fixture"
    assert any(c.startswith("near-miss") for c in cases), "needs a near miss"


def test_docs_pages_are_up_to_date() -> None:
    stale = [str(p) for p, text in _gen().pages().items() if not p.exists() or p.read_text() != text]
    assert stale == [], "run: python scripts/gen_rule_docs.py"


def test_config_rejects_unknown_rule_ids_and_keys() -> None:
    with pytest.raises(BotError, match="unknown rule id 'subset-typo'"):
        load_config("rules:\n  subset-typo: {enabled: false}\n")
    with pytest.raises(BotError, match="unknown key 'sevrity'"):
        load_config("rules:\n  subset-missing: {sevrity: notice}\n")
    config = load_config("rules:\n  subset-missing: {severity: notice}\n")
    assert config.rule("subset-missing").severity and config.rule("subset-missing").severity.value == "notice"


def test_config_mesh_outbound_mode() -> None:
    assert load_config("").mesh_outbound_mode == "ALLOW_ANY"
    assert load_config("mesh-outbound-mode: registry_only\n").mesh_outbound_mode == "REGISTRY_ONLY"
    with pytest.raises(BotError, match="mesh-outbound-mode must be one of ALLOW_ANY, REGISTRY_ONLY"):
        load_config("mesh-outbound-mode: DENY\n")
