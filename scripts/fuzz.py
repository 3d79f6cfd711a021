#!/usr/bin/env python3
"""Mutation fuzzing of the whole pipeline: load -> model -> changes -> rules -> plan -> every renderer.

Usage: python scripts/fuzz.py [--cases 100000] [--seed 1] [--readers]

Each case takes a real manifest (the bundled example and the rule fixtures), mutates it (wrong types
anywhere, huge numbers, deep nesting, unicode and control characters, non-string keys, duplicate
keys, byte flips, truncation), and reviews the change from the original to the mutant. Any exception
is a crash; the script prints the count and the first few, and exits 1 if there was one.

With --readers, each mutant's documents are read by bot.reading.fast.read (yaml-rs where it may) and by
libyaml alone instead, and any difference in value, root line or acceptance is reported.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.analyze import analyze_audit, analyze_diff  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.load import SourceFile  # noqa: E402
from bot.render import annotations as workflow_commands  # noqa: E402
from bot.render import json_report, markdown, sarif, text  # noqa: E402

VALUES: list[Any] = [
    5, 0, -1, 2**70, 1.5, float("inf"), None, True, False, "", "x" * 300, "\x00\x07\x1b[31m", "ü🙂\u202e",
    [], {}, [[[[[]]]]], {"a": {"b": {"c": {}}}}, {1: 2}, {None: "x"}, "*", "~", ".", "mesh", "a/b/c", "*.local",
    "reviews", "v1", ["*"], ["."], [5, None], [{"name": 5}], [{"name": "v1"}, {"name": "v1"}], {"mode": "STRICT"},
    {"number": "443"}, {"number": 443, "name": None, "protocol": 7}, "<img src=x>", "@org/team", "#1", "`",
]


def seeds() -> list[str]:
    files = sorted([*ROOT.glob("examples/head/**/*.yaml"), *ROOT.glob("examples/base/**/*.yaml"),
                    *ROOT.glob("tests/rules/*/*/*.yaml")])
    return [p.read_text() for p in files]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _set(root: Any, path: tuple[Any, ...], value: Any, rng: random.Random) -> Any:
    if not path:
        return value
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    choice = rng.random()
    if choice < 0.15 and isinstance(parent, dict):
        del parent[last]
    elif choice < 0.25 and isinstance(parent, list):
        parent.insert(last, parent[last])
    elif choice < 0.3 and isinstance(parent, dict):
        parent[rng.choice([1, None, 2.5, True, "new"])] = value
    else:
        parent[last] = value
    return root


def mutate_structure(source: str, rng: random.Random) -> str:
    docs = [d for d in yaml.safe_load_all(source) if d is not None]
    if not docs:
        return source
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(docs))
        path = rng.choice(_paths(docs[i]))
        value = rng.choice(VALUES)
        if rng.random() < 0.05:
            nested: list[Any] = []
            value = nested
            for _ in range(rng.randint(50, 400)):
                nested.append([])
                nested = nested[0]
        docs[i] = _set(docs[i], path, value, rng)
    return yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False)


def mutate_text(source: str, rng: random.Random) -> str:
    data = bytearray(source.encode())
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        pos = rng.randrange(len(data))
        op = rng.random()
        if op < 0.3:
            data[pos] = rng.randrange(256)
        elif op < 0.5:
            del data[pos:pos + rng.randint(1, 20)]
        elif op < 0.7:
            data[pos:pos] = rng.choice([b"\t", b": ", b"- ", b"&a ", b"*a", b"---\n", b"{{ .Values.x }}", b"\xff",
                                        b"\n  "])
        else:
            lines = data.split(b"\n")
            j = rng.randrange(len(lines))
            lines.insert(j, lines[j])  # duplicate keys
            data = bytearray(b"\n".join(lines))
    return data.decode("utf-8", "surrogateescape")


def mutate(original: str, rng: random.Random, structural: float) -> str | None:
    """A mutant of `original`: structural with probability `structural`, else textual (None if the
    original cannot be restructured)."""
    try:
        return mutate_structure(original, rng) if rng.random() < structural else mutate_text(original, rng)
    except (yaml.YAMLError, RecursionError):
        return None


def source(path: str, content: str) -> SourceFile:
    data = content.encode("utf-8", "surrogateescape")
    return SourceFile(path, data, hashlib.sha1(data, usedforsecurity=False).hexdigest())


def run_case(original: str, mutant: str) -> None:
    config = Config()
    report = analyze_diff([source("m.yaml", original)], [source("m.yaml", mutant)], config, "base", "head")
    for r in (report, analyze_audit([source("m.yaml", mutant)], config, "head")):
        text.render(r)
        markdown.render(r, link_base="https://github.com/o/r/blob/abc")
        json_report.render(r)
        sarif.render(r)
        workflow_commands.render(r)


def fuzz(cases: int, seed: int, report_every: int = 0) -> list[str]:
    rng = random.Random(seed)
    corpus = seeds()
    crashes: list[str] = []
    for n in range(cases):
        original = rng.choice(corpus)
        mutant = mutate(original, rng, structural=0.6)
        if mutant is None:
            continue
        try:
            run_case(original, mutant)
        except Exception:  # noqa: BLE001 - every exception is a crash to report
            crashes.append(f"case {n} (seed {seed}):\n{traceback.format_exc()}\n--- mutant ---\n{mutant[:2000]}")
        if report_every and (n + 1) % report_every == 0:
            print(f"{n + 1} cases, {len(crashes)} crashes", file=sys.stderr)
    return crashes


def readers(cases: int, seed: int) -> int:
    """Compare the two YAML readers on mutants; returns the number of disagreements."""
    import pytest

    from bot.reading import fast
    from bot.reading.split import Refused, documents

    sys.path.insert(0, str(ROOT / "tests"))
    from test_fast_reading import agree

    rng = random.Random(seed)
    corpus = seeds()
    bad = fast_read = 0
    for n in range(cases):
        mutant = mutate(rng.choice(corpus), rng, structural=0.4)
        if mutant is None:
            continue
        try:
            mutant.encode()
        except UnicodeEncodeError:
            continue  # not text the loader could be given (it decodes UTF-8 strictly)
        try:
            chunks = documents(mutant)
        except Refused:
            continue  # kubectl refuses the file before any document is read
        for chunk, _ in chunks:
            try:
                held = agree(chunk)
            except (AssertionError, pytest.fail.Exception) as exc:
                held = True
                bad += 1
                print(f"case {n}: {chunk[:300]!r}\n  {str(exc)[:300]}")
            fast_read += held and fast.usable() and not fast.risky(chunk.replace("\r\n", "\n"))
    print(f"{cases} cases, {fast_read} documents read by yaml-rs, {bad} disagreements")
    return bad


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--readers", action="store_true", help="compare the two YAML readers instead")
    args = parser.parse_args(argv)
    if args.readers:
        return 1 if readers(args.cases, args.seed) else 0
    start = time.perf_counter()
    crashes = fuzz(args.cases, args.seed, report_every=10_000)
    print(f"{args.cases} cases, {len(crashes)} crashes, {time.perf_counter() - start:.0f} s")
    signatures: dict[str, int] = {}
    for crash in crashes:
        lines = [ln for ln in crash.splitlines() if ln.strip()]
        ours = [ln.strip() for ln in lines if "/bot/" in ln]
        key = (ours[-1] if ours else "?") + " | " + next((ln for ln in reversed(lines) if "Error" in ln), "?")
        signatures[key] = signatures.get(key, 0) + 1
    for key, count in sorted(signatures.items(), key=lambda kv: -kv[1]):
        print(f"{count:6}  {key}")
    if crashes:
        print(crashes[0])
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
