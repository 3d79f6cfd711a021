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
from bot.errors import BotError
from bot.findings import Finding, Ref, Severity
from bot.kinds import display
from bot.plan import Stage, Step, commands, stage_file, stage_files
from bot.render.summary import max_severity, nothing_found, plural, settings_words, short_rev, verdict
from bot.report import Report
from bot.rules.base import docs_url

MARKER = "<!-- istio-pr-bot -->"  # the default comment key's marker, unchanged since the first release
LIMIT = 60_000  # code points; GitHub rejects bodies over 65,536 characters
MAX_VALUE = 200  # a value longer than this is shortened
FOLD_OVER = 5  # without errors, more warnings and notices than this fold behind one line
LEFT_OUT_SHOWN = 12  # resources named in the plan's "fix first" line
HIDDEN_SHOWN = 20  # findings listed as hidden by a pull request's new settings

_ICONS = {Severity.ERROR: "⛔", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}
_TITLES = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.NOTICE: "Notices"}
_CHANGE_ICONS = {"added": "➕", "removed": "➖", "modified": "✏️", "renamed": "🔀"}
MAX_WHAT = 4  # phrases per changed resource in the table
_SPECIAL = re.compile(r"([\\`*_\[\]!|~])")


def marker(key: str = "") -> str:
    """The hidden marker of the comment kept for `key` ('' the default): one sticky comment per key."""
    return f"<!-- istio-pr-bot key={key} -->" if key else MARKER


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
    """How much to leave out, from nothing (level 0) to the minimum (level 8)."""

    level: int = 0

    @property
    def documents(self) -> bool:
        return self.level < 1

    @property
    def changes_rows(self) -> int | None:
        return None if self.level < 2 else (50 if self.level == 2 else 0)

    @property
    def notices(self) -> bool:
        return self.level < 4

    @property
    def preexisting(self) -> bool:
        return self.level < 5

    @property
    def max_warnings(self) -> int | None:
        return None if self.level < 6 else 20

    @property
    def stage_items(self) -> bool:
        return self.level < 7

    @property
    def max_errors(self) -> int | None:
        return None if self.level < 8 else 50

    def describe(self) -> str:
        parts = ["generated documents"] if self.level >= 1 else []
        parts += ["changed-resource table"] if self.level >= 2 else []
        parts += ["notices"] if self.level >= 4 else []
        parts += ["pre-existing findings"] if self.level >= 5 else []
        parts += ["warnings after the first 20"] if self.level >= 6 else []
        parts += ["per-stage resource lists and waits"] if self.level >= 7 else []
        parts += ["errors after the first 50, and their details"] if self.level >= 8 else []
        if not parts:
            return ""
        return ("shortened to fit GitHub's comment limit (" + ", ".join(parts) + "); the full report is in the job "
                "summary and the JSON report")


def _location(ref: Ref, line: int, link_base: str | None) -> str:
    label = md(f"{ref.file}:{line}")
    if not link_base:
        return label
    return f"[{label}]({link_base.rstrip('/')}/{quote(ref.file, safe='/')}#L{line})"


def _finding(f: Finding, link_base: str | None, report: Report, compact: bool = False) -> dict[str, Any]:
    related = "; ".join(f"{md(report.label(r))}, {_location(r, r.line, link_base)}" for r in f.related[:5])
    if len(f.related) > 5:
        related += f" and {len(f.related) - 5} more"
    message = f.message if not compact or len(f.message) <= 300 else f.message[:299] + "…"
    return {
        "rule": f.rule, "docs": docs_url(f.rule), "severity_word": f.severity.value.capitalize(),
        "resource": report.label(f.resource), "location": _location(f.resource, f.location_line, link_base),
        "message": message, "fix": "" if compact else f.fix, "related": "" if compact else related,
    }


def _context(report: Report, link_base: str | None, cut: _Cut, key: str) -> dict[str, Any]:
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
        groups.append({"severity": severity.value, "icon": _ICONS[severity], "title": title, "count": len(found),
                       "findings": [_finding(f, link_base, report, compact=cut.level >= 8) for f in shown],
                       "hidden": len(found) - len(shown)})
    # Errors stay open; warnings and notices fold behind one line when errors lead, or when they are many.
    others = [g for g in groups if g["severity"] != "error"]
    fold = len(others) > 0 and (len(others) < len(groups) or sum(g["count"] for g in others) > FOLD_OVER)
    collapsed = others if fold else []
    rows = report.changes if cut.changes_rows is None else report.changes[: cut.changes_rows]
    top = max_severity(report)
    word = {Severity.ERROR: "Not safe to merge as is", Severity.WARNING: "Review before merging",
            Severity.NOTICE: "Safe to merge", None: "Safe to merge"}[top]
    icon = _ICONS[top] if top else "✅"
    hint = nothing_found(report)
    if hint:
        icon, word = "⚠️", "Nothing reviewed"
    pre_shown = earlier if cut.preexisting else []
    stage_files_ = stage_files(report.plan)
    return {
        "marker": marker(key),
        "key": key,
        "verdict": verdict(report),
        "verdict_icon": icon,
        "verdict_word": word,
        "hint": hint[:1].upper() + hint[1:],
        "settings": _settings(report, link_base),
        "changes": [
            {"icon": _CHANGE_ICONS[c.change], "change": c.change,
             "kind": display(c.resource.kind, frozenset(report.qualified)),
             "namespace": c.resource.namespace, "name": c.resource.name,
             "what": _what(c.what), "file_link": _location(c.resource, c.resource.line, link_base)}
            for c in rows
        ],
        "changes_total": len(report.changes),
        "changes_hidden": len(report.changes) - len(rows),
        "changes_open": False,
        "groups": [g for g in groups if g not in collapsed],
        "collapsed": collapsed,
        "collapsed_summary": " and ".join(f"{g['icon']} {plural(g['count'], g['severity'])}" for g in collapsed)
        + (" introduced by this change" if report.mode == "diff" else ""),
        "preexisting": [_finding(f, link_base, report) for f in pre_shown],
        "preexisting_total": len(earlier),
        "preexisting_hidden": len(earlier) - len(pre_shown) if pre_shown else 0,
        "suppressed": [_finding(s.finding, link_base, report) for s in report.suppressed] if cut.preexisting else [],
        "error_count": plural(sum(1 for f in headline if f.severity is Severity.ERROR), "error"),
        "left_out": [report.label(r) for r in report.plan.left_out[:LEFT_OUT_SHOWN]],
        "left_out_more": max(0, len(report.plan.left_out) - LEFT_OUT_SHOWN),
        "stages": [_stage(i, st, cut, report) for i, st in enumerate(report.plan.stages, start=1)],
        "staged": report.plan.staged,
        "documents": [_document(i, st, stage_files_, report) for i, st in enumerate(report.plan.stages, start=1)
                      if st.generated] if cut.documents else [],
        "documents_cut": ", ".join(stage_files_) if not cut.documents else "",
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped[:50]] if cut.preexisting else [],
        "skipped_total": len(report.skipped),
        "version": __version__,
        "mode": report.mode,
        "base": short_rev(report.base),
        "head": short_rev(report.head),
        "cut": cut.describe(),
    }


def _what(what: tuple[str, ...]) -> str:
    shown = ", ".join(what[:MAX_WHAT])
    return shown + (f" and {len(what) - MAX_WHAT} more" if len(what) > MAX_WHAT else "")


def _settings(report: Report, link_base: str | None) -> dict[str, Any] | None:
    change = report.config_change
    if change is None or not change.says_something:
        return None
    words = settings_words(change)
    hidden = [{**_finding(h.finding, link_base, report, compact=True), "why": h.why}
              for h in change.hidden[:HIDDEN_SHOWN]]
    return {"lead": words.lead, "check": words.check, "hidden_lead": words.hidden,
            "changes": [{"key": c.key, "before": c.before, "after": c.after} for c in change.changes[:50]],
            "hidden": hidden, "hidden_more": max(0, len(change.hidden) - HIDDEN_SHOWN)}


def _stage(index: int, stage: Stage, cut: _Cut, report: Report) -> dict[str, Any]:
    lines = commands(stage, index)
    if stage.wait:
        waits = stage.wait.split(" && ")
        shown_waits = waits if cut.stage_items else waits[:10]
        lines += [f"# then wait before stage {index + 1}:"] + shown_waits
        if len(waits) > len(shown_waits):
            more = len(waits) - len(shown_waits)
            lines.append(f"# ... and {more} more waits of the same kind (see the JSON report)")
    items = ""
    if cut.stage_items:
        items = ", ".join(md(report.label(s.resource)) + _step_tag(s, index) for s in stage.steps[:20])
        if len(stage.steps) > 20:
            items += f" and {len(stage.steps) - 20} more"
    return {"title": stage.title, "resources": items, "notes": list(stage.notes), "commands": "\n".join(lines)}


def _step_tag(step: Step, index: int) -> str:
    if step.action == "delete":
        return " (delete)"
    if step.note.startswith("transition"):
        return f" (transition version, in {stage_file(index)})"
    if step.generated:
        return f" (in {stage_file(index)}: {md(step.generated)})"
    return ""


def _document(index: int, stage: Stage, files: dict[str, str], report: Report) -> dict[str, Any]:
    about = []
    for step in stage.generated:
        if step.note.startswith("transition"):
            about.append(f"{report.label(step.resource)}, {step.note}")
        else:
            about.append(f"{report.label(step.resource)} as written in {step.resource.file}")
    name = stage_file(index)
    return {"name": name, "about": "; ".join(about), "text": files.get(name, "")}


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
           limit: int = LIMIT, key: str = "") -> str:
    """The comment body; `template_text` (a user template, may extend comment.md.j2) replaces ours;
    `key` names the comment among several the bot keeps on one pull request (a checked name)."""
    hidden = marker(key)
    name = f"istio-pr-bot `{key}`" if key else "istio-pr-bot"
    if report.quiet:
        if hint := nothing_found(report):
            return f"⚠️ {name}: {md(hint, 1000)}.\n\n{hidden}\n"
        return f"✅ {name}: no Istio resources changed in this pull request.\n\n{hidden}\n"
    from jinja2 import TemplateError

    try:
        env = _environment(template_text)
        template = env.get_template("user.md.j2" if template_text is not None else "comment.md.j2")
        bodies = (_tidy(str(template.render(**_context(report, link_base, _Cut(level), key)))) for level in range(9))
        body = ""
        for body in bodies:
            if hidden not in body:
                body += f"\n{hidden}\n"
            if len(body) <= limit:
                return body
    except TemplateError as exc:
        raise BotError(f"the comment template does not render: {type(exc).__name__}: {exc}") from None
    return _hard_cut(body, limit, hidden)


def _tidy(body: str) -> str:
    """At most one blank line in a row outside code blocks, none at the ends."""
    out: list[str] = []
    fence_bar = ""
    for line in body.strip().splitlines():
        bar = re.match(r"\s*(`{3,})", line)
        if bar and (not fence_bar or bar.group(1).startswith(fence_bar)):
            fence_bar = "" if fence_bar else bar.group(1)
        elif not fence_bar and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _hard_cut(body: str, limit: int, hidden: str) -> str:
    """Last resort: cut the text, close what is open, keep the marker."""
    tail = f"\n\n… cut to fit GitHub's comment limit; the full report is in the job summary.\n\n{hidden}\n"
    text = body[: limit - len(tail) - 200]
    if text.count("```") % 2:
        text += "\n```"
    text += "\n</details>" * max(0, text.count("<details") - text.count("</details>"))
    return text + tail
