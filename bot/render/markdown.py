"""`--format markdown`: the review comment, rendered from `bot/templates/comment.md.j2`.

With deploy targets, each target the change touches (or that has findings, or could not be read)
gets a section: its errors, its cluster's plan (in the last section of the cluster), what may be
skipped. Clusters come in the order of their worst finding, errors first.

Every value that comes from a manifest is escaped: it can produce no raw HTML, @mention, #reference,
link, broken table row or broken code span. The body stays under GitHub's comment limit by cutting,
in order, the changed-resource table, notices, pre-existing findings, warnings beyond the first
ones and per-stage detail; never the verdict, the errors or the plan's headlines.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot import __version__
from bot.errors import BotError
from bot.findings import Finding, Ref, Severity
from bot.kinds import display
from bot.plan import Plan, Stage, Step, by_cluster, cluster_folder, commands, stage_file, stage_files
from bot.render.summary import max_severity, nothing_found, plural, settings_words, short_rev, verdict
from bot.report import ChangedResource, Report, TargetRow
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


def md(value: object, limit: int = MAX_VALUE, html: bool = False) -> str:
    """Escape a value for Markdown prose or a table cell (`html`: for text inside an HTML element such
    as <summary>, where Markdown is not read, so nothing is backslash-escaped)."""
    text = " ".join(str(value).split())  # no line breaks: nothing can end a table row or start a block
    text = re.sub(r"\S{121,}", lambda m: m[0][:80] + "…" + m[0][-30:], text)  # no endless words
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;")
    text = text.replace('"', "&quot;") if html else _SPECIAL.sub(r"\\\1", text)
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


def _groups(report: Report, found: Sequence[Finding], link_base: str | None, cut: _Cut) -> list[dict[str, Any]]:
    """Findings by severity, as far as the cut level lets them be shown."""
    groups = []
    for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTICE):
        chosen = [f for f in found if f.severity is severity]
        if not chosen:
            continue
        limit = {Severity.ERROR: cut.max_errors, Severity.WARNING: cut.max_warnings,
                 Severity.NOTICE: None if cut.notices else 0}[severity]
        shown = chosen if limit is None else chosen[:limit]
        title = _TITLES[severity] + (" introduced by this change" if report.mode == "diff" else "")
        groups.append({"severity": severity.value, "icon": _ICONS[severity], "title": title, "count": len(chosen),
                       "findings": [_finding(f, link_base, report, compact=cut.level >= 8) for f in shown],
                       "hidden": len(chosen) - len(shown)})
    return groups


def _folded(report: Report, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Errors stay open; warnings and notices fold behind one line when errors lead (anywhere in the
    comment), or when they are many."""
    others = [g for g in groups if g["severity"] != "error"]
    errors = any(f.severity is Severity.ERROR for f in report.headline())
    fold = len(others) > 0 and (errors or sum(g["count"] for g in others) > FOLD_OVER)
    collapsed = others if fold else []
    return {
        "groups": [g for g in groups if g not in collapsed],
        "collapsed": collapsed,
        "collapsed_summary": " and ".join(f"{g['icon']} {plural(g['count'], g['severity'])}" for g in collapsed)
        + (" introduced by this change" if report.mode == "diff" else ""),
    }


def _change_rows(report: Report, changes: Sequence[ChangedResource], link_base: str | None,
                 cut: _Cut) -> dict[str, Any]:
    rows = changes if cut.changes_rows is None else changes[: cut.changes_rows]
    return {
        "changes": [
            {"icon": _CHANGE_ICONS[c.change], "change": c.change,
             "kind": display(c.resource.kind, frozenset(report.qualified)),
             "namespace": c.resource.namespace, "name": c.resource.name, "what": _what(c.what),
             "file_link": _location(c.resource, c.resource.line, link_base)}
            for c in rows
        ],
        "changes_total": len(changes),
        "changes_hidden": len(changes) - len(rows),
    }


def _plan(report: Report, plan: Plan, cut: _Cut, cluster: str = "", scope: str = "") -> dict[str, Any]:
    """One plan (with deploy targets, `cluster`'s) as the `rollout` macro shows it; `scope` names the
    cluster and, when several targets share it, those targets."""
    errors = [f for f in report.headline()
              if f.severity is Severity.ERROR and (not report.targets or f.resource.cluster == cluster)]
    files = stage_files(plan)
    return {
        "scope": scope,
        "error_count": plural(len(errors), "error"),
        "left_out": [report.label(r) for r in plan.left_out[:LEFT_OUT_SHOWN]],
        "left_out_more": max(0, len(plan.left_out) - LEFT_OUT_SHOWN),
        "stages": [_stage(i, st, cut, report) for i, st in enumerate(plan.stages, start=1)],
        "staged": plan.staged,
        "documents": [_document(i, st, files, report) for i, st in enumerate(plan.stages, start=1)
                      if st.generated] if cut.documents else [],
        "documents_cut": ", ".join(files) if not cut.documents else "",
        "stage_files": f"{cluster_folder(cluster)}stage-N.yaml",
    }


def _sections(report: Report, link_base: str | None,
              cut: _Cut) -> tuple[list[dict[str, Any]], list[Finding], list[dict[str, Any]]]:
    """A section per target the change touches, or that has findings, or that could not be read (the
    clusters with the worst findings first), each cluster's plan in the cluster's last section; the
    findings that belong to no section; and the plans of clusters that have none."""
    headline = report.headline()

    def of(ref: Ref, t: TargetRow) -> bool:
        return (ref.target, ref.cluster) == (t.name, t.cluster)

    shown = [t for t in report.targets if t.touched or t.status in ("not reviewed", "render error")
             or any(of(c.resource, t) for c in report.changes) or any(of(f.resource, t) for f in headline)]
    mine: list[list[Finding]] = [[] for _ in shown]
    unplaced = []
    for f in headline:  # its target's section, else the first of its cluster's (a file that does not parse)
        where = next((i for i, t in enumerate(shown) if of(f.resource, t)),
                     next((i for i, t in enumerate(shown) if f.resource.cluster and t.cluster == f.resource.cluster),
                          None))
        if where is None:
            unplaced.append(f)
        else:
            mine[where].append(f)
    # Clusters by their worst finding (errors first); the targets of one cluster stay together.
    clusters = list(dict.fromkeys(t.cluster for t in shown))
    worst = dict.fromkeys(clusters, 0)
    for t, found in zip(shown, mine, strict=True):
        worst[t.cluster] = max([worst[t.cluster], *(f.severity.rank for f in found)])
    order = sorted(range(len(shown)), key=lambda i: (-worst[shown[i].cluster], clusters.index(shown[i].cluster)))
    plans = dict(by_cluster(report.plan))
    last = {shown[i].cluster: i for i in order}
    sections = []
    for i in order:
        t, found = shown[i], mine[i]
        changes = [c for c in report.changes if of(c.resource, t)]
        top = max((f.severity for f in found), key=lambda s: s.rank, default=None)
        counts = [plural(sum(1 for f in found if f.severity is s), s.value)
                  for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE)]
        counts = [c for c in counts if not c.startswith("0 ")]
        summary = "not reviewed" if t.status == "not reviewed" else (
            f"{', '.join(counts) or 'no findings'}, {plural(len(changes), 'changed Istio resource')}")
        plan = plans.pop(t.cluster, None) if last[t.cluster] == i else None
        sharing = [s.name for s in shown if s.cluster == t.cluster]
        scope = f"cluster {t.cluster}" + (f" (targets {', '.join(sharing)})" if len(sharing) > 1 else "")
        sections.append({
            "name": t.name, "cluster": t.cluster, "kind": t.kind, "path": t.path, "status": t.status,
            "reason": t.reason, "summary": summary,
            "icon": "⏭️" if t.status == "not reviewed" else _ICONS[top] if top else "✅",
            "title": f"{t.name} · cluster {t.cluster}" if t.name != t.cluster else f"cluster {t.cluster}",
            **_folded(report, _groups(report, found, link_base, cut)),
            **_change_rows(report, changes, link_base, cut),
            "plan": _plan(report, plan, cut, t.cluster, scope) if plan else None,
        })
    left = [_plan(report, plan, cut, cluster, f"cluster {cluster}") for cluster, plan in plans.items()]
    return sections, unplaced, left


def _context(report: Report, link_base: str | None, cut: _Cut, key: str) -> dict[str, Any]:
    headline, earlier = report.headline(), report.earlier()
    sections, unplaced, plans = _sections(report, link_base, cut) if report.targets else ([], headline, [])
    top = max_severity(report)
    word = {Severity.ERROR: "Not safe to merge as is", Severity.WARNING: "Review before merging",
            Severity.NOTICE: "Safe to merge", None: "Safe to merge"}[top]
    icon = _ICONS[top] if top else "✅"
    if report.not_reviewed() and (top is None or top is Severity.NOTICE):
        icon, word = "⏭️", "Not fully reviewed"  # targets that could not be read never leave a green verdict
    hint = nothing_found(report)
    if hint:
        icon, word = "⚠️", "Nothing reviewed"
    pre_shown = earlier if cut.preexisting else []
    # Without deploy targets the plan is the comment's; with them, each cluster's is in its section.
    plan = None if report.targets else _plan(report, report.plan, cut)
    return {
        "marker": marker(key),
        "key": key,
        "verdict": verdict(report),
        "verdict_icon": icon,
        "verdict_word": word,
        "hint": hint[:1].upper() + hint[1:],
        "settings": _settings(report, link_base),
        **_change_rows(report, () if report.targets else report.changes, link_base, cut),  # with targets: per target
        "changes_open": False,
        **_folded(report, _groups(report, unplaced, link_base, cut)),
        "targets": sections,
        "targets_not_reviewed": [{"name": t.name, "cluster": t.cluster, "reason": t.reason}
                                 for t in report.not_reviewed()],
        "targets_unchanged": sum(1 for t in report.targets if t.status == "unchanged"),
        "preexisting": [_finding(f, link_base, report) for f in pre_shown],
        "preexisting_total": len(earlier),
        "preexisting_hidden": len(earlier) - len(pre_shown) if pre_shown else 0,
        "suppressed": [_finding(s.finding, link_base, report) for s in report.suppressed] if cut.preexisting else [],
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
        return f" (transition version, in {stage_file(index, step.resource.cluster)})"
    if step.generated:
        return f" (in {stage_file(index, step.resource.cluster)}: {md(step.generated)})"
    return ""


def _document(index: int, stage: Stage, files: dict[str, str], report: Report) -> dict[str, Any]:
    about = []
    for step in stage.generated:
        if step.note.startswith("transition"):
            about.append(f"{report.label(step.resource)}, {step.note}")
        elif step.generated.startswith("rendered"):
            about.append(f"{report.label(step.resource)} as {step.generated}")
        else:
            about.append(f"{report.label(step.resource)} as written in {step.resource.file}")
    name = stage_file(index, stage.cluster)
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
