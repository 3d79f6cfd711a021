"""`--format markdown`: the review comment, rendered from `bot/templates/comment.md.j2`.

With deploy targets, each target the change touches (or that has findings, or could not be read)
gets a section: its errors, its cluster's plan (in the last section of the cluster), what may be
skipped. Clusters come in the order of their worst finding, errors first.

Every value that comes from a manifest is escaped: it can produce no raw HTML, @mention, #reference,
link, broken table row or broken code span. The body stays under GitHub's comment limit by cutting,
in order, the changed-resource table, notices, pre-existing findings, warnings beyond the first
ones and per-stage detail; never the verdict, the errors or the plan's headlines.

The comment's parts, beside this module: `md_text` (escaping, code fences, links to a line),
`finding_groups` (findings by severity, folded), `change_rows` (the changed-resource table),
`rollout_plan` (stages and generated documents), `target_sections` (a section per deploy target)
and `cutting` (what each cut level leaves out).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from bot import __version__
from bot.errors import BotError
from bot.findings import Severity
from bot.render.change_rows import change_rows
from bot.render.cutting import Cut, hard_cut
from bot.render.finding_groups import ICONS, finding_entry, folded, severity_groups
from bot.render.md_text import fence, md
from bot.render.rollout_plan import rollout_plan
from bot.render.summary import max_severity, nothing_found, settings_words, short_rev, verdict
from bot.render.target_sections import target_sections
from bot.report import Report

__all__ = ["LIMIT", "MARKER", "fence", "marker", "md", "render"]

MARKER = "<!-- istio-pr-bot -->"  # the default comment key's marker, unchanged since the first release
LIMIT = 60_000  # code points; GitHub rejects bodies over 65,536 characters
HIDDEN_SHOWN = 20  # findings listed as hidden by a pull request's new settings


def marker(key: str = "") -> str:
    """The hidden marker of the comment kept for `key` ('' the default): one sticky comment per key."""
    return f"<!-- istio-pr-bot key={key} -->" if key else MARKER


def _context(report: Report, link_base: str | None, cut: Cut, key: str) -> dict[str, Any]:
    headline, earlier = report.headline(), report.earlier()
    sections, unplaced, plans = target_sections(report, link_base, cut) if report.targets else ([], headline, [])
    top = max_severity(report)
    word = {Severity.ERROR: "Not safe to merge as is", Severity.WARNING: "Review before merging",
            Severity.NOTICE: "Safe to merge", None: "Safe to merge"}[top]
    icon = ICONS[top] if top else "✅"
    if report.not_reviewed() and (top is None or top is Severity.NOTICE):
        icon, word = "⏭️", "Not fully reviewed"  # targets that could not be read never leave a green verdict
    hint = nothing_found(report)
    if hint:
        icon, word = "⚠️", "Nothing reviewed"
    pre_shown = earlier if cut.preexisting else []
    # Without deploy targets the plan is the comment's; with them, each cluster's is in its section.
    plan = None if report.targets else rollout_plan(report, report.plan, cut)
    return {
        "marker": marker(key),
        "key": key,
        "verdict": verdict(report),
        "verdict_icon": icon,
        "verdict_word": word,
        "hint": hint[:1].upper() + hint[1:],
        "settings": _settings(report, link_base),
        **change_rows(report, () if report.targets else report.changes, link_base, cut),  # with targets: per target
        "changes_open": False,
        **folded(report, severity_groups(report, unplaced, link_base, cut)),
        "targets": sections,
        "targets_not_reviewed": [{"name": t.name, "cluster": t.cluster, "reason": t.reason}
                                 for t in report.not_reviewed()],
        "targets_unchanged": sum(1 for t in report.targets if t.status == "unchanged"),
        "preexisting": [finding_entry(f, link_base, report) for f in pre_shown],
        "preexisting_total": len(earlier),
        "preexisting_hidden": len(earlier) - len(pre_shown) if pre_shown else 0,
        "suppressed": ([finding_entry(s.finding, link_base, report) for s in report.suppressed]
                       if cut.preexisting else []),
        "plan": plan,
        "plans": plans,
        # The comment's plan, named as before deploy targets (empty with them: see `targets` and `plans`).
        "error_count": plan["error_count"] if plan else "",
        "left_out": plan["left_out"] if plan else [],
        "left_out_more": plan["left_out_more"] if plan else 0,
        "stages": plan["stages"] if plan else [],
        "staged": plan["staged"] if plan else False,
        "documents": plan["documents"] if plan else [],
        "documents_cut": plan["documents_cut"] if plan else "",
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped[:50]] if cut.preexisting else [],
        "skipped_total": len(report.skipped),
        "version": __version__,
        "mode": report.mode,
        "base": short_rev(report.base),
        "head": short_rev(report.head),
        "cut": cut.describe(),
    }


def _settings(report: Report, link_base: str | None) -> dict[str, Any] | None:
    change = report.config_change
    if change is None or not change.says_something:
        return None
    words = settings_words(change)
    hidden = [{**finding_entry(h.finding, link_base, report, compact=True), "why": h.why}
              for h in change.hidden[:HIDDEN_SHOWN]]
    return {"lead": words.lead, "check": words.check, "hidden_lead": words.hidden,
            "changes": [{"key": c.key, "before": c.before, "after": c.after} for c in change.changes[:50]],
            "hidden": hidden, "hidden_more": max(0, len(change.hidden) - HIDDEN_SHOWN)}


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
    env.filters["text"] = functools.partial(md, html=True)
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
        bodies = (_tidy(str(template.render(**_context(report, link_base, Cut(level), key)))) for level in range(9))
        body = ""
        for body in bodies:
            if hidden not in body:
                body += f"\n{hidden}\n"
            if len(body) <= limit:
                return body
    except TemplateError as exc:
        raise BotError(f"the comment template does not render: {type(exc).__name__}: {exc}") from None
    return hard_cut(body, limit, hidden)


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
