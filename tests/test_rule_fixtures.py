"""Before/after fixtures per rule: tests/rules/<rule-id>/<case>/{base.yaml, head.yaml, expected.txt}.

`expected.txt` lists the findings of that rule (severity, rule, resource, file:line); near-miss
cases (`near-miss-*`) must list none. A case may hold `config.yaml` (`.istio-pr-bot.yaml` syntax)
for the settings it needs. Set UPDATE_GOLDEN=1 to rewrite the files, then review them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.analyze import load_config
from tests.helpers import diff, lines

ROOT = Path(__file__).parent / "rules"
CASES = sorted(p for p in ROOT.glob("*/*") if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_fixture(case: Path) -> None:
    rule = case.parent.name
    base = {"manifest.yaml": (case / "base.yaml").read_text()} if (case / "base.yaml").exists() else {}
    head = {"manifest.yaml": (case / "head.yaml").read_text()}
    config = load_config((case / "config.yaml").read_text()) if (case / "config.yaml").exists() else None
    got = lines(diff(base, head, config), rule)
    golden = case / "expected.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text("".join(f"{line}\n" for line in got))
    expected = [line for line in golden.read_text().splitlines() if line.strip()]
    if case.name.startswith("near-miss"):
        assert expected == [], "a near-miss case must expect nothing"
    else:
        assert expected, "a firing case must expect at least one finding"
    assert got == expected
