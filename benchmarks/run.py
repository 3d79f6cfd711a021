#!/usr/bin/env python3
"""Time istio-pr-bot against the libyaml floor on synthetic mesh repositories.

Usage: python benchmarks/run.py [--sizes 1000,10000] [--repeat 5] [--workdir .cache/bench] [--no-targets]

For each size, a pure Istio/Service repository and a mixed one (with about four non-Istio documents
per Istio one) are generated once (benchmarks/generate.py). Then, in the same run and on the same
machine, each of these is timed `--repeat` times and the median reported:
- floor: libyaml (PyYAML's C loader) composing every YAML file of the head tree once, on one core;
- diff:  istio-pr-bot diff --base main --head pr (git mode, JSON report to /dev/null);
- audit: istio-pr-bot audit (the head revision).
Ratios are to the floor's median; peak RSS is the process's maximum resident set size.

Then a repository of deploy targets (50 kustomizations on a shared base and 10 charts; the PR changes
one kustomization) is timed the same way with the pinned helm and kustomize (scripts/tools.py finds
or builds them): `diff` of the PR, and `audit`, which renders every target; the number of renders
each made comes from its JSON report.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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


def tools_path() -> str | None:
    """PATH with the pinned helm and kustomize first (built when missing and Go is there), or None."""
    spec = importlib.util.spec_from_file_location("istio_pr_bot_tools", ROOT / "scripts" / "tools.py")
    if spec is None or spec.loader is None:
        raise SystemExit("scripts/tools.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    known = module.tools()
    if any(module.find(t) is None for t in known.values()) and module.build(list(known.values())):
        return None
    folders = {os.path.dirname(module.find(t)) for t in known.values()}
    return os.pathsep.join([*sorted(folders), os.environ.get("PATH", "")])


def measure_targets(repo: Path, repeat: int, path: str) -> list[tuple[str, float, int, int, int]]:
    """(command, median seconds, peak RSS MiB, renders, targets read) for diff and audit."""
    env = {**os.environ, "PATH": path}
    commands = {
        "diff": [*BOT, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json"],
        "audit": [*BOT, "audit", "--repo", str(repo), "--ref", "pr", "--format", "json"],
    }
    rows = []
    for name, argv in commands.items():
        report = json.loads(subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False).stdout)
        renders = sum(t["renders"] for t in report["targets"])
        read = sum(1 for t in report["targets"] if t["status"] != "unchanged")
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            proc = subprocess.Popen([*argv, "--output", os.devnull], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            _, _, usage = os.wait4(proc.pid, 0)
            runs.append((time.perf_counter() - start, usage.ru_maxrss // 1024))
        rows.append((name, statistics.median(t for t, _ in runs), max(m for _, m in runs), renders, read))
    return rows


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
    parser.add_argument("--no-targets", action="store_true", help="leave out the deploy-target repository")
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
    if args.no_targets:
        return 0
    path = tools_path()
    if path is None:
        print("\nthe deploy-target repository is left out: helm and kustomize are not on PATH and cannot be built")
        return 0
    repo = work / "targets-50-10"
    if not repo.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--targets", str(repo)], check=True)
    print("\n| repository | command | targets read | helm/kustomize runs | time | peak RSS |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, seconds, rss, renders, read in measure_targets(repo, args.repeat, path):
        what = "diff (PR changes one kustomization)" if name == "diff" else "audit (every target)"
        print(f"| 50 kustomizations, 10 charts | {what} | {read} of 60 | {renders} | {seconds:.2f} s | {rss} MiB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
