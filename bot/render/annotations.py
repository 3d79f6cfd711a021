"""GitHub workflow-command annotations (`::error file=…,line=…::message`).

Escaping follows `@actions/core` (toCommandValue/escapeData/escapeProperty). GitHub shows at most
10 error and 10 warning annotations per step, so errors come first and the rest is counted.
"""

from __future__ import annotations

from bot.findings import Finding, Severity
from bot.report import Report

PER_LEVEL = 10
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def heading(f: Finding, name: str | None = None) -> str:
    """`rule: resource`, with the target and cluster when the repository has targets.

    `name` is how the report names the finding's resource (its display by default).
    """
    where = f" ({f.resource.placement})" if f.resource.placement else ""
    return f"{f.rule}: {name or f.resource.display}{where}"


def command(f: Finding, name: str | None = None) -> str:
    """One annotation; `name` as in `heading`."""
    title = escape_property(heading(f, name))
    props = f"file={escape_property(f.resource.file)},line={f.location_line},title={title}"
    body = f.message + (f" Fix: {f.fix}" if f.fix else "")
    return f"::{_COMMAND[f.severity]} {props}::{escape_data(body)}"


def render(report: Report, per_level: int = PER_LEVEL) -> str:
    lines: list[str] = []
    left_out = 0
    for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTICE):
        found = [f for f in report.headline() if f.severity is severity]
        lines += [command(f, report.label(f.resource)) for f in found[:per_level]]
        left_out += max(0, len(found) - per_level)
    if left_out:
        lines.append(f"::notice::istio-pr-bot: {left_out} more findings are not annotated here "
                     "(GitHub shows 10 per level and step); see the job summary")
    return "".join(line + "\n" for line in lines)
