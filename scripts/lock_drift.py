"""What moved: the versions of a fresh resolution next to the lock's, as a Markdown table.

    python scripts/lock_drift.py requirements/test.txt .cache/newest/requirements.txt

`make newest` runs it after resolving pyproject.toml without the lock; the scheduled `newest`
workflow appends its output to the job summary.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.markers import Marker

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)[ \t]*(?:;([^\\\n]*))?", re.MULTILINE)


def normalize(name: str) -> str:
    """PEP 503 name: lowercase, runs of '-', '_' and '.' as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def versions(text: str) -> dict[str, set[str]]:
    """Package -> versions a requirements file pins for this interpreter and platform (a universal
    lock may pin several versions of one package, or a package only elsewhere, by marker)."""
    pins: dict[str, set[str]] = {}
    for name, version, marker in PIN.findall(text):
        if not marker.strip() or Marker(marker.strip()).evaluate():
            pins.setdefault(normalize(name), set()).add(version)
    return pins


def drift(locked: dict[str, set[str]], fresh: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """(package, locked, newest) for each package whose fresh version the lock does not pin."""
    rows = []
    for name in sorted(locked.keys() | fresh.keys()):
        old, new = locked.get(name, set()), fresh.get(name, set())
        if not new <= old or (old and not new):
            rows.append((name, ", ".join(sorted(old)) or "(not locked)", ", ".join(sorted(new)) or "(dropped)"))
    return rows


def markdown(rows: list[tuple[str, str, str]], fresh_count: int) -> str:
    if not rows:
        return f"Nothing moved: all {fresh_count} resolved packages are the locked versions.\n"
    lines = [f"Differ from the lock: {len(rows)} of {fresh_count} resolved packages (`make lock` adopts them).", "",
             "| package | locked | newest |", "| --- | --- | --- |"]
    lines += [f"| {name} | {old} | {new} |" for name, old, new in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    locked, fresh = (versions(Path(arg).read_text()) for arg in argv)
    print(markdown(drift(locked, fresh), len(fresh)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
