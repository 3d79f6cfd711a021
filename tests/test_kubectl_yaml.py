"""The bot's YAML reader against what kubectl reads (tests/kubectl-yaml, see its README.md).

`DIVERGES` lists the shapes on which the reader disagrees with kubectl today, and how: the test fails
when a listed shape starts to agree (remove it from the list) or an unlisted one starts to disagree.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.load import parse_file

ROOT = Path(__file__).parent / "kubectl-yaml"
EXPECTED: dict[str, dict[str, Any]] = json.loads((ROOT / "expected.json").read_text())

# shape -> what the reader does today where kubectl does otherwise:
#   "rejects": parse-error on a file kubectl accepts;  "accepts": no parse-error on a file kubectl rejects;
#   "reads differently": both accept, with other values;  "skips": left out with a note, not a parse-error.
DIVERGES: dict[str, str] = {
    "big-integer": "reads differently",
    "binary-tag": "reads differently",
    "byte-order-mark-second-document": "rejects",
    "deep-flow-nesting-600": "rejects",
    "document-end-then-document": "rejects",
    "duplicate-key": "rejects",
    "duplicate-key-json": "rejects",
    "escaped-slash": "accepts",
    "exponent-numbers": "reads differently",
    "infinity": "accepts",
    "ipv6-in-flow-list": "rejects",
    "json-stream": "rejects",
    "label-keys-on-and-n": "reads differently",
    "leading-zero-decimal": "reads differently",
    "name-y": "reads differently",
    "not-a-number": "accepts",
    "not-utf8": "skips",
    "null-key": "accepts",
    "octal-numbers": "reads differently",
    "question-mark-in-flow-list": "accepts",
    "scalar-keys": "rejects",
    "separator-glued-to-text": "accepts",
    "separator-with-block-scalar": "accepts",
    "separator-with-tag": "accepts",
    "sexagesimal": "reads differently",
    "sexagesimal-block": "reads differently",
    "tag-directive": "accepts",
    "y-and-n": "reads differently",
    "yaml-1.1-directive": "accepts",
    "yaml-1.2-directive": "accepts",
}


def _json_key(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _as_json(value: Any) -> Any:
    """A parsed value as kubectl's conversion to JSON would spell it (numbers compared by value)."""
    if isinstance(value, dict):
        return {_json_key(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def outcome(name: str) -> tuple[str, Any]:
    """("accepts", documents) or ("rejects", reason) or ("skips", reason) for the bot's reader."""
    parsed = parse_file(f"{name}.yaml", (ROOT / "cases" / f"{name}.yaml").read_bytes(), Config())
    if parsed.problem:
        return "rejects", parsed.problem.reason
    if parsed.skipped:
        return "skips", parsed.skipped[0].reason
    return "accepts", [_as_json(r.body) for r in parsed.resources]


def verdict(name: str) -> str:
    """"agrees", or how the reader differs from kubectl on this shape."""
    expected = EXPECTED[name]
    got, value = outcome(name)
    if expected["kubectl"] == "accepts":
        if got != "accepts":
            return got
        return "agrees" if json.dumps(value, sort_keys=True) == json.dumps(expected["documents"], sort_keys=True) \
            else "reads differently"
    return "agrees" if got == "rejects" else got


def test_corpus_is_complete() -> None:
    cases = sorted(p.stem for p in (ROOT / "cases").glob("*.yaml"))
    assert cases == sorted(EXPECTED)
    assert set(DIVERGES) <= set(EXPECTED)
    assert {e["kubectl"] for e in EXPECTED.values()} == {"accepts", "rejects"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reader_matches_kubectl(name: str) -> None:
    assert verdict(name) == DIVERGES.get(name, "agrees")
