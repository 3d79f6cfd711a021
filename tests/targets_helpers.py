"""Helpers for the target tests: a fixture tree as the mapping the pure modules take."""

from __future__ import annotations

import os
from pathlib import Path


def tree(root: Path) -> dict[str, bytes]:
    """Every file below `root`, by repository path."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            full = Path(folder) / name
            out[full.relative_to(root).as_posix()] = full.read_bytes()
    return dict(sorted(out.items()))


def changed(base: dict[str, bytes], head: dict[str, bytes]) -> set[str]:
    """Paths added, removed or modified between two trees."""
    return {p for p in base.keys() | head.keys() if base.get(p) != head.get(p)}
