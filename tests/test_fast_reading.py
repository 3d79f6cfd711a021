"""The two YAML readers agree: yaml-rs takes a document only where it reads it as libyaml does."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reading import fast as load
from bot.reading.fast import read as _read
from bot.reading.fast import risky as _risky
from bot.reading.libyaml import compose as _compose
from bot.reading.split import documents as _documents

ROOT = Path(__file__).resolve().parent.parent


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (a nan equals a nan; 1 is not True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return [repr(k) for k in a] == [repr(k) for k in b] and all(same(x, y) for x, y in zip(a.values(), b.values()))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def libyaml(text: str) -> tuple[int | None, Any]:
    node, body = _compose(text)
    return (None, None) if node is None else (node.start_mark.line, body)


def agree(text: str) -> bool:
    """Whatever `_read` answers, libyaml alone answers the same (or both refuse the text).

    Returns False for a document that holds no value (empty or null) in either reading.
    """
    try:
        expected = libyaml(text.replace("\r\n", "\n"))
    except Exception as exc:  # noqa: BLE001 - then the fast path must refuse it too
        with pytest.raises(type(exc)):
            _read(text)
        return True
    line, body = _read(text)
    if expected[1] is None or body is None:  # empty or null documents hold no resource either way
        assert expected[1] is None and body is None
        return False
    assert same(body, expected[1]) and line == expected[0], text
    return True


# Each of these reads differently in YAML 1.2 (yaml-rs) and the libyaml reader (go-yaml v2's types,
# as kubectl reads them), or needs our own checks: without the guard in fast.risky the fast path would
# return another value, or none.
DISAGREE = [
    "a: on\n", "a: No\n", "- yes\n- OFF\n", "x: [a, on]\n", "on: 1\n", "a:\n  off\n",
    "a: 0777\n", "a: 08\n", "a: 0o17\n", "a: 1e3\n", "a: 1.5e3\n", "a: 1:20\n", "a: 1_000\n", "a: +12\n", "a: .5\n",
    "a: |\nb: 1\n", "a: >-\n  x\n", "a: &x 1\nb: *x\n", "a: !custom 1\n", "x: &a {p: 1}\ny:\n  <<: *a\n",
    "a: 1\n...\nb: 2\n", "? [a]\n: b\n", "{[1, 2]: x}\n", ": x\n", "- : x\n", "a: \x85x\n", "\ufeffa: 1\n", "a:\tb\n",
    "x: 1\r2\n",
    # go-yaml v2 (kubectl) reads these otherwise than YAML 1.2, or refuses them
    "a: y\n", "- N\n", "[y, n]\n", "true: 1\n", "False: 1\n", "~: 1\n", "1.5: x\n", "a: .inf\n", 'a: "x\\/y"\n',
    "a: 1234567890123456789\n",
]


@pytest.mark.parametrize("text", DISAGREE)
def test_documents_the_readers_disagree_on_go_to_libyaml(text: str) -> None:
    assert _risky(text)
    agree(text)


def test_deep_indentation_goes_to_libyaml() -> None:
    deep = "".join(" " * i + "a:\n" for i in range(300))  # yaml-rs recurses; very deep input overflows its stack
    assert _risky(deep)
    agree(deep)


PLAIN = ["a: 1\n", "a: -1\n", "a: 0.5\n", "- 8080\n", "timeout: 30s\n", "addresses: [10.0.0.1, 10.0.0.2/32]\n",
         "host: reviews.shop.svc.cluster.local\n", "exportTo: ['.', \"*\"]\n", "weight: 0\n", "name: v1  # first\n",
         "a: noon\n", "a: nope\n", "a: b|c\n", "tls: {}\n", "a: '0777'\n", 'a: "on"\n', "version: 1.2.3\n"]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_documents_take_the_fast_path(text: str) -> None:
    assert not _risky(text)
    agree(text)


def test_the_bundled_examples_take_the_fast_path() -> None:
    """Otherwise the speed-up silently disappears on ordinary manifests (one example is broken YAML)."""
    chunks = [c for p in sorted((ROOT / "examples").rglob("*.yaml")) for c, _ in _documents(p.read_text())]
    risky = [c for c in chunks if _risky(c)]
    assert len(chunks) > 20 and len(risky) == 1 and "\ttimeout: 5s" in risky[0]


def test_without_yaml_rs_the_values_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "examples" / "head").rglob("*.yaml").__next__().read_text()
    fast = [_read(c) for c, _ in _documents(text)]
    monkeypatch.setattr(load, "_fast", None)
    slow = [_read(c) for c, _ in _documents(text)]
    assert len(fast) == len(slow) and all(same(a, b) for a, b in zip(fast, slow))


SCALARS = ["yes", "No", "ON", "off", "y", "n", "true", "True", "TRUE", "tRuE", "null", "Null", "~", "", "0777", "08",
           "0o17", "0x1F", "0b101", "1_000", "1e3", "1.5e-3", "1:20", ".5", "1.", ".inf", "-.Inf", ".NaN", "+12", "-0",
           "-1", "0", "9080", "0.25", "2001-12-14", "=", "<<", "*a", "&a x", "!t x", "'q'", '"q\\n"', "'it''s'", "|",
           ">-", "#c", "a #c", "a#c", "10.0.0.1", "30s", "1Gi", "v1", "1.2.3", "x:y", "a b", "-", "- x", "[a, b]",
           "{a: 1}", "[]", "{}", "[on, 1e3]", "é", "\t", "@x", "`x", "%x", "?", "? x", ":x", "a: b", "..."]
TOKEN_CHARACTERS = "019_+-.eExXoOaAfFnNyY ~,#'\"[]{}!&*|>%@`?=:/\\\n"
KEYS = ["a", "name", "on", "yes", "0777", "1e3", "80", "x y", "'q'", '"dq"', "1:20", "<<", "true", "~", "-1", "[a]"]


def _block(draw: st.DrawFn, depth: int, indent: str) -> str:
    out = ""
    sequence = draw(st.booleans())
    for _ in range(draw(st.integers(1, 3))):
        lead = f"{indent}- " if sequence else f"{indent}{draw(st.sampled_from(KEYS))}:"
        if depth < 3 and draw(st.integers(0, 3)) == 0:
            out += lead.rstrip() + "\n" + _block(draw, depth + 1, indent + "  ")
        else:
            value = draw(st.sampled_from(SCALARS) | st.text(alphabet=TOKEN_CHARACTERS, max_size=6))
            out += f"{lead}{'' if sequence else ' '}{value}\n"
    return out


@st.composite
def documents(draw: st.DrawFn) -> str:
    text = _block(draw, 0, "")
    if draw(st.booleans()):
        text = draw(st.sampled_from(["---\n", "# c\n", "--- # c\n", "%YAML 1.1\n---\n", "\n"])) + text
    return text.replace("\n", "\r\n") if draw(st.integers(0, 9)) == 0 else text


@settings(max_examples=int(os.environ.get("READER_EXAMPLES", "600")), deadline=None)  # more: READER_EXAMPLES=20000
@given(documents())
def test_readers_agree_on_generated_documents(text: str) -> None:
    agree(text)



def _every_pattern(text: str) -> bool:
    """`risky` without its shortcuts: every pattern searched, the characters by the regex."""
    first = load._FIRST_LINE_RISK.match(text) is not None
    return first or bool(load.ODD_CHARACTER.search(text)) or any(rx.search(text) for _, rx in load.RISKS)


def _shortcuts_hold(text: str) -> None:
    for needs, rx in load.RISKS:
        assert not needs or not rx.search(text) or any(c in text for c in needs), (rx.pattern, text)
    assert _risky(text) == _every_pattern(text), text


@pytest.mark.parametrize("text", ["a: [?]\n", "{? a: 1}\n", "a: [b, ? c]\n", "[a]: 1\n", "{a: 1}: 2\n", "a: [b:c]\n",
                                  "a: {b: c}\n", "a: |\n  x\n", "a: >-\n  x\n", "a: b\tc\n", "a: é\x85\n", "a: b&c\n", "a: b, ? c\n"])
def test_the_shortcuts_of_risky_change_no_answer(text: str) -> None:
    """A pattern is skipped only when the text lacks every character it needs to match."""
    assert _risky(text)
    _shortcuts_hold(text)


@settings(max_examples=int(os.environ.get("READER_EXAMPLES", "600")), deadline=None)
@given(documents() | st.text(alphabet=TOKEN_CHARACTERS + "\t\r\x85\u2028\ufeff\x7f\xe9", max_size=40))
def test_the_shortcuts_of_risky_change_no_answer_on_generated_text(text: str) -> None:
    _shortcuts_hold(text)
