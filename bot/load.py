"""Bytes of manifest files -> Resources. Pure: no file system, no git.

Files in scope are read whole; the others through the text pre-filter (`bot.reading.split`), so
documents of other kinds are never parsed. A blob is parsed once however many revisions hold it,
and a large batch is parsed on two cores.
"""

from __future__ import annotations

import json
import marshal
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import yaml

from bot import speed
from bot.collect import Collector
from bot.config import Config
from bot.findings import DUPLICATE_KEY, OVER_LIMIT, ParseProblem, Skipped
from bot.reading import fast, split
from bot.reading.libyaml import MAX_NESTING, Duplicate, TooDeep
from bot.resource import Resource

TEMPLATE_SKIP = ("Helm/Go template: render it first (helm template) and compare the rendered trees with "
                 "--base-dir/--head-dir")


@dataclass(frozen=True)
class SourceFile:
    path: str
    data: bytes
    blob: str  # identity of the content (git blob id or a hash)
    target: str = ""  # the plain deploy target it is read in ("" when the repository is one plain tree)
    cluster: str = ""
    namespace: str = ""  # of resources without one ("" : config default-namespace), e.g. an Argo CD destination


@dataclass(frozen=True)
class RenderedDocument:
    """One document of helm or kustomize output, traced to the repository file (and line) it comes from."""

    text: str
    file: str
    line: int
    target: str
    cluster: str


@dataclass
class Loaded:
    resources: list[Resource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)  # what reading found in files in scope


@dataclass
class Parsed:
    """What one file holds: its resources, or why it holds none (`problem`), and what reading it
    found besides (`notes`: repeated keys)."""

    resources: list[Resource]
    skipped: list[Skipped]
    problem: ParseProblem | None
    notes: list[ParseProblem] = field(default_factory=list)


CacheKey = tuple[str, str, bool, str, str, str]  # (path, blob, read whole, target, cluster, namespace)
ParseCache = dict[CacheKey, Parsed]


def load(files: Iterable[SourceFile], config: Config, in_scope: set[str] | None = None,
         cache: ParseCache | None = None) -> Loaded:
    """Load every file. A file kubectl refuses is a problem in `in_scope` (None: all), elsewhere a skip;
    one beyond this review's limits is both (its resources are left out); repeated keys are noted in
    scope only.

    Files in `in_scope` are parsed whole when `in_scope` is given (a diff's touched files); other
    files go through the text pre-filter, so documents of other kinds are never parsed.
    """
    cache = {} if cache is None else cache
    files = list(files)
    todo = {}
    for f in files:
        key = (f.path, f.blob, in_scope is not None and f.path in in_scope, f.target, f.cluster, f.namespace)
        if key not in cache:
            todo[key] = f
    cache.update(_parse_many(list(todo.items()), config))
    out = Loaded()
    for f in files:
        parsed = cache[(f.path, f.blob, in_scope is not None and f.path in in_scope, f.target, f.cluster, f.namespace)]
        out.resources += parsed.resources
        out.skipped += parsed.skipped
        wanted = in_scope is None or f.path in in_scope
        if wanted:
            out.problems += parsed.notes
        problem = parsed.problem
        if problem is None:
            continue
        if problem.kind == OVER_LIMIT:
            out.skipped.append(Skipped(f.path, f"{problem.reason} (line {problem.line})"))
            if wanted:
                out.problems.append(problem)  # left out on both sides, like a refused file
        elif wanted:
            out.problems.append(problem)
        else:
            out.skipped.append(Skipped(f.path, f"not valid YAML: {problem.reason} (line {problem.line})"))
    return out


PARALLEL_BYTES = 4 * 1024 * 1024  # below this, a second process costs more than it saves

Todo = list[tuple[CacheKey, SourceFile]]


def _parse_many(todo: Todo, config: Config) -> list[tuple[CacheKey, Parsed]]:
    """Parse files, on two cores when there is enough to parse: the child takes the first half of
    the bytes and answers with `marshal`, several times cheaper than pickling Resources."""
    size = sum(len(f.data) for _, f in todo)
    if size < PARALLEL_BYTES:
        return _parse_chunk(todo, config)
    cut, acc = len(todo), 0
    for i, (_, f) in enumerate(todo):  # split by bytes, not by count
        acc += len(f.data)
        if acc >= size // 2:
            cut = i + 1
            break
    theirs, mine = todo[:cut], todo[cut:]

    def decode(data: bytes) -> list[tuple[CacheKey, Parsed]]:
        answer = marshal.loads(data)  # noqa: S302 - the answer of our own child process
        return [(key, _unflat(flat)) for (key, _), flat in zip(theirs, answer, strict=True)]

    first, second = speed.both(lambda: _parse_chunk(theirs, config), lambda: _parse_chunk(mine, config),
                               lambda parsed: marshal.dumps([_flat(p) for _, p in parsed]), decode)
    return first + second


_RESOURCE_ARGS = tuple(f.name for f in fields(Resource) if f.init)  # what Resource(*values) takes back


def _flat(parsed: Parsed) -> tuple[Any, ...]:
    resources = [tuple(getattr(r, name) for name in _RESOURCE_ARGS) for r in parsed.resources]
    skipped = [(s.file, s.reason) for s in parsed.skipped]
    problem = parsed.problem and _flat_problem(parsed.problem)
    return resources, skipped, problem, [_flat_problem(n) for n in parsed.notes]


def _flat_problem(p: ParseProblem) -> tuple[str, int, str, str]:
    return (p.file, p.line, p.reason, p.kind)


def _unflat(flat: tuple[Any, ...]) -> Parsed:
    resources, skipped, problem, notes = flat
    return Parsed([Resource(*r) for r in resources], [Skipped(*s) for s in skipped],
                  ParseProblem(*problem) if problem else None, [ParseProblem(*n) for n in notes])


def _parse_chunk(todo: Todo, config: Config) -> list[tuple[CacheKey, Parsed]]:
    return [(key, parse_file(f.path, f.data, config, key[2], f.target, f.cluster, f.namespace)) for key, f in todo]


def parse_file(path: str, data: bytes, config: Config, full: bool = True, target: str = "",
               cluster: str = "", namespace: str = "") -> Parsed:
    """Parse one file as kubectl reads it. `full=False` lets the text pre-filter skip documents of other
    kinds."""
    if split.binary(data):
        return Parsed([], [Skipped(path, "binary file, not YAML")], None)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Parsed([], [], ParseProblem(path, line, f"not UTF-8 text (byte {exc.start}): kubectl reads UTF-8 only"))
    if not full and not split.RELEVANT.search(text):
        return Parsed([], [], None)  # nothing of our kinds in the whole file
    if split.TEMPLATE.search(text):
        return Parsed([], [Skipped(path, TEMPLATE_SKIP)], None)
    collector = Collector(path, namespace or config.default_namespace, target, cluster)
    notes: list[ParseProblem] = []
    try:
        text, offset = _json_stream(path, text, collector, notes)
        _yaml_documents(path, text, offset, full, collector, notes)
    except split.Refused as exc:
        return Parsed([], [], ParseProblem(path, exc.line, exc.reason))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = getattr(exc, "first_line", 1) + (mark.line if mark else 0)
        reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
        return Parsed([], [], ParseProblem(path, line, reason))
    except (RecursionError, TooDeep) as exc:
        line = getattr(exc, "first_line", 1)
        return Parsed([], [], ParseProblem(path, line, f"nesting too deep (over {MAX_NESTING} levels): this "
                                           "review's limit, so the file is not reviewed (kubectl reads deeper)",
                                           OVER_LIMIT))
    return Parsed(collector.resources, collector.skipped, None, notes)


_DOCUMENT_END = re.compile(r"^\.\.\.[ \t]*(?:#.*)?$", re.M)
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.M)


def _yaml_documents(path: str, text: str, offset: int, full: bool, collector: Collector,
                    notes: list[ParseProblem]) -> None:
    """Each YAML document of `text` (which starts at line `offset` + 1 of the file) into `collector`.
    Errors carry `first_line`, the line their document starts at."""
    documents = [(chunk, line + offset) for chunk, line in split.documents(text, None if full else split.RELEVANT)]
    # When every document is read, one look at the whole file answers for all of them (the
    # patterns never match across a `---` line, so the file is risky if any document is).
    whole = sum(len(chunk) for chunk, _ in documents) == len(text)
    safe = whole and fast.usable() and not fast.risky(text.replace("\r\n", "\n") if "\r" in text else text)
    for chunk, start_line in documents:
        if "\ufeff" in chunk:
            chunk = _without_bom(chunk)
        duplicates: list[Duplicate] = []
        try:
            root_line, body = fast.read(chunk, safe, duplicates)
        except (yaml.YAMLError, RecursionError, TooDeep) as exc:
            exc.first_line = start_line  # type: ignore[union-attr]
            raise
        for d in duplicates:
            notes.append(ParseProblem(path, start_line + d.line, f"repeats key {d.key!r} (first at line "
                                      f"{start_line + d.first})", DUPLICATE_KEY))
        if "..." in chunk:
            ended = _DOCUMENT_END.search(chunk)
            if ended is not None and _CONTENT.search(chunk, ended.end()):
                end = start_line + chunk.count("\n", 0, ended.start())
                collector.skipped.append(Skipped(path, f"line {end}: the text after '...' is ignored by kubectl (a "
                                                 "document ends there); start another document with ---"))
        if root_line is not None:
            collector.add(body, start_line + root_line, chunk, start_line)


def load_rendered(documents: Iterable[RenderedDocument], config: Config) -> Loaded:
    """Resources of rendered output. Each document is read on its own (templates are already
    expanded, so `{{` is text), documents that cannot hold our kinds are not parsed, and every
    resource is placed at its document's line in the file it comes from."""
    out = Loaded()
    for doc in documents:
        if not split.RELEVANT.search(doc.text):
            continue
        collector = Collector(doc.file, config.default_namespace, doc.target, doc.cluster, rendered=True)
        try:
            _, body = fast.read(doc.text)
        except yaml.YAMLError as exc:
            reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
            out.problems.append(ParseProblem(doc.file, doc.line, f"rendered output is not valid YAML: {reason}"))
            continue
        except (RecursionError, TooDeep):
            out.problems.append(ParseProblem(doc.file, doc.line, f"rendered output nests too deep (over {MAX_NESTING} "
                                             "levels): this review's limit, so the document is not reviewed",
                                             OVER_LIMIT))
            continue
        collector.add(body, doc.line, doc.text, doc.line)
        out.resources += collector.resources
        out.skipped += collector.skipped
    return out


def _without_bom(chunk: str) -> str:
    """A byte order mark opening the document is dropped: each document is a stream of its own for
    kubectl's YAML library."""
    if chunk.startswith("\ufeff"):
        return chunk[1:]
    newline = chunk.find("\n")
    if chunk.startswith("---") and chunk.startswith("\ufeff", newline + 1):
        return chunk[:newline + 1] + chunk[newline + 2:]
    return chunk


_JSON_START = re.compile(r"\s*\{")
_WHITE = re.compile(r"\s*")


def _json_stream(path: str, text: str, collector: Collector, notes: list[ParseProblem]) -> tuple[str, int]:
    """A file whose first character (after white space) is `{` is read as a stream of JSON values first
    (`k8s.io/apimachinery/pkg/util/yaml/decoder.go` YAMLOrJSONDecoder). Returns the text left for the YAML
    reader and its line offset: all of it when the first value is not JSON, the rest after one value
    when the second is not; after two or more values, the rest must be JSON too."""
    if not _JSON_START.match(text):
        return text, 0
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                repeated.append(key)
                del out[key]
            out[key] = value  # the last one wins, as in Go's encoding/json
        return out

    decoder = json.JSONDecoder(object_pairs_hook=pairs)
    pos, count = 0, 0
    while True:
        pos = _WHITE.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string too
        if pos >= len(text):
            return "", 0
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if count <= 1:
                line = text.count("\n", 0, pos)
                return ("\n" * line + text[pos:]) if count else text, 0
            raise split.Refused(exc.lineno, f"not JSON after {count} JSON documents: {exc.msg}") from None
        line = text.count("\n", 0, pos) + 1
        notes += [ParseProblem(path, line, f"repeats key {key!r} (in the JSON document at line {line})", DUPLICATE_KEY)
                  for key in repeated]
        repeated.clear()
        collector.add(value, line, text[pos:end], line)
        pos, count = end, count + 1
