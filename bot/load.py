"""Bytes of manifest files -> Resources. Pure: no file system, no git.

Reading path: documents are split on `---` lines, and a cheap text test drops documents that cannot
be one of our kinds (most of a GitOps repo) before any YAML parsing. A document is then read by
yaml-rs (a Rust loader, about 7x faster than libyaml composing and building the same values) when
its text has none of the constructs on which YAML 1.2 and PyYAML's YAML 1.1 disagree or that need
checks of our own (`_RISKS`: anchors, tags, merge keys, `yes`/`on`, octal-looking or exponent
numbers, tabs, complex keys, unusual characters). Everything else, and anything yaml-rs rejects, goes
through libyaml (PyYAML's C loader), which gives the reference values and the error messages with
lines. tests/test_fast_reading.py checks that both paths agree. Round-trip YAML (ruamel) is used only where
the bot writes YAML.
"""

from __future__ import annotations

import bisect
import gc
import marshal
import re
from dataclasses import dataclass, field, fields
from typing import Any, Iterable

import yaml

try:
    import yaml_rs as _fast
except ImportError:  # a platform without a wheel: libyaml alone, slower but the same results
    _fast = None  # type: ignore[assignment]

from bot import forked
from bot.config import Config
from bot.findings import Skipped
from bot.model import KINDS, Resource, as_dict, as_list, as_str

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEPARATOR = re.compile(r"---(?<![^\n]---)(?=[ \t\r]|$)", re.M)  # at a line start; literal first: fast
# `kind: <one of ours>` as a YAML key (after white space or `- `) or a JSON one ("kind": "...").
# It starts with the literal `kind`, which `re` finds fast; the context is checked behind it.
_RELEVANT = re.compile(
    r"""kind(?:(?<![^\n \t-]kind)[ \t]*:[ \t]*["']?|(?<=["']kind)["'][ \t]*:[ \t]*["'])"""
    r"""(?:Gateway|VirtualService|DestinationRule|ServiceEntry|Sidecar|PeerAuthentication|Service|List"""
    r"""|HTTPRoute|GRPCRoute|TLSRoute|TCPRoute|ReferenceGrant|ListenerSet|GatewayClass|Namespace)\b""")
_RELEVANT_BYTES = re.compile(_RELEVANT.pattern.encode())
_TEMPLATE = re.compile(r"\{\{-?\s*(?:\.|\$|include\b|if\b|range\b|end\b|template\b|with\b|define\b|toYaml\b|tpl\b)")
_PREAMBLE = re.compile(r"(?:[ \t]*(?:#.*|%.*)?\r?\n)*\Z")

# Text on which yaml-rs could disagree with PyYAML, or that needs checks of our own: anchors and
# aliases (alias bombs), tags, merge keys, `...`, complex keys, tabs, deep indentation (the Rust
# parser recurses), characters libyaml rejects or reads as line breaks, block scalars (yaml-rs reads an
# empty one as a newline), and plain scalars where YAML 1.1 and 1.2 differ: yes/no/on/off are
# booleans, `0777` octal, `1:20` base 60, `1e3` text in 1.1 only; yaml-rs also reads `_1` as 1. Simple integers and decimals
# (`9080`, `-1`, `0.5`), durations (`30s`) and addresses (`10.0.0.1`) read the same in both.
# A scalar starts after white space, `[`, `{` or `,`. Each pattern starts with a literal or a character
# class, so `re` scans for it quickly; one pattern with alternatives measured slower than these.
_ENDS = r"(?=[ \t]*(?:$|[,\]}#]|:(?:[ \t]|$)))"  # where a plain scalar ends
_NOT_AT_START = r"[^\s\[{,]"  # in a negative lookbehind: the scalar starts here
_NUMERIC = "[0-9a-fA-FxXoO_:+.-]"
_FLOW_ITEM = r'"[^"\\\n]*"|\'[^\'\n]*\'|[A-Za-z0-9*][A-Za-z0-9._/*-]*'
_RISKS = tuple(re.compile(p, re.M) for p in (
    r"[^\n\x20\x22-\x25\x27-\x3b\x3d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
    r"\U00010000-\U0010ffff]",  # & ! < tab, lone CR, NEL, BOM, line separators, control characters
    r"\n(?:\.\.\.|[ -]{200}|[ \t-]*[:?](?:[ \t]|$))",  # `...`, 200 columns deep, empty or explicit keys
    r"[\]}\[{,](?:(?<=[\]}])[ \t]*:(?:[ \t]|$)|(?<=[\[{,])[ \t]*\?)",  # a flow collection as a key; `?` in flow
    # a flow collection other than `{}` or a one-line list of names, numbers and quoted strings: in
    # flow context YAML 1.1 takes `?` and `:` as indicators where 1.2 reads them as text
    rf"[\[{{](?<!{_NOT_AT_START}.)(?!(?<=\{{)[ \t]*\}}|(?<=\[)(?:[ \t]*(?:{_FLOW_ITEM})[ \t]*(?:,(?=[ \t]*[^\s\]])|(?=[ \t]*\])))*[ \t]*\])",
    rf"(?:no|No|NO|on|On|ON)(?<!{_NOT_AT_START}..){_ENDS}",
    rf"(?:yes|Yes|YES|off|Off|OFF)(?<!{_NOT_AT_START}...){_ENDS}",
    r"[|>](?<![^\s\[{,:-].)[-+0-9]*[ \t]*(?:#.*)?$",  # a block scalar
    rf"[-+._0-9](?<!{_NOT_AT_START}.)"  # a number-like scalar that is not a simple integer or decimal
    rf"(?!(?<=-)-*{_ENDS})(?!(?<=-)(?:0|[1-9][0-9]*)(?:\.[0-9]+)?{_ENDS})"
    rf"(?!(?<=[1-9])[0-9]*(?:\.[0-9]+)?{_ENDS})(?!(?<=0)(?:\.[0-9]+)?{_ENDS})"
    rf"(?![0-9a-fA-FxXoO_:+-]*\.[0-9a-fA-FxXoO_:+-]*\.){_NUMERIC}*{_ENDS}",
))
_FIRST_LINE_RISK = re.compile(r"(?:\.\.\.|[ -]{200}|[ \t-]*[:?](?:[ \t]|$))", re.M)


def _risky(text: str) -> bool:
    """Whether `text` (a document, CRLF read as LF) must be read by libyaml."""
    return _FIRST_LINE_RISK.match(text) is not None or any(rx.search(text) for rx in _RISKS)


_LEADING = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\r?\n|%[^\n]*\n|---[ \t]*(?:#[^\n]*)?\r?\n)*")


@dataclass(frozen=True)
class SourceFile:
    path: str
    data: bytes
    blob: str  # identity of the content (git blob id or a hash)


@dataclass(frozen=True)
class ParseProblem:
    file: str
    line: int
    reason: str


@dataclass
class Loaded:
    resources: list[Resource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)  # broken YAML in files in scope


@dataclass
class _Parsed:
    resources: list[Resource]
    skipped: list[Skipped]
    problem: ParseProblem | None


ParseCache = dict[tuple[str, str, bool], _Parsed]


def load(files: Iterable[SourceFile], config: Config, in_scope: set[str] | None = None,
         cache: ParseCache | None = None) -> Loaded:
    """Load every file. Broken YAML in a file in `in_scope` (None: all) is a problem, elsewhere a skip.

    Files in `in_scope` are parsed whole when `in_scope` is given (a diff's touched files); other
    files go through the text pre-filter, so documents of other kinds are never parsed.
    """
    cache = {} if cache is None else cache
    files = list(files)
    paused = gc.isenabled()
    gc.disable()  # millions of short-lived containers: the cyclic collector would rescan them over and over
    try:
        return _load(files, config, in_scope, cache)
    finally:
        if paused:
            gc.enable()


def _load(files: list[SourceFile], config: Config, in_scope: set[str] | None, cache: ParseCache) -> Loaded:
    todo = {}
    for f in files:
        full = in_scope is not None and f.path in in_scope
        if (f.path, f.blob, full) not in cache:
            todo[(f.path, f.blob, full)] = f
    cache.update(_parse_many(list(todo.items()), config))
    out = Loaded()
    for f in files:
        full = in_scope is not None and f.path in in_scope
        parsed = cache[(f.path, f.blob, full)]
        out.resources += parsed.resources
        out.skipped += parsed.skipped
        if parsed.problem:
            if in_scope is None or f.path in in_scope:
                out.problems.append(parsed.problem)
            else:
                out.skipped.append(Skipped(f.path, f"not valid YAML: {parsed.problem.reason} (line {parsed.problem.line})"))
    return out


PARALLEL_BYTES = 4 * 1024 * 1024  # below this, a second process costs more than it saves

Todo = list[tuple[tuple[str, str, bool], SourceFile]]


def _parse_many(todo: Todo, config: Config) -> list[tuple[Any, _Parsed]]:
    """Parse files, on two cores when there is enough to parse.

    The child sends plain values back with `marshal`: several times cheaper than pickling Resources.
    """
    size = sum(len(f.data) for _, f in todo)
    if size < PARALLEL_BYTES:
        return _parse_chunk(todo, config)
    half, acc = 0, 0
    for half, (_, f) in enumerate(todo):  # split by bytes, not by count
        acc += len(f.data)
        if acc >= size // 2:
            break
    theirs, mine = todo[: half + 1], todo[half + 1:]

    def decode(data: bytes) -> list[tuple[Any, _Parsed]]:
        return [(key, _unflat(flat)) for (key, _), flat in zip(theirs, marshal.loads(data), strict=True)]

    first, second = forked.both(lambda: _parse_chunk(theirs, config), lambda: _parse_chunk(mine, config),
                                lambda parsed: marshal.dumps([_flat(p) for _, p in parsed]), decode)
    return first + second


_RESOURCE_ARGS = tuple(f.name for f in fields(Resource) if f.init)  # what Resource(*values) takes back


def _flat(parsed: _Parsed) -> tuple[Any, ...]:
    resources = [tuple(getattr(r, name) for name in _RESOURCE_ARGS) for r in parsed.resources]
    skipped = [(s.file, s.reason) for s in parsed.skipped]
    problem = parsed.problem and (parsed.problem.file, parsed.problem.line, parsed.problem.reason)
    return resources, skipped, problem


def _unflat(flat: tuple[Any, ...]) -> _Parsed:
    resources, skipped, problem = flat
    return _Parsed([Resource(*r) for r in resources], [Skipped(*s) for s in skipped],
                   ParseProblem(*problem) if problem else None)


def _parse_chunk(todo: Todo, config: Config) -> list[tuple[Any, _Parsed]]:
    return [(key, parse_file(f.path, f.data, config, key[2])) for key, f in todo]


def _binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def may_matter(data: bytes) -> bool:
    """False when `parse_file(..., full=False)` surely finds nothing and says nothing of this file."""
    if _binary(data):
        return True  # a skip note
    if _RELEVANT_BYTES.search(data[3:] if data.startswith(b"\xef\xbb\xbf") else data):
        return True
    if data.isascii():
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return True  # a skip note
    return False


def parse_file(path: str, data: bytes, config: Config, full: bool = True) -> _Parsed:
    """Parse one file. `full=False` lets the text pre-filter skip documents of other kinds."""
    if _binary(data):
        return _Parsed([], [Skipped(path, "binary file, not YAML")], None)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _Parsed([], [Skipped(path, f"not UTF-8 text (byte {exc.start})")], None)
    if not full and not _RELEVANT.search(text):
        return _Parsed([], [], None)  # nothing of our kinds in the whole file
    if _TEMPLATE.search(text):
        return _Parsed([], [Skipped(path, "Helm/Go template: render it first (helm template) and compare the rendered trees with --base-dir/--head-dir")], None)
    resources: list[Resource] = []
    skipped: list[Skipped] = []
    documents = _documents(text, None if full else _RELEVANT)
    # When every document is read, one look at the whole file answers for all of them (the
    # patterns never match across a `---` line, so the file is risky if any document is).
    whole = sum(len(chunk) for chunk, _ in documents) == len(text)
    safe = whole and _fast is not None and not _risky(text.replace("\r\n", "\n") if "\r" in text else text)
    for chunk, start_line in documents:
        try:
            root_line, body = _read(chunk, safe)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = start_line + (mark.line if mark else 0)
            reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
            return _Parsed([], [], ParseProblem(path, line, reason))
        except (RecursionError, _TooDeep):
            return _Parsed([], [], ParseProblem(path, start_line, f"nesting too deep (over {MAX_NESTING} levels)"))
        if root_line is not None:
            _collect(resources, skipped, body, path, start_line + root_line, chunk, start_line, config, False)
    return _Parsed(resources, skipped, None)


def _documents(text: str, wanted: re.Pattern[str] | None = None) -> list[tuple[str, int]]:
    """(text, 1-based first line) of each document; a leading preamble joins the next.

    With `wanted`, only the documents in which it matches: the others are never cut out of the text.
    """
    starts = [m.start() for m in _SEPARATOR.finditer(text)]
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


def _read(chunk: str, safe: bool = False) -> tuple[int | None, Any]:
    """(0-based line of the document's root in `chunk`, its value), or (None, None) for no document.

    `safe`: `_risky` is already known to be False for this text.
    """
    text = chunk.replace("\r\n", "\n") if "\r" in chunk else chunk  # YAML reads CRLF as LF
    if _fast is not None and (safe or not _risky(text)):
        try:
            body = _fast.loads(text, parse_datetime=False)
        except Exception:  # noqa: BLE001 - libyaml decides, and words the error
            pass
        else:
            if body is None:
                return None, None
            lead = _LEADING.match(text)
            return text.count("\n", 0, lead.end() if lead else 0), body
    node, body = _compose(chunk)
    return (None, None) if node is None else (node.start_mark.line, body)


_BOOLS = yaml.constructor.SafeConstructor.bool_values
_STR, _INT, _FLOAT, _BOOL, _NULL, _MAP, _SEQ = (
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq"))


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


class _TooDeep(Exception):
    """A document nests deeper than MAX_NESTING."""


MAX_NESTING = 500  # levels of flow nesting a document may have; real manifests have fewer than 30
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


_DEEP_PREFIX = re.compile(r"^[ \t-]{%d,}" % MAX_NESTING, re.M)
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


def _compose(chunk: str) -> tuple[Any, Any]:
    if _too_deep(chunk):  # our limit and our wording, whatever the YAML library's own limit says
        raise _TooDeep
    loader = _Loader(chunk)
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


def _collect(out: list[Resource], skipped: list[Skipped], body: Any, path: str, line: int, source: str,
             source_line: int, config: Config, from_list: bool) -> None:
    if not isinstance(body, dict):
        return
    kind = as_str(body.get("kind"))
    api_version = as_str(body.get("apiVersion")) or ""
    if kind == "List" and not from_list:
        for item in as_list(body.get("items")):
            _collect(out, skipped, item, path, line, source, source_line, config, True)
        return
    group = api_version.rpartition("/")[0]
    if kind == "Gateway" and group == "gateway.networking.k8s.io":
        kind = "KubernetesGateway"  # Gateway API: VirtualServices may bind to it by ns/name
    if kind not in KINDS:
        return
    if group != KINDS[kind] or (kind in ("Service", "Namespace") and api_version != "v1"):
        return
    metadata = as_dict(body.get("metadata"))
    name = as_str(metadata.get("name"))
    if not name:
        skipped.append(Skipped(path, f"line {line}: {kind} without metadata.name"))
        return
    # Cluster-scoped kinds stand in their own namespace, so (kind, name) stays their key.
    if kind in ("Namespace", "GatewayClass"):
        namespace = name
    else:
        namespace = as_str(metadata.get("namespace")) or config.default_namespace
    if from_list:
        source = yaml.safe_dump(body, sort_keys=False)
    out.append(Resource(kind, api_version, namespace, name, body, path, line, source, source_line, from_list))

