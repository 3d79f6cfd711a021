"""libyaml (PyYAML's C loader) behind our own guards: the reference reading of a document, as kubectl
reads it.

kubectl converts each document to JSON with sigs.k8s.io/yaml over go-yaml v2
(`k8s.io/apimachinery/pkg/util/yaml/decoder.go`; tests/kubectl-yaml holds the shapes and what kubectl
makes of them). So plain scalars resolve as go-yaml v2's `resolve.go` does (`y`/`n`/`on` are booleans,
`0777` is octal, `1e3` a number, `1:20` text, timestamps stay text), only the first document of a piece
is read (kubectl never looks past `...`), a repeated key keeps its last value (and is recorded), and
what JSON cannot hold is refused: a null or collection key, `.inf` and `.nan`, the escape `\\/`.

The guards word their own errors whatever the library's limits are: an alias bomb, and nesting deeper
than `MAX_NESTING` (`TooDeep`, this review's limit: kubectl reads deeper).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

import yaml

_C_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C when PyYAML is built with it

_STR, _INT, _FLOAT, _BOOL, _NULL, _BINARY, _MERGE = (
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "binary", "merge"))
_NUMBER = "tag:istio-pr-bot,2026:number"  # a plain scalar go-yaml may read as a number (or a timestamp)

# go-yaml v2 resolve.go: resolveMap and resolveTable
_GO_BOOLS = {**dict.fromkeys("y Y yes Yes YES on On ON true True TRUE".split(), True),
             **dict.fromkeys("n N no No NO off Off OFF false False FALSE".split(), False)}
_NOT_JSON = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"}
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")
_BASES = {"0x": 16, "0o": 8, "0b": 2}
_DIGITS = "0123456789abcdef"
_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
for _first in "yYnNtTfFoO":
    _RESOLVERS.setdefault(_first, []).append((_BOOL, re.compile(rf"(?:{'|'.join(_GO_BOOLS)})\Z")))
for _first in ["", "~", "n", "N"]:
    _RESOLVERS.setdefault(_first, []).append((_NULL, re.compile(r"(?:~|null|Null|NULL|)\Z")))
for _first in "+-.0123456789":
    _RESOLVERS.setdefault(_first, []).append((_NUMBER, re.compile(r"")))
_RESOLVERS["<"] = [(_MERGE, re.compile(r"<<\Z"))]


class GoLoader(_C_LOADER):  # type: ignore[misc]
    """libyaml with go-yaml v2's implicit types for plain scalars (numbers are decided by `_Builder`)."""

    yaml_implicit_resolvers = _RESOLVERS


class _FlowColonScanner(yaml.SafeLoader):
    """PyYAML's pure-Python loader, scanning plain scalars as go-yaml v2 does: `:` ends one only before
    white space, in flow collections too (`scannerc.go` yaml_parser_scan_plain_scalar), so
    `[1.2.3.4, 001:db8::]` holds two addresses. Used only where libyaml stops on such a colon."""

    yaml_implicit_resolvers = _RESOLVERS

    def scan_plain(self) -> Any:
        chunks: list[str] = []
        start_mark = self.get_mark()
        end_mark = start_mark
        indent = self.indent + 1
        spaces: Any = []
        blank = "\0 \t\r\n\x85\u2028\u2029"
        while True:
            length = 0
            if self.peek() == "#":
                break
            while True:
                ch = self.peek(length)
                if ch in blank or (ch == ":" and self.peek(length + 1) in blank) \
                        or (self.flow_level and ch in ",?[]{}"):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.extend(spaces)
            chunks.append(self.prefix(length))
            self.forward(length)
            end_mark = self.get_mark()
            spaces = self.scan_plain_spaces(indent, start_mark)
            if not spaces or self.peek() == "#" or (not self.flow_level and self.column < indent):
                break
        return yaml.tokens.ScalarToken("".join(chunks), True, start_mark, end_mark)


LOADER: Any = GoLoader  # the one loader choice (also used to find a field's line)


@dataclass(frozen=True)
class Duplicate:
    """A key a mapping repeats: kubectl keeps the last value. Lines are 0-based in the document's text."""

    key: str
    line: int
    first: int


def _refuse(message: str, mark: Any) -> yaml.YAMLError:
    return yaml.constructor.ConstructorError(None, None, message, mark)


def go_int(text: str) -> int | None:
    """`strconv.ParseInt(text, 0, 64)`, else ParseUint: a sign, a base prefix (`0x`, `0o`, `0b`, or a
    leading `0` for octal) and digits. None when it is not an integer of 64 bits."""
    sign = text[:1]
    body = text[1:] if sign in ("+", "-") else text
    if not body:
        return None
    prefix = body[:2].lower()
    if prefix in _BASES:
        base, digits = _BASES[prefix], body[2:]
    elif body[0] == "0" and len(body) > 1:
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    allowed = _DIGITS[:base]
    if not digits or any(c not in allowed for c in digits.lower()):
        return None
    value = int(digits, base)
    value = -value if sign == "-" else value
    if -(2**63) <= value < 2**63 or (sign == "" and value < 2**64):
        return value
    return None


def go_number(text: str, implicit: bool) -> Any:
    """A plain scalar that starts like a number, as go-yaml v2 resolves it and JSON then holds it:
    an integer, a float, or the text itself (timestamps, versions, addresses)."""
    if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1) and len(text) < 19:
        return int(text)  # the common case
    if text[0] == ".":
        return float(text) if _DOT_FLOAT.match(text) else text
    if implicit and len(text) > 4 and text[4] == "-" and text[:4].isdigit():
        return text  # a timestamp (or not a number at all): kubectl keeps the text
    plain = text.replace("_", "")
    value = go_int(plain)
    if value is not None:
        return float(value) if value >= 2**63 else value  # beyond int64, JSON decoding makes it a float
    if _GO_FLOAT.match(plain):
        number = float(plain)
        return number if number not in (float("inf"), float("-inf")) else text
    return text


def json_key(key: Any) -> str:
    """A key as JSON spells it (sigs.k8s.io/yaml): booleans `true`/`false`, numbers in decimal."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return format(key, "g")
    return str(key)


_ESCAPED_SLASH = re.compile(r"(?<!\\)(?:\\\\)*\\/")


class _Builder:
    """Python values from a composed node graph: what SafeConstructor does, several times faster.

    Shared (aliased) nodes are built once and shared, so alias bombs cost no more than their text.
    Integer keys stay integers (as the fast reader has them); other scalar keys take their JSON
    spelling, and keys that JSON spells alike are one key, the last value kept.
    """

    def __init__(self, text: str, duplicates: list[Duplicate] | None) -> None:
        self.text = text
        self.slashes = "\\/" in text
        self.duplicates = duplicates
        self.memo: dict[int, Any] = {}

    def scalar(self, node: Any) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            if self.slashes and node.style == '"' and _ESCAPED_SLASH.search(
                    self.text, node.start_mark.index, node.end_mark.index):
                raise _refuse("found unknown escape character '/' (kubectl does not read \\/)", node.start_mark)
            return value
        if tag == _NUMBER or tag in (_INT, _FLOAT):
            if value in _NOT_JSON:
                raise _refuse(f"{value} cannot be converted to JSON (kubectl refuses infinity and NaN)",
                              node.start_mark)
            return go_number(value, tag == _NUMBER)
        if tag == _BOOL:
            return _GO_BOOLS.get(value, value)
        if tag == _NULL:
            return None
        if tag == _BINARY:
            try:
                return base64.b64decode("".join(value.split())).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                raise _refuse("a !!binary value that is not base64", node.start_mark) from None
        return value  # custom tags stay text, as Kubernetes reads them

    def build(self, node: Any) -> Any:
        cls = type(node)
        if cls is yaml.ScalarNode:
            return self.scalar(node)
        known = self.memo.get(id(node))
        if known is not None:
            return known
        if node.flow_style:
            self.flow_items(node)
        if cls is yaml.MappingNode:
            out: dict[Any, Any] = {}
            self.memo[id(node)] = out
            seen: dict[str, tuple[Any, int]] = {}
            merges: list[Any] = []
            for key_node, value_node in node.value:
                if type(key_node) is yaml.ScalarNode and key_node.tag == _MERGE:
                    merges.append(value_node)
                    continue
                key = self.key(key_node)
                name = json_key(key)
                if name in seen:
                    first_key, first_line = seen[name]
                    if self.duplicates is not None:
                        self.duplicates.append(Duplicate(name, key_node.start_mark.line, first_line))
                    del out[first_key]
                seen[name] = (key, key_node.start_mark.line)
                out[key] = self.build(value_node)
            if merges:
                self.merge(out, merges, node)
            return out
        items: list[Any] = []
        self.memo[id(node)] = items
        for child in node.value:  # a loop, not a generator: one stack frame per level
            items.append(self.build(child))
        return items

    def flow_items(self, node: Any) -> None:
        """In a flow collection go-yaml v2 ends a plain scalar at `?` and reads a key indicator there
        (`scannerc.go`), so `[a?b]` is refused where libyaml reads one scalar."""
        children = [c for pair in node.value for c in pair] if type(node) is yaml.MappingNode else node.value
        for child in children:
            if type(child) is yaml.ScalarNode and not child.style and "?" in child.value[1:]:
                raise _refuse("a '?' inside a plain scalar in a flow collection (kubectl reads a key indicator "
                              "there)", child.start_mark)

    def key(self, node: Any) -> Any:
        if type(node) is not yaml.ScalarNode:
            raise _refuse("a key that is a list or mapping (kubectl cannot convert it to JSON)", node.start_mark)
        key = self.scalar(node)
        if key is None:
            raise _refuse("a null key (kubectl cannot convert it to JSON)", node.start_mark)
        return key if isinstance(key, (str, int)) and not isinstance(key, bool) else json_key(key)

    def merge(self, out: dict[Any, Any], merges: list[Any], node: Any) -> None:
        """`<<`: keys of the merged mappings that the mapping does not set itself; of several merged
        mappings, the earlier wins (go-yaml v2 decode.go merge)."""
        inherited: dict[Any, Any] = {}
        for value_node in merges:
            sources = value_node.value if type(value_node) is yaml.SequenceNode else [value_node]
            for source in reversed(sources):
                value = self.build(source)
                if not isinstance(value, dict):
                    raise _refuse("map merge requires map or sequence of maps as the value", node.start_mark)
                inherited.update(value)
        names = {json_key(k) for k in out}
        for key, value in inherited.items():
            if json_key(key) not in names:
                out[key] = value


MAX_EXPANDED = 100_000  # nodes a document may stand for once its aliases are expanded


def _expanded(node: Any, memo: dict[int, int]) -> int:
    """How many nodes the document stands for with every alias expanded (an alias bomb is huge)."""
    known = memo.get(id(node))
    if known == -1:
        raise yaml.constructor.ConstructorError(None, None, "an alias refers to a value that contains it",
                                                node.start_mark)
    if known is not None:
        return known
    memo[id(node)] = -1  # being counted: meeting it again means a cycle
    total = 1
    if type(node) is yaml.MappingNode:
        total += sum(_expanded(k, memo) + _expanded(v, memo) for k, v in node.value)
    elif type(node) is yaml.SequenceNode:
        total += sum(_expanded(child, memo) for child in node.value)
    memo[id(node)] = total
    return total


class TooDeep(Exception):
    """A document nests deeper than MAX_NESTING."""


MAX_NESTING = 500  # levels of nesting a document may have; real manifests have fewer than 30
_BRACKETS = re.compile(r"[][{}]")


def _flow_depth(text: str) -> int:
    """Deepest `[`/`{` nesting in the text (brackets inside quotes counted too: an upper bound)."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


_DEEP_PREFIX = re.compile(rf"^[ \t-]{{{MAX_NESTING},}}", re.M)
_PREFIX = re.compile(r"[ \t]*(?:-[ \t]+)*")


def _block_depth(text: str) -> int:
    """Deepest block nesting: a stack of indentation columns, where `- ` opens a level too."""
    stack: list[int] = []
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while stack and stack[-1] >= indent:
            stack.pop()
        stack.append(indent)
        prefix = _PREFIX.match(line)
        stack.extend(range(indent + 1, indent + 1 + (prefix.group().count("-") if prefix else 0)))
    return len(stack)


def _too_deep(chunk: str) -> bool:
    """Whether a document nests deeper than MAX_NESTING (checked only where it could)."""
    if chunk.count("[") + chunk.count("{") > MAX_NESTING and _flow_depth(chunk) > MAX_NESTING:
        return True
    return _DEEP_PREFIX.search(chunk) is not None and _block_depth(chunk) > MAX_NESTING


def _first_node(loader: Any) -> Any:
    """The first document's node (kubectl reads no further), or None."""
    return loader.get_node() if loader.check_node() else None


def compose(chunk: str, duplicates: list[Duplicate] | None = None) -> tuple[Any, Any]:
    """(root node, value) of the first document in `chunk`, or (None, None) when it holds none.
    Repeated keys are appended to `duplicates` when given.

    Raises yaml.YAMLError (with a mark) for YAML that kubectl refuses, and TooDeep.
    """
    if _too_deep(chunk):  # our limit and our wording, whatever the YAML library's own limit says
        raise TooDeep
    loader = LOADER(chunk)
    try:
        try:
            node = _first_node(loader)
        except yaml.YAMLError as exc:
            if "found unexpected ':'" not in str(exc):
                raise
            loader.dispose()
            loader = _FlowColonScanner(chunk)  # go-yaml reads `a:b` in a flow collection as one scalar
            node = _first_node(loader)
        if node is None:
            return None, None
        if "&" in chunk and _expanded(node, {}) > MAX_EXPANDED:  # aliases need an anchor (&name) first
            raise yaml.constructor.ConstructorError(
                None, None, f"aliases expand this document to more than {MAX_EXPANDED:,} values (an alias bomb?)",
                node.start_mark)
        return node, _Builder(chunk, duplicates).build(node)
    finally:
        loader.dispose()
