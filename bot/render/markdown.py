"""`--format markdown`: the review comment, rendered from package templates with jinja2."""

from __future__ import annotations

from bot.analyze import Report
from bot.render import text


def render(report: Report, link_base: str | None = None) -> str:
    body = text.render(report)
    return "<!-- istio-pr-bot -->\n```text\n" + body.replace("```", "`\u200b``") + "```\n"
