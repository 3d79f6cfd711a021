"""`--format text`: for terminals. Colour only when asked (a TTY without NO_COLOR)."""

from __future__ import annotations

from bot.findings import Finding, Ref, Severity
from bot.plan import Plan, by_cluster, commands, stage_file, stage_files
from bot.render.summary import fix_first, nothing_found, plural, settings_words, short_rev, verdict
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
    if hint := nothing_found(report):
        out.append(f"hint: {hint}")
    if report.settings_changed and report.config_change:
        change = report.config_change
        words = settings_words(change)
        out += ["", bold("Settings"), f"  {words.lead}"]
        out += [f"    {c.key}: {c.before + ' -> ' if c.before else ''}{c.after}" for c in change.changes]
        out += [f"  {words.check}"] if words.check else []
        if change.hidden:
            out.append(f"  {words.hidden}")
            out += [f"    {h.finding.severity.value} {h.finding.rule}  {report.label(h.finding.resource)}  "
                    f"({h.finding.resource.file}:{h.finding.location_line}): {h.why}" for h in change.hidden]
    if report.changes:
        out += ["", bold("Changes")]
        names = [report.label(c.resource) for c in report.changes]
        width = max(len(name) for name in names)
        for c, name in zip(report.changes, names, strict=True):
            more = f" and {len(c.what) - 3} more" if len(c.what) > 3 else ""
            out.append(f"  {c.change:<9} {name:<{width}}  {', '.join(c.what[:3])}{more}  ({_where(c.resource)})")

    def finding_lines(f: Finding) -> list[str]:
        tag = paint(f"{f.severity.value.upper():<7}", _COLOURS[f.severity])
        lines = [f"  {tag} {f.rule}  {report.label(f.resource)}  ({_where(f.resource, f.location_line)})",
                 f"          {f.message}"]
        if f.fix:
            lines.append(f"          fix: {f.fix}")
        if f.related:
            lines.append("          related: " + ", ".join(f"{report.label(r)} ({r.file}:{r.line})" for r in f.related))
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
            out.append(f"  {f.severity.value:<7} {f.rule}  {report.label(f.resource)}  "
                       f"({f.resource.file}:{f.location_line})")
    plan = report.plan
    if plan.stages or plan.left_out:
        out += ["", bold("Rollout")]
        for cluster, part in by_cluster(plan):
            indent = "  " if cluster else ""
            if cluster:
                out.append(f"  cluster {cluster}")
            out += [indent + line for line in _rollout(report, part, cluster)]
        if stage_files(plan):
            name = "CLUSTER/stage-N.yaml" if report.targets else "stage-N.yaml"
            out.append(f"  {name}: documents no repository file holds as they are (--plan-dir writes them)")
    if report.skipped:
        out += ["", bold(f"Skipped ({plural(len(report.skipped), 'file')})")]
        for s in report.skipped:
            out.append(f"  notice  {s.file}: {s.reason}")
    if report.targets:
        out += ["", bold("Targets")]
        shown = [t for t in report.targets if t.status != "unchanged"]
        for t in shown:
            reason = f": {t.reason}" if t.reason else ""
            out.append(f"  {t.status:<13} {t.name} ({t.kind}, cluster {t.cluster}, {t.path}){reason}")
        left = len(report.targets) - len(shown)
        if left:
            out.append(f"  {plural(left, 'target')} in clusters this change does not touch: not read")
    if report.disabled:
        out += ["", f"Rules disabled by config: {', '.join(report.disabled)}"]
    return "\n".join(out) + "\n"


def _where(ref: Ref, line: int | None = None) -> str:
    place = f"; {ref.placement}" if ref.placement else ""
    return f"{ref.file}:{line or ref.line}{place}"


def _rollout(report: Report, plan: Plan, cluster: str) -> list[str]:
    """One cluster's plan (the whole plan when the repository has no targets)."""
    out = []
    if plan.left_out:
        out.append(f"  {fix_first(report, cluster if report.targets else None)}")
        out += [f"    {report.label(r)}  ({r.file})" for r in plan.left_out]
    if plan.stages and not plan.staged:
        out.append("  No ordering hazard: apply in one step.")
    for i, stage in enumerate(plan.stages, start=1):
        if plan.staged:
            out.append(f"  {i}. {stage.title}")
            for step in stage.steps:
                where = stage_file(i, cluster) if step.generated else step.resource.file
                why = [step.note] if step.note else [step.generated] if step.generated else []
                note = f" ({'; '.join(why)})" if why else ""
                out.append(f"       {step.action:<6} {report.label(step.resource)}  {where}{note}")
        out += [f"       note: {note}" for note in stage.notes]
        out += [f"     $ {command}" for command in commands(stage, i)]
        if stage.wait:
            out.append(f"     then wait: {stage.wait}")
    return out
