"""SARIF against its published schema, and workflow-command escaping as @actions/core does it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from bot.render import annotations, sarif
from tests import contract
from tests.helpers import diff

ROOT = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.yaml"))}


def test_sarif_is_valid_2_1_0() -> None:
    report = diff(tree(ROOT / "examples" / "base"), tree(ROOT / "examples" / "head"))
    data = json.loads(sarif.render(report))
    jsonschema.validate(data, contract.sarif_schema())
    results = data["runs"][0]["results"]
    assert len(results) == len(report.findings) == 18
    first = results[0]
    assert first["ruleId"] == data["runs"][0]["tool"]["driver"]["rules"][first["ruleIndex"]]["id"]
    assert {r["level"] for r in results} == {"error", "warning", "note"}


def test_escaping_matches_actions_core() -> None:
    assert annotations.escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert annotations.escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_annotations_errors_first_and_left_out_counted() -> None:
    head = {"m.yaml": "".join(
        f"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: 'v{i}:x,y'\n  namespace: s\n"
        f"spec:\n  hosts: [h{i}]\n  http:\n  - route:\n    - destination: {{host: h{i}, subset: nope}}\n" for i in range(12))}
    text = annotations.render(diff({}, head))
    lines = text.splitlines()
    assert len(lines) == 11 and all(line.startswith("::error file=m.yaml,line=") for line in lines[:10])
    assert "title=subset-missing%3A VirtualService s/v0%3Ax%2Cy::" in lines[0]
    assert lines[-1].startswith("::notice::istio-pr-bot: 2 more findings are not annotated")
