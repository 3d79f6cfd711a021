#!/usr/bin/env python3
"""Write docs/rules/<id>.md for every rule from its module and its fixtures.

Usage: python scripts/gen_rule_docs.py [--check]   (--check: exit 1 if a page is out of date)
The test suite runs the check, so the pages cannot drift from the rules.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.rules import RULES  # noqa: E402
from bot.rules.base import Rule  # noqa: E402

FIXTURES = ROOT / "tests" / "rules"
DOCS = ROOT / "docs" / "rules"


def _case(rule_id: str, prefix: str) -> Path | None:
    cases = sorted(p for p in (FIXTURES / rule_id).glob(prefix + "*") if p.is_dir())
    return cases[0] if cases else None


def _yaml(path: Path) -> str:
    return "```yaml\n" + path.read_text().rstrip("\n") + "\n```\n"


def _side(case: Path, side: str) -> str:
    """One side of a fixture: its manifest, or each file of its repository tree."""
    folder = case / side
    if not folder.is_dir():
        return _yaml(case / f"{side}.yaml")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return "\n".join(f"`{p.relative_to(folder).as_posix()}`:\n\n" + _yaml(p) for p in files)


def _source(text: str) -> str:
    """A source line for Markdown: links as autolinks, code paths as code."""
    words = text.split(" ", 2)
    if text.startswith("https://"):
        link, _, rest = text.partition(" ")
        return f"<{link}>" + (f" {rest}" if rest else "")
    repos = ("istio/istio", "kubernetes-sigs/gateway-api", "k8s.io/apimachinery", "k8s.io/cli-runtime")
    if words[0] in repos and len(words) > 1 and "/" in words[1]:
        rest = f" {words[2]}" if len(words) > 2 else ""
        return f"{words[0]} `{words[1]}`{rest}"
    return text


def render(rule: Rule) -> str:
    fires, near = _case(rule.ID, "fires"), _case(rule.ID, "near-miss")
    if rule.DIFF_ONLY:
        mode = "`diff` only (compares base with head)"
    else:
        mode = "`diff` (what the change introduces) and `audit`"
    out = [
        f"# {rule.ID}\n",
        f"{rule.SUMMARY}.\n",
        f"- Default severity: **{rule.SEVERITY.value}**",
        f"- Runs in: {mode}",
        f"- Istio guidance: <{rule.GUIDANCE}>\n",
        "## Why\n",
        rule.WHY + "\n",
        "## What it follows\n",
        "\n".join(f"- {_source(source)}" for source in rule.SOURCES) + "\n",
    ]
    spec = getattr(rule, "SPEC", "")  # Gateway API rules: where Istio differs from the specification
    if spec:
        out += ["## Istio and the Gateway API specification\n", spec + "\n"]
    if fires:
        if (fires / "base.yaml").exists() or (fires / "base").is_dir():
            out += ["## Before (base of the PR)\n", _side(fires, "base")]
        out += [f"## Flagged (head of the PR, fixture `{fires.relative_to(ROOT)}`)\n", _side(fires, "head"),
                "Findings:\n", "```text\n" + (fires / "expected.txt").read_text() + "```\n"]
    if near:
        out += [f"## Not flagged (near miss, fixture `{near.relative_to(ROOT)}`)\n", _side(near, "head")]
    out += ["## Options\n",
            "```yaml\n# .istio-pr-bot.yaml\nrules:\n"
            f"  {rule.ID}:\n    enabled: true\n    severity: {rule.SEVERITY.value}   # error | warning | notice\n```\n",
            f"Opt one resource out with the annotation `istio-pr-bot.io/ignore: \"{rule.ID}\"`."]
    if rule.READS:
        keys = ", ".join(f"`{k}`" for k in rule.READS)
        out.append(f" Also reads: {keys} (see the README's configuration section).")
    return "\n".join(out).rstrip("\n") + "\n"


def index() -> str:
    rows = ["# Rules\n", "| id | default | runs in | what |", "| --- | --- | --- | --- |"]
    for rule in RULES:
        runs = "diff" if rule.DIFF_ONLY else "diff, audit"
        rows.append(f"| [{rule.ID}]({rule.ID}.md) | {rule.SEVERITY.value} | {runs} | {rule.SUMMARY} |")
    return "\n".join(rows) + "\n"


def pages() -> dict[Path, str]:
    out = {DOCS / f"{rule.ID}.md": render(rule) for rule in RULES}
    out[DOCS / "README.md"] = index()
    return out


def main(argv: list[str]) -> int:
    stale = [p for p, text in pages().items() if not p.exists() or p.read_text() != text]
    if "--check" in argv:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)} (run python scripts/gen_rule_docs.py)")
        return 1 if stale else 0
    os.makedirs(DOCS, exist_ok=True)
    for p, text in pages().items():
        p.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
