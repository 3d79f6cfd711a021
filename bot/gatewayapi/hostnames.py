"""Hostname wildcards and intersection between a listener and a route.

Gateway API (`apis/v1/httproute_types.go` HTTPRouteSpec.Hostnames, `tlsroute_types.go`): an empty list
or hostname matches everything; `*.example.com` matches any name with at least one more label
(`a.example.com`, `a.b.example.com`, not `example.com`). A listener and a route attach when at least
one pair of names intersects, and the route is served only for the intersection. Istio compares the
same way with `host.Name.Matches` and `SubsetOf` (istio `pkg/config/host/name.go`).
"""

from __future__ import annotations

ANY = "*"


def normal(name: str | None) -> str:
    """A hostname as compared: lower case, no trailing dot; empty or missing means any (`*`)."""
    value = (name or "").strip().lower().rstrip(".")
    return value or ANY


def covers(pattern: str, name: str) -> bool:
    """Whether every name `name` stands for is matched by `pattern` (`SubsetOf`, reversed)."""
    if pattern == ANY or pattern == name:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[1:]  # ".example.com"
    if name.startswith("*"):
        return name != ANY and len(name) >= len(pattern) and name[1:].endswith(suffix)
    return name.endswith(suffix) and len(name) > len(suffix)


def intersection(a: str, b: str) -> str | None:
    """The names both patterns match, as one pattern, or None when they share none."""
    if covers(a, b):
        return b
    if covers(b, a):
        return a
    return None
