#!/usr/bin/env python3
"""Time istio-pr-bot against the libyaml floor on synthetic mesh repositories.

Usage: python benchmarks/run.py [--sizes 1000,10000] [--repeat 5] [--workdir .cache/bench]

For each size, a pure Istio/Service repository and a mixed one (with about four non-Istio documents
per Istio one) are generated once (benchmarks/generate.py). Then, in the same run and on the same
machine, each of these is timed `--repeat` times and the median reported:
- floor: libyaml (PyYAML's C loader) composing every YAML file of the head tree once, on one core;
- diff:  istio-pr-bot diff --base main --head pr (git mode, JSON report to /dev/null);
- audit: istio-pr-bot audit (the head revision).
Ratios are to the floor's median; peak RSS is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = [sys.executable, "-m", "bot"]
FLOOR = r"""
import os, sys, yaml
root = sys.argv[1]
for folder, dirs, names in os.walk(root):
    dirs[:] = [d for d in dirs if d != ".git"]
    for name in names:
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(folder, name), "rb") as fh:
                for _ in yaml.compose_all(fh.read(), Loader=yaml.CSafeLoader):
                    pass
"""


def timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed with {code}: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss // 1024


def measure(repo: Path, repeat: int) -> dict[str, tuple[float, int]]:
    commands = {
        "floor": [sys.executable, "-c", FLOOR, str(repo)],
        "diff": [*BOT, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json",
                 "--output", os.devnull],
        "audit": [*BOT, "audit", "--repo", str(repo), "--format", "json", "--output", os.devnull],
    }
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():  # interleaved, so machine noise hits all three alike
            runs[name].append(timed(argv))
    return {name: (statistics.median(t for t, _ in r), max(m for _, m in r)) for name, r in runs.items()}


def documents(repo: Path) -> tuple[int, int]:
    count = size = 0
    for folder, dirs, names in os.walk(repo):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            if name.endswith(".yaml"):
                text = (Path(folder) / name).read_bytes()
                size += len(text)
                count += text.count(b"\nkind: ") + text.startswith(b"kind: ")
    return count, size


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", default=str(ROOT / ".cache" / "bench"))
    args = parser.parse_args(argv)
    work = Path(args.workdir)
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        for variant in ("pure", "mixed"):
            repo = work / f"{variant}-{n}"
            if not repo.exists():
                flags = ["--mixed"] if variant == "mixed" else []
                subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), str(n), str(repo), *flags],
                               check=True)
            docs, size = documents(repo)
            result = measure(repo, args.repeat)
            floor = result["floor"][0]
            rows.append((n, variant, docs, size, result, floor))
            print(f"measured {variant}-{n}", file=sys.stderr)
    print("| services | repo | documents | MB | floor (libyaml, 1 core) | diff | audit | peak RSS diff / audit |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, variant, docs, size, r, floor in rows:
        diff_t, diff_m = r["diff"]
        audit_t, audit_m = r["audit"]
        print(f"| {n:,} | {variant} | {docs:,} | {size / 1e6:.1f} | {floor:.2f} s "
              f"| {diff_t:.2f} s ({diff_t / floor:.2f}x) | {audit_t:.2f} s ({audit_t / floor:.2f}x) "
              f"| {diff_m} / {audit_m} MiB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
