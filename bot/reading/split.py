"""A file's text -> its documents, and the text tests that decide what is worth parsing.

Documents are split as kubectl splits them (`k8s.io/apimachinery/pkg/util/yaml/decoder.go`
YAMLReader.Read): every line that starts with `---` ends a document, and anything but white space or
a comment after it makes kubectl refuse the file; a `%YAML` or `%TAG` directive ends up cut off its
document, which kubectl refuses too (`Refused`). A cheap text test (`RELEVANT`) drops files and
documents that cannot hold one of our kinds (most of a GitOps repository) before any YAML parsing.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from bot.kinds import MANIFEST_KINDS

SEPARATOR = re.compile(r"---(?<![^\n]---)", re.M)  # at a line start; literal first: fast
_SEPARATOR_REST = re.compile(r"[ \t\r]*(?:#[^\n]*)?(?:\n|\Z)")  # what may follow `---` on its line
_DIRECTIVE = re.compile(r"%(?<![^\n]%)", re.M)  # `%YAML`, `%TAG` at a line start
# `kind: <one of ours>` as a YAML key (after white space or `- `) or a JSON one ("kind": "...").
# It starts with the literal `kind`, which `re` finds fast; the context is checked behind it.
RELEVANT = re.compile(
    r"""kind(?:(?<![^\n \t-]kind)[ \t]*:[ \t]*["']?|(?<=["']kind)["'][ \t]*:[ \t]*["'])"""
    rf"""(?:{"|".join(MANIFEST_KINDS)}|List)\b""")
RELEVANT_BYTES = re.compile(RELEVANT.pattern.encode())
TEMPLATE = re.compile(r"\{\{-?\s*(?:\.|\$|include\b|if\b|range\b|end\b|template\b|with\b|define\b|toYaml\b|tpl\b)")
_PREAMBLE = re.compile(r"(?:[ \t]*(?:#.*)?\r?\n)*\Z")


class Refused(Exception):
    """kubectl refuses the file: `line` (1-based) and the reason."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def may_matter(data: bytes) -> bool:
    """False when a file read through the pre-filter surely yields nothing and says nothing."""
    if binary(data):
        return True  # a skip note
    if RELEVANT_BYTES.search(data[3:] if data.startswith(b"\xef\xbb\xbf") else data):
        return True
    if data.isascii():
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return True  # a skip note
    return False


def documents(text: str, wanted: re.Pattern[str] | None = None) -> list[tuple[str, int]]:
    """(text, 1-based first line) of each document; a leading preamble joins the next.

    With `wanted`, only the documents in which it matches: the others are never cut out of the text.
    Raises Refused for separators and directives kubectl refuses.
    """
    starts = []
    for m in SEPARATOR.finditer(text):
        if not _SEPARATOR_REST.match(text, m.end()):
            raise Refused(text.count("\n", 0, m.start()) + 1,
                          "text after --- on its line (kubectl splits documents at every line starting with "
                          "--- and refuses this one)")
        starts.append(m.start())
    directive = _DIRECTIVE.search(text)
    if directive is not None:
        raise Refused(text.count("\n", 0, directive.start()) + 1,
                      "a %YAML or %TAG directive (kubectl cuts it off its document and refuses it)")
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
        if len(starts) > 1 and _PREAMBLE.match(text, 0, starts[1]):
            del starts[1]  # only comments/directives before the first `---`: they belong to that document
    if wanted is None:
        picked: Iterable[int] = range(len(starts))
    else:
        picked = sorted({bisect.bisect_right(starts, m.start()) - 1 for m in wanted.finditer(text)})
    out = []
    line, prev = 1, 0
    for i in picked:
        start = starts[i]
        line += text.count("\n", prev, start)
        prev = start
        out.append((text[start:starts[i + 1] if i + 1 < len(starts) else len(text)], line))
    return out
