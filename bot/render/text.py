"""`--format text`: for terminals. Colour only when asked (a TTY without NO_COLOR)."""

from __future__ import annotations

from bot.findings import Finding, Severity
from bot.render.summary import plural, short_rev, verdict
from bot.report import Report

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTICE: "36"}


def render(report: Report, colour: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    def bold(text: str) -> str:
        return paint(text, "1")

    out: list[str] = []
    head = short_rev(report.head)
    where = f"{short_rev(report.base) or '-'}..{head}" if report.mode == "diff" else head
    out.append(bold(f"istio-pr-bot {report.mode} {where}: {verdict(report)}"))
    if report.changes:
        out += ["", bold("Changes")]
        names = [f"{c.resource.kind} {c.resource.namespace}/{c.resource.name}" for c in report.changes]
        width = max(len(name) for name in names)
        for c, name in zip(report.changes, names, strict=True):
            where = f"{c.resource.file}:{c.resource.line}"
            out.append(f"  {c.change:<9} {name:<{width}}  {', '.join(c.what[:3])}  ({where})")

    def finding_lines(f: Finding) -> list[str]:
        tag = paint(f"{f.severity.value.upper():<7}", _COLOURS[f.severity])
        lines = [f"  {tag} {f.rule}  {f.resource.display}  ({f.resource.file}:{f.location_line})",
                 f"          {f.message}"]
        if f.fix:
            lines.append(f"          fix: {f.fix}")
        if f.related:
            lines.append("          related: " + ", ".join(f"{r.display} ({r.file}:{r.line})" for r in f.related))
        return lines

    introduced, earlier = report.headline(), report.earlier()
    if introduced:
        out += ["", bold("Findings introduced by this change" if report.mode == "diff" else "Findings")]
        for f in introduced:
            out += finding_lines(f)
    if earlier:
        out += ["", bold(f"Pre-existing findings ({len(earlier)}), not caused by this change")]
        for f in earlier:
            out += finding_lines(f)
    if report.suppressed:
        out += ["", bold(f"Suppressed ({len(report.suppressed)}) by annotation istio-pr-bot.io/ignore")]
        for suppressed in report.suppressed:
            f = suppressed.finding
            out.append(f"  {f.severity.value:<7} {f.rule}  {f.resource.display}  ({f.resource.file}:{f.location_line})")
    if report.plan.stages:
        out += ["", bold("Rollout")]
        if not report.plan.staged:
            out.append("  No ordering hazard: apply in one step.")
        else:
            for i, stage in enumerate(report.plan.stages, start=1):
                out.append(f"  {i}. {stage.title}")
                for action, suffix in (("apply", ""), ("delete", ".delete")):
                    chosen = [s for s in stage.steps if s.action == action]
                    if not chosen:
                        continue
                    out.append(f"       kubectl {action} -f stage-{i}{suffix}.yaml")
                    for step in chosen:
                        note = f" ({step.note})" if step.note else ""
                        out.append(f"         {step.resource.display}  {step.resource.file}{note}")
                for note in stage.notes:
                    out.append(f"       note: {note}")
                if stage.wait:
                    out.append(f"     then wait: {stage.wait}")
    if report.skipped:
        out += ["", bold(f"Skipped ({plural(len(report.skipped), 'file')})")]
        for s in report.skipped:
            out.append(f"  notice  {s.file}: {s.reason}")
    if report.disabled:
        out += ["", f"Rules disabled by config: {', '.join(report.disabled)}"]
    return "\n".join(out) + "\n"

