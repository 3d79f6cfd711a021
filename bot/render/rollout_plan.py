"""A plan as the comment's `rollout` macro shows it: the stages with their commands and waits, the
resources each applies, and the generated documents."""

from __future__ import annotations

from typing import Any

from bot.findings import Severity
from bot.plan import Plan, Stage, Step, cluster_folder, commands, stage_file, stage_files
from bot.render.cutting import Cut
from bot.render.md_text import md
from bot.render.summary import plural
from bot.report import Report

LEFT_OUT_SHOWN = 12  # resources named in the plan's "fix first" line


def rollout_plan(report: Report, plan: Plan, cut: Cut, cluster: str = "", scope: str = "") -> dict[str, Any]:
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


def _stage(index: int, stage: Stage, cut: Cut, report: Report) -> dict[str, Any]:
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
