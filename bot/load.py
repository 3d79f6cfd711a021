"""Bytes of manifest files -> Resources. Pure: no file system, no git.

Files in scope are read whole; the others through the text pre-filter (`bot.reading.split`), so
documents of other kinds are never parsed. A blob is parsed once however many revisions hold it,
and a large batch is parsed on two cores.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import yaml

from bot import speed
from bot.collect import Collector
from bot.config import Config
from bot.findings import ParseProblem, Skipped
from bot.reading import fast, split
from bot.reading.libyaml import MAX_NESTING, TooDeep
from bot.resource import Resource

TEMPLATE_SKIP = ("Helm/Go template: render it first (helm template) and compare the rendered trees with "
                 "--base-dir/--head-dir")


@dataclass(frozen=True)
class SourceFile:
    path: str
    data: bytes
    blob: str  # identity of the content (git blob id or a hash)


@dataclass
class Loaded:
    resources: list[Resource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)  # broken YAML in files in scope


@dataclass
class Parsed:
    """What one file holds: its resources, or why it holds none."""

    resources: list[Resource]
    skipped: list[Skipped]
    problem: ParseProblem | None


CacheKey = tuple[str, str, bool]  # (path, blob, read whole)
ParseCache = dict[CacheKey, Parsed]


def load(files: Iterable[SourceFile], config: Config, in_scope: set[str] | None = None,
         cache: ParseCache | None = None) -> Loaded:
    """Load every file. Broken YAML in a file in `in_scope` (None: all) is a problem, elsewhere a skip.

    Files in `in_scope` are parsed whole when `in_scope` is given (a diff's touched files); other
    files go through the text pre-filter, so documents of other kinds are never parsed.
    """
    cache = {} if cache is None else cache
    files = list(files)
    todo = {}
    for f in files:
        key = (f.path, f.blob, in_scope is not None and f.path in in_scope)
        if key not in cache:
            todo[key] = f
    cache.update(_parse_many(list(todo.items()), config))
    out = Loaded()
    for f in files:
        parsed = cache[(f.path, f.blob, in_scope is not None and f.path in in_scope)]
        out.resources += parsed.resources
        out.skipped += parsed.skipped
        if parsed.problem:
            if in_scope is None or f.path in in_scope:
                out.problems.append(parsed.problem)
            else:
                problem = parsed.problem
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
    problem = parsed.problem and (parsed.problem.file, parsed.problem.line, parsed.problem.reason)
    return resources, skipped, problem


def _unflat(flat: tuple[Any, ...]) -> Parsed:
    resources, skipped, problem = flat
    return Parsed([Resource(*r) for r in resources], [Skipped(*s) for s in skipped],
                  ParseProblem(*problem) if problem else None)


def _parse_chunk(todo: Todo, config: Config) -> list[tuple[CacheKey, Parsed]]:
    return [(key, parse_file(f.path, f.data, config, key[2])) for key, f in todo]


def parse_file(path: str, data: bytes, config: Config, full: bool = True) -> Parsed:
    """Parse one file. `full=False` lets the text pre-filter skip documents of other kinds."""
    if split.binary(data):
        return Parsed([], [Skipped(path, "binary file, not YAML")], None)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Parsed([], [Skipped(path, f"not UTF-8 text (byte {exc.start})")], None)
    if not full and not split.RELEVANT.search(text):
        return Parsed([], [], None)  # nothing of our kinds in the whole file
    if split.TEMPLATE.search(text):
        return Parsed([], [Skipped(path, TEMPLATE_SKIP)], None)
    collector = Collector(path, config.default_namespace)
    documents = split.documents(text, None if full else split.RELEVANT)
    # When every document is read, one look at the whole file answers for all of them (the
    # patterns never match across a `---` line, so the file is risky if any document is).
    whole = sum(len(chunk) for chunk, _ in documents) == len(text)
    safe = whole and fast.usable() and not fast.risky(text.replace("\r\n", "\n") if "\r" in text else text)
    for chunk, start_line in documents:
        try:
            root_line, body = fast.read(chunk, safe)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = start_line + (mark.line if mark else 0)
            reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
            return Parsed([], [], ParseProblem(path, line, reason))
        except (RecursionError, TooDeep):
            return Parsed([], [], ParseProblem(path, start_line, f"nesting too deep (over {MAX_NESTING} levels)"))
        if root_line is not None:
            collector.add(body, start_line + root_line, chunk, start_line)
    return Parsed(collector.resources, collector.skipped, None)
