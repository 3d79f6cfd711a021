"""Before/after fixtures per rule: tests/rules/<rule-id>/<case>/{base.yaml, head.yaml, expected.txt}, or
for rules about deploy targets {base/, head/, expected.txt}: two repository trees, reviewed target by
target with the pinned helm and kustomize.

`expected.txt` lists the findings of that rule (severity, rule, resource, file:line); near-miss
cases (`near-miss-*`) must list none. A case may hold `config.yaml` (`.istio-pr-bot.yaml` syntax)
for the settings it needs. Set UPDATE_GOLDEN=1 to rewrite the files, then review them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.analyze import load_config
from bot.buildtools import Renderers
from bot.config import Config
from bot.targets import RenderSettings
from tests.helpers import diff, lines, review_trees

ROOT = Path(__file__).parent / "rules"
CASES = sorted(p for p in ROOT.glob("*/*") if p.is_dir() and not (p / "head").is_dir())
TREES = sorted(p for p in ROOT.glob("*/*") if (p / "head").is_dir())


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_fixture(case: Path) -> None:
    rule = case.parent.name
    base = {"manifest.yaml": (case / "base.yaml").read_text()} if (case / "base.yaml").exists() else {}
    head = {"manifest.yaml": (case / "head.yaml").read_text()}
    check(case, lines(diff(base, head, _config(case)), rule))


@pytest.mark.parametrize("case", TREES, ids=[f"{p.parent.name}/{p.name}" for p in TREES])
def test_tree_fixture(case: Path, renderers: Renderers) -> None:
    report = review_trees(case / "base", case / "head", _config(case) or Config(), renderers, RenderSettings())
    check(case, lines(report, case.parent.name))


def _config(case: Path) -> Config | None:
    """The case's `config.yaml`, when it has one."""
    return load_config((case / "config.yaml").read_text()) if (case / "config.yaml").exists() else None


def check(case: Path, got: list[str]) -> None:
    golden = case / "expected.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text("".join(f"{line}\n" for line in got))
    expected = [line for line in golden.read_text().splitlines() if line.strip()]
    if case.name.startswith("near-miss"):
        assert expected == [], "a near-miss case must expect nothing"
    else:
        assert expected, "a firing case must expect at least one finding"
    assert got == expected
