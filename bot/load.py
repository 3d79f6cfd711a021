"""Bytes of manifest files -> Resources. Pure: no file system, no git.

Reading path: documents are split on `---` lines, a cheap text test drops documents that cannot
be one of our kinds (most of a GitOps repo), and the rest is composed by libyaml (PyYAML's C
loader), several times faster than a pure-Python loader. Round-trip YAML (ruamel) is used only
where the bot writes YAML.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

from bot.config import Config
from bot.findings import Skipped
from bot.model import KINDS, Resource, as_dict, as_list, as_str

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEPARATOR = re.compile(r"^---(?=[ \t\r]|$)", re.M)
_RELEVANT = re.compile(
    r"""(?:^[ \t-]*kind[ \t]*:[ \t]*["']?|["']kind["'][ \t]*:[ \t]*["'])"""
    r"""(?:Gateway|VirtualService|DestinationRule|ServiceEntry|Sidecar|PeerAuthentication|Service|List)\b""",
    re.M,
)
_TEMPLATE = re.compile(r"\{\{-?\s*(?:\.|\$|include\b|if\b|range\b|end\b|template\b|with\b|define\b|toYaml\b|tpl\b)")
_PREAMBLE = re.compile(r"(?:[ \t]*(?:#.*|%.*)?\r?\n)*\Z")


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


def _parse_many(todo: list[tuple[tuple[str, str, bool], SourceFile]], config: Config) -> list[tuple[Any, _Parsed]]:
    """Parse files, on two cores when there is enough to parse (fork only; results come back pickled).

    Measured on the 10,000-service benchmark: audit 4.2 s in one process, 3.4 s with two.
    """
    size = sum(len(f.data) for _, f in todo)
    if size < PARALLEL_BYTES or (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _parse_chunk(todo, config)
    half, acc = 0, 0
    for half, (_, f) in enumerate(todo):  # split by bytes, not by count
        acc += len(f.data)
        if acc >= size // 2:
            break
    theirs, mine = todo[: half + 1], todo[half + 1:]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        pending = pool.apply_async(_parse_chunk, (theirs, config))
        result = _parse_chunk(mine, config)
        return pending.get() + result


def _parse_chunk(todo: list[tuple[tuple[str, str, bool], SourceFile]], config: Config) -> list[tuple[Any, _Parsed]]:
    return [(key, parse_file(f.path, f.data, config, key[2])) for key, f in todo]


def parse_file(path: str, data: bytes, config: Config, full: bool = True) -> _Parsed:
    """Parse one file. `full=False` lets the text pre-filter skip documents of other kinds."""
    if b"\0" in data[:8192]:
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
    for chunk, start_line in _documents(text):
        if not full and not _RELEVANT.search(chunk):
            continue
        try:
            node, body = _compose(chunk)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = start_line + (mark.line if mark else 0)
            reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
            return _Parsed([], [], ParseProblem(path, line, reason))
        except RecursionError:
            return _Parsed([], [], ParseProblem(path, start_line, "nesting too deep"))
        if node is None:
            continue
        line = start_line + node.start_mark.line
        _collect(resources, skipped, body, path, line, chunk, start_line, config, False)
    return _Parsed(resources, skipped, None)


def _documents(text: str) -> list[tuple[str, int]]:
    """(text, 1-based first line) of each document; a leading preamble joins the next."""
    cuts = [m.start() for m in _SEPARATOR.finditer(text)]
    starts = [0] + [c for c in cuts if c != 0]
    out = []
    line = 1
    prev = 0
    pending = None
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        line += text.count("\n", prev, start)
        prev = start
        chunk_start, chunk_line = (pending if pending else (start, line))
        chunk = text[chunk_start:end]
        if end < len(text) and _PREAMBLE.match(text, start, end) and not text.startswith("---", start):
            pending = (chunk_start, chunk_line)  # only comments/directives: keep with the next one
            continue
        pending = None
        out.append((chunk, chunk_line))
    return out


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


def _compose(chunk: str) -> tuple[Any, Any]:
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
    if group != KINDS[kind] or (kind == "Service" and api_version != "v1"):
        return
    metadata = as_dict(body.get("metadata"))
    name = as_str(metadata.get("name"))
    if not name:
        skipped.append(Skipped(path, f"line {line}: {kind} without metadata.name"))
        return
    namespace = as_str(metadata.get("namespace")) or config.default_namespace
    if from_list:
        source = yaml.safe_dump(body, sort_keys=False)
    out.append(Resource(kind, api_version, namespace, name, body, path, line, source, source_line, from_list))

