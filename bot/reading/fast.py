"""One document's value: yaml-rs where it reads as libyaml would, libyaml otherwise.

yaml-rs (a Rust loader) reads a document about 7x faster than libyaml composing and building the
same values. It is used only when the text has none of the constructs on which YAML 1.2 and
PyYAML's YAML 1.1 disagree or that need checks of our own (`RISKS`); everything else, and anything
yaml-rs rejects, goes through libyaml, which also words the errors. tests/test_fast_reading.py
checks that both paths agree.
"""

from __future__ import annotations

import re
from typing import Any

from bot.reading.libyaml import Duplicate, compose

try:
    import yaml_rs as _fast
except ImportError:  # a platform without a wheel: libyaml alone, slower but the same results
    _fast = None  # type: ignore[assignment]

# Text on which yaml-rs (YAML 1.2) could disagree with the libyaml reader (go-yaml v2's types, as
# kubectl reads them), or that needs checks of our own: anchors and aliases (alias bombs), tags, merge
# keys, `...`, complex keys, tabs, deep indentation (the Rust parser recurses), characters libyaml
# rejects or reads as line breaks, block scalars (yaml-rs reads an empty one as a newline), the escape
# `\/` (kubectl refuses it), and plain scalars whose type differs: y/n/yes/no/on/off are booleans,
# `0777` octal, `1:20` text, `.inf` refused; yaml-rs also reads `_1` as 1. Keys that are booleans,
# null or decimals are spelled as JSON by libyaml's reader. Simple integers and decimals (`9080`,
# `-1`, `0.5`), durations (`30s`) and addresses (`10.0.0.1`) read the same in both. A scalar starts
# after white space, `[`, `{` or `,`.
# Speed: `re` scans fast for a pattern that starts with a literal and slowly (per character) for one
# that starts with a character class, so each pattern starts with a literal where it can; one with a
# class is searched only when the text holds one of the characters it needs (`in` is a memchr), or
# shares its scan with others that start alike. One pattern with every alternative measured slower.
_ENDS = r"(?=[ \t]*(?:$|[,\]}#]|:(?:[ \t]|$)))"  # where a plain scalar ends
_NOT_AT_START = r"[^\s\[{,]"  # in a negative lookbehind: the scalar starts here
_NUMERIC = "[0-9a-fA-FxXoO_:+.-]"
_FLOW_ITEM = r'"[^"\\\n]*"|\'[^\'\n]*\'|[A-Za-z0-9*][A-Za-z0-9._/*-]*'
# & ! < tab, lone CR, NEL, BOM, line separators, control characters
ODD_CHARACTER = re.compile(r"[^\n\x20\x22-\x25\x27-\x3b\x3d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                           r"\U00010000-\U0010ffff]")
_PLAIN_ASCII = bytes(c for c in range(128) if not ODD_CHARACTER.match(chr(c)))  # for bytes.translate
# (characters one of which the pattern needs to match, "": none in particular; the pattern)
RISKS = tuple((needs, re.compile(p, re.M)) for needs, p in (
    # `...`, 200 columns deep, empty or explicit keys
    ("", r"\n(?:\.\.\.|[ -]{200}|[ \t-]*+[:?](?:[ \t]|$))"),
    # a flow collection as a key; `?` in flow
    ("]}?", r"[\]}\[{,](?:(?<=[\]}])[ \t]*:(?:[ \t]|$)|(?<=[\[{,])[ \t]*\?)"),
    # a flow collection other than `{}` or a one-line list of names, numbers and quoted strings: in
    # flow context YAML 1.1 takes `?` and `:` as indicators where 1.2 reads them as text
    ("[{", rf"[\[{{](?<!{_NOT_AT_START}.)(?!(?<=\{{)[ \t]*\}}"
           rf"|(?<=\[)(?:[ \t]*(?:{_FLOW_ITEM})[ \t]*(?:,(?=[ \t]*[^\s\]])|(?=[ \t]*\])))*[ \t]*\])"),
    # y/n/yes/no/on/off (any of their spellings YAML 1.1 reads as booleans), then a number-like scalar
    # that is not a simple integer or decimal; 19 digits: beyond int64
    ("", rf"[yYnNoO\-+._0-9](?<!{_NOT_AT_START}.)(?:"
         r"(?<=[yYnNoO])(?:(?<=y)(?:es)?|(?<=Y)(?:es|ES)?|(?<=n)o?|(?<=N)[oO]?|(?<=o)(?:n|ff)|(?<=O)(?:n|N|ff|FF))"
         rf"{_ENDS}|(?<=[-+._0-9])"
         rf"(?!(?<=-)-*{_ENDS})(?!(?<=-)(?:0|[1-9][0-9]*)(?:\.[0-9]+)?{_ENDS})"
         rf"(?!(?<=[1-9])[0-9]{{0,17}}(?:\.[0-9]+)?{_ENDS})(?!(?<=0)(?:\.[0-9]+)?{_ENDS})"
         rf"(?![0-9a-fA-FxXoO_:+-]*\.[0-9a-fA-FxXoO_:+-]*\.){_NUMERIC}*{_ENDS})"),
    ("|>", r"[|>](?<![^\s\[{,:-].)[-+0-9]*[ \t]*(?:#.*)?$"),  # a block scalar
    ("", r"\\/"),  # the escape kubectl refuses
    ("", r"\.(?:inf|Inf|INF|nan|NaN|NAN)"),  # refused: JSON has no infinity or NaN
    # a key that is a boolean, null or a decimal: spelled as JSON (or refused) by the libyaml reader
    # (each starts with a literal and looks behind it)
    ("", rf"rue(?<=[Tt]rue)(?<!{_NOT_AT_START}....)[ \t]*:(?:[ \t]|$)"),
    ("", rf"RUE(?<=TRUE)(?<!{_NOT_AT_START}....)[ \t]*:(?:[ \t]|$)"),
    ("", rf"ull(?<=[Nn]ull)(?<!{_NOT_AT_START}....)[ \t]*:(?:[ \t]|$)"),
    ("", rf"ULL(?<=NULL)(?<!{_NOT_AT_START}....)[ \t]*:(?:[ \t]|$)"),
    ("", rf"alse(?<=[Ff]alse)(?<!{_NOT_AT_START}.....)[ \t]*:(?:[ \t]|$)"),
    ("", rf"ALSE(?<=FALSE)(?<!{_NOT_AT_START}.....)[ \t]*:(?:[ \t]|$)"),
    ("", rf"~(?<!{_NOT_AT_START}.)[ \t]*:(?:[ \t]|$)"),
    ("", r"\.(?<=[0-9]\.)[0-9]*[ \t]*:(?:[ \t]|$)"),
))
_FIRST_LINE_RISK = re.compile(r"(?:\.\.\.|[ -]{200}|[ \t-]*[:?](?:[ \t]|$))", re.M)
_LEADING = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\r?\n|%[^\n]*\n|---[ \t]*(?:#[^\n]*)?\r?\n)*")


def usable() -> bool:
    """Whether yaml-rs is installed (a platform without a wheel reads everything with libyaml)."""
    return _fast is not None


def risky(text: str) -> bool:
    """Whether `text` (a document, CRLF read as LF) must be read by libyaml."""
    if _FIRST_LINE_RISK.match(text) is not None:
        return True
    if text.isascii():  # the odd ASCII characters are what the translation leaves
        if text.encode("ascii").translate(None, _PLAIN_ASCII):
            return True
    elif ODD_CHARACTER.search(text):
        return True
    for needs, rx in RISKS:
        if (not needs or any(c in text for c in needs)) and rx.search(text):
            return True
    return False


def read(chunk: str, safe: bool = False, duplicates: list[Duplicate] | None = None) -> tuple[int | None, Any]:
    """(0-based line of the document's root in `chunk`, its value), or (None, None) for no document.

    `safe`: `risky` is already known to be False for this text. Keys the document repeats are
    appended to `duplicates` (yaml-rs refuses them, so they are read by libyaml). Raises what
    `compose` raises.
    """
    text = chunk.replace("\r\n", "\n") if "\r" in chunk else chunk  # YAML reads CRLF as LF
    if _fast is not None and (safe or not risky(text)):
        try:
            body = _fast.loads(text, parse_datetime=False)
        except Exception:  # noqa: BLE001, S110 - libyaml decides, and words the error
            pass
        else:
            if body is None:
                return None, None
            lead = _LEADING.match(text)
            return text.count("\n", 0, lead.end() if lead else 0), body
    node, body = compose(chunk, duplicates)
    return (None, None) if node is None else (node.start_mark.line, body)
