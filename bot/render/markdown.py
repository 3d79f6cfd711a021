"""`--format markdown`: the review comment, rendered from `bot/templates/comment.md.j2`.

Every value that comes from a manifest is escaped: it can produce no raw HTML, @mention, #reference,
link, broken table row or broken code span. The body stays under GitHub's comment limit by cutting,
in order, the changed-resource table, notices, pre-existing findings, warnings beyond the first
ones and per-stage detail; never the verdict, the errors or the plan's headlines.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot import __version__
from bot.findings import Finding, Ref, Severity
from bot.plan import Stage
from bot.render.summary import max_severity, short_rev, verdict
from bot.report import Report
from bot.rules.base import docs_url

MARKER = "<!-- istio-pr-bot -->"
LIMIT = 60_000  # code points; GitHub rejects bodies over 65,536 characters
MAX_VALUE = 200  # a value longer than this is shortened

_ICONS = {Severity.ERROR: "⛔", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}
_TITLES = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.NOTICE: "Notices"}
_CHANGE_ICONS = {"added": "➕", "removed": "➖", "modified": "✏️"}
_SPECIAL = re.compile(r"([\\`*_\[\]!|~])")


def md(value: object, limit: int = MAX_VALUE) -> str:
    """Escape a value for Markdown prose or a table cell."""
    text = " ".join(str(value).split())  # no line breaks: nothing can end a table row or start a block
    text = re.sub(r"\S{121,}", lambda m: m[0][:80] + "…" + m[0][-30:], text)  # no endless words
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;")
    text = _SPECIAL.sub(r"\\\1", text)
    text = text.replace("<", "&lt;").replace(">", "&gt;")  # no raw HTML, no comments
    # A zero-width space (\0 until the end) breaks what GitHub would turn into a ping or a link.
    text = text.replace("@", "@\0")  # @user, @org/team
    text = re.sub(r"(?<=\w)#|#(?=\d)", "#\0", text)  # #123, org/repo#123
    text = re.sub(r"(?i)(?<=[a-z])(?=://)", "\0", text)  # https://...
    text = re.sub(r"(?i)\bwww\.", "www\0.", text)
    return text.replace("\0", "&#8203;")


def fence(text: str, lang: str = "", indent: str = "") -> str:
    """A fenced code block that the text cannot close early."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    bar = "`" * max(3, longest + 1)
    body = "\n".join(indent + line for line in text.splitlines())
    return f"{indent}{bar}{lang}\n{body}\n{indent}{bar}"


@dataclass
class _Cut:
    """How much to leave out, from nothing (level 0) to the minimum (level 7)."""

    level: int = 0

    @property
    def changes_rows(self) -> int | None:
        return None if self.level < 1 else (50 if self.level == 1 else 0)

    @property
    def notices(self) -> bool:
        return self.level < 3

    @property
    def preexisting(self) -> bool:
        return self.level < 4

    @property
    def max_warnings(self) -> int | None:
        return None if self.level < 5 else 20

    @property
    def stage_items(self) -> bool:
        return self.level < 6

    @property
    def max_errors(self) -> int | None:
        return None if self.level < 7 else 50

    def describe(self) -> str:
        parts = ["changed-resource table"] if self.level >= 1 else []
        parts += ["notices"] if self.level >= 3 else []
        parts += ["pre-existing findings"] if self.level >= 4 else []
        parts += ["warnings after the first 20"] if self.level >= 5 else []
        parts += ["per-stage resource lists and waits"] if self.level >= 6 else []
        parts += ["errors after the first 50, and their details"] if self.level >= 7 else []
        if not parts:
            return ""
        return ("shortened to fit GitHub's comment limit (" + ", ".join(parts) + "); the full report is in the job "
                "summary and the JSON report")


def _location(ref: Ref, line: int, link_base: str | None) -> str:
    label = md(f"{ref.file}:{line}")
    if not link_base:
        return label
    return f"[{label}]({link_base.rstrip('/')}/{quote(ref.file, safe='/')}#L{line})"


def _finding(f: Finding, link_base: str | None, compact: bool = False) -> dict[str, Any]:
    related = ", ".join(f"{md(r.display)} ({_location(r, r.line, link_base)})" for r in f.related[:5])
    if len(f.related) > 5:
        related += f" and {len(f.related) - 5} more"
    message = f.message if not compact or len(f.message) <= 300 else f.message[:299] + "…"
    return {
        "rule": f.rule, "docs": docs_url(f.rule), "severity_word": f.severity.value.capitalize(),
        "resource": f.resource.display, "location": _location(f.resource, f.location_line, link_base),
        "message": message, "fix": "" if compact else f.fix, "related": "" if compact else related,
    }


def _context(report: Report, link_base: str | None, cut: _Cut) -> dict[str, Any]:
    headline, earlier = report.headline(), report.earlier()
    groups = []
    for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTICE):
        found = [f for f in headline if f.severity is severity]
        if not found:
            continue
        limit = {Severity.ERROR: cut.max_errors, Severity.WARNING: cut.max_warnings,
                 Severity.NOTICE: None if cut.notices else 0}[severity]
        shown = found if limit is None else found[:limit]
        title = _TITLES[severity] + (" introduced by this change" if report.mode == "diff" else "")
        groups.append({"icon": _ICONS[severity], "title": title, "count": len(found),
                       "findings": [_finding(f, link_base, compact=cut.level >= 7) for f in shown],
                       "hidden": len(found) - len(shown)})
    rows = report.changes if cut.changes_rows is None else report.changes[: cut.changes_rows]
    top = max_severity(report)
    word = {Severity.ERROR: "Not safe to merge as is", Severity.WARNING: "Review before merging",
            Severity.NOTICE: "Safe to merge", None: "Safe to merge"}[top]
    pre_shown = earlier if cut.preexisting else []
    return {
        "marker": MARKER,
        "verdict": verdict(report),
        "verdict_icon": _ICONS.get(top, "✅") if top else "✅",
        "verdict_word": word,
        "changes": [
            {"icon": _CHANGE_ICONS[c.change], "change": c.change, "kind": c.resource.kind,
             "namespace": c.resource.namespace, "name": c.resource.name, "what": ", ".join(c.what[:4]),
             "file_link": _location(c.resource, c.resource.line, link_base)}
            for c in rows
        ],
        "changes_total": len(report.changes),
        "changes_hidden": len(report.changes) - len(rows),
        "changes_open": len(report.changes) <= 10,
        "groups": groups,
        "preexisting": [_finding(f, link_base) for f in pre_shown],
        "preexisting_total": len(earlier),
        "preexisting_hidden": len(earlier) - len(pre_shown) if pre_shown else 0,
        "suppressed": [_finding(s.finding, link_base) for s in report.suppressed] if cut.preexisting else [],
        "stages": [_stage(i, st, link_base, cut) for i, st in enumerate(report.plan.stages, start=1)],
        "staged": report.plan.staged,
        "plan_dir_hint": True,
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped[:50]] if cut.preexisting else [],
        "skipped_total": len(report.skipped),
        "version": __version__,
        "mode": report.mode,
        "base": short_rev(report.base),
        "head": short_rev(report.head),
        "cut": cut.describe(),
    }


def _stage(index: int, stage: Stage, link_base: str | None, cut: _Cut) -> dict[str, Any]:
    commands = []
    if stage.apply:
        commands.append(f"kubectl apply -f stage-{index}.yaml")
    if stage.delete:
        commands.append(f"kubectl delete -f stage-{index}.delete.yaml")
    if stage.wait:
        waits = stage.wait.split(" && ")
        shown_waits = waits if cut.stage_items else waits[:10]
        commands += [f"# then wait before stage {index + 1}:"] + shown_waits
        if len(waits) > len(shown_waits):
            more = len(waits) - len(shown_waits)
            commands.append(f"# ... and {more} more waits of the same kind (see the JSON report)")
    items = ""
    if cut.stage_items:
        shown = list(stage.steps[:20])
        items = ", ".join(
            f"{'delete ' if s.action == 'delete' else ''}{md(s.resource.display)} "
            f"({_location(s.resource, s.resource.line, link_base)})" for s in shown)
        if len(stage.steps) > 20:
            items += f" and {len(stage.steps) - 20} more"
    notes = list(stage.notes[:3])
    if len(stage.notes) > 3:
        notes.append(f"{len(stage.notes) - 3} more files also hold documents of other stages: apply the stage files, "
                     "not the source files")
    return {"title": stage.title, "resources": items, "notes": notes, "commands": "\n".join(commands)}


@functools.lru_cache(maxsize=8)
def _environment(template_text: str | None) -> Any:
    from jinja2 import ChoiceLoader, DictLoader, Environment, PackageLoader, StrictUndefined

    loaders: list[Any] = [PackageLoader("bot", "templates")]
    if template_text is not None:
        loaders.insert(0, DictLoader({"user.md.j2": template_text}))
    # Markdown, not HTML: every value from a manifest passes the `md` filter, which escapes it for Markdown.
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False,  # noqa: S701
                      keep_trailing_newline=True, trim_blocks=False)
    env.filters["md"] = md
    env.filters["fence"] = fence
    return env


def render(report: Report, link_base: str | None = None, template_text: str | None = None,
           limit: int = LIMIT) -> str:
    """The comment body; `template_text` (a user template, may extend comment.md.j2) replaces ours."""
    if report.mode == "diff" and not report.changes and not report.findings:
        return f"✅ istio-pr-bot: no Istio resources changed in this pull request.\n\n{MARKER}\n"
    env = _environment(template_text)
    template = env.get_template("user.md.j2" if template_text is not None else "comment.md.j2")
    body = ""
    for level in range(8):
        body = str(template.render(**_context(report, link_base, _Cut(level)))).strip() + "\n"
        if MARKER not in body:
            body += f"\n{MARKER}\n"
        if len(body) <= limit:
            return body
    return _hard_cut(body, limit)


def _hard_cut(body: str, limit: int) -> str:
    """Last resort: cut the text, close what is open, keep the marker."""
    tail = f"\n\n… cut to fit GitHub's comment limit; the full report is in the job summary.\n\n{MARKER}\n"
    text = body[: limit - len(tail) - 200]
    if text.count("```") % 2:
        text += "\n```"
    text += "\n</details>" * max(0, text.count("<details") - text.count("</details>"))
    return text + tail
