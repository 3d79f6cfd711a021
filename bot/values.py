"""Reading parsed YAML as Istio would: a value of the wrong type counts as absent, never raises."""

from __future__ import annotations

import json
from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def str_labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_dict(value).items()}


def canonical(value: Any) -> str:
    """A stable text form of any parsed value, whatever its keys' types, to compare shapes."""
    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            return {repr(k) if not isinstance(k, str) else k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(value), sort_keys=True, default=str)
