"""Path globs for `paths` and `exclude`: `*` stays inside one folder, `**` crosses folders.

A pattern without a slash matches the file name in any folder (`*.yaml`); one with a slash
matches the whole path from the repository root (`deploy/**/*.yaml`).
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    if "/" not in pattern:
        pattern = "**/" + pattern
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def match(path: str, patterns: tuple[str, ...]) -> bool:
    path = path[2:] if path.startswith("./") else path
    return any(_compile(p.lstrip("/")).match(path) for p in patterns)
