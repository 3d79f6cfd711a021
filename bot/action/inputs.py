"""The step's inputs (`INPUT_*` variables), read once and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import FAIL_ON
from bot.errors import BotError

COMMENT_MODES = ("update", "hide-and-new", "new", "off")
MODES = ("auto", "diff", "audit", "publish")


@dataclass(frozen=True)
class Inputs:
    token: str = ""
    config: str = ""
    paths: tuple[str, ...] = ()
    fail_on: str = ""
    istio_version: str = ""
    comment: str = "update"
    annotations: bool = True
    check_run: bool = False
    mode: str = "auto"
    base: str = ""
    head: str = ""
    audit_issue: bool = False
    report: str = ".istio-pr-bot/report.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def get(name: str, default: str = "") -> str:
            for key in (f"INPUT_{name.upper()}", f"INPUT_{name.upper().replace('-', '_')}"):
                if env.get(key, "").strip():
                    return env[key].strip()
            return default

        def flag(name: str, default: bool) -> bool:
            value = get(name, "true" if default else "false").lower()
            if value not in ("true", "false"):
                raise BotError(f"input {name} must be true or false, got {value!r}")
            return value == "true"

        def choice(name: str, options: tuple[str, ...], default: str) -> str:
            value = get(name, default)
            if value not in options:
                raise BotError(f"input {name} must be one of {', '.join(options)}, got {value!r}")
            return value

        return cls(
            token=get("github-token", env.get("GITHUB_TOKEN", "")),
            config=get("config"),
            paths=tuple(p.strip() for p in get("paths").replace("\n", ",").split(",") if p.strip()),
            fail_on=choice("fail-on", ("", *FAIL_ON), ""),
            istio_version=get("istio-version"),
            comment=choice("comment", COMMENT_MODES, "update"),
            annotations=flag("annotations", True),
            check_run=flag("check-run", False),
            mode=choice("mode", MODES, "auto"),
            base=get("base"),
            head=get("head"),
            audit_issue=flag("audit-issue", False),
            report=get("report", ".istio-pr-bot/report.json"),
        )
