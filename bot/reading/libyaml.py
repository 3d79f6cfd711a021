"""libyaml (PyYAML's C loader) behind our own guards: the reference reading of a document.

It gives the reference values and the error messages with lines. The guards word their own
errors whatever the library's limits are: an alias bomb, nesting deeper than `MAX_NESTING`, and
duplicate keys (an error, as kubectl makes them).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the one loader choice: C when built with it

_BOOLS = yaml.constructor.SafeConstructor.bool_values
_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))


class _Builder:
    """Python values from a composed node graph: what SafeConstructor does, several times faster.

    Shared (aliased) nodes are built once and shared, so alias bombs cost no more than their text.
    Duplicate keys are an error, as kubectl makes them. Rare shapes (merge keys, unusual scalars)
    go to PyYAML's SafeConstructor.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.memo: dict[int, Any] = {}

    def build(self, node: Any) -> Any:
        cls = type(node)
        if cls is yaml.ScalarNode:
            tag, value = node.tag, node.value
            if tag == _STR:
                return value
            if tag == _INT and value.isdigit():
                return int(value)
            if tag == _BOOL:
                return _BOOLS[value.lower()]
            if tag == _NULL:
                return None
            if tag in (_INT, _FLOAT):
                return self.loader.construct_object(node, deep=True)
            return value  # timestamps, binary and custom tags stay text, as Kubernetes reads them
        known = self.memo.get(id(node))
        if known is not None:
            return known
        if cls is yaml.MappingNode:
            out: dict[Any, Any] = {}
            self.memo[id(node)] = out
            for key_node, value_node in node.value:
                if type(key_node) is yaml.ScalarNode and key_node.tag == "tag:yaml.org,2002:merge":
                    return self.loader.construct_object(node, deep=True)
                key = self.build(key_node)
                if isinstance(key, (list, dict)):
                    raise yaml.constructor.ConstructorError(None, None, "a key that is a list or mapping",
                                                            key_node.start_mark)
                if key in out:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}",
                                                            key_node.start_mark)
                out[key] = self.build(value_node)
            return out
        items: list[Any] = []
        self.memo[id(node)] = items
        items.extend(self.build(child) for child in node.value)
        return items


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


def compose(chunk: str) -> tuple[Any, Any]:
    """(root node, value) of one document, or (None, None) when it holds none.

    Raises yaml.YAMLError (with a mark) for broken YAML, and TooDeep.
    """
    if _too_deep(chunk):  # our limit and our wording, whatever the YAML library's own limit says
        raise TooDeep
    loader = LOADER(chunk)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if "&" in chunk and _expanded(node, {}) > MAX_EXPANDED:  # aliases need an anchor (&name) first
            raise yaml.constructor.ConstructorError(
                None, None, f"aliases expand this document to more than {MAX_EXPANDED:,} values (an alias bomb?)",
                node.start_mark)
        return node, _Builder(loader).build(node)
    finally:
        loader.dispose()
