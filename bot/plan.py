"""The staged apply plan, as values: what a report carries and `--plan-dir` writes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Ref


@dataclass(frozen=True)
class Step:
    action: str  # apply | delete
    resource: Ref  # as at head (apply) or base (delete)
    source: str  # the document to apply or delete, as written
    note: str = ""


@dataclass(frozen=True)
class Stage:
    title: str
    steps: tuple[Step, ...]
    wait: str | None
    notes: tuple[str, ...] = ()

    @property
    def apply(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action == "apply")

    @property
    def delete(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action == "delete")


@dataclass(frozen=True)
class Plan:
    stages: tuple[Stage, ...]

    @property
    def staged(self) -> bool:
        return len(self.stages) > 1


def stage_files(plan: Plan) -> dict[str, str]:
    """File name -> content for --plan-dir: each stage's documents exactly as written at head."""
    out = {}
    for i, stage in enumerate(plan.stages, start=1):
        for action, suffix in (("apply", ""), ("delete", ".delete")):
            docs = [s.source if s.source.startswith("---") else "---\n" + s.source
                    for s in stage.steps if s.action == action]
            if docs:
                out[f"stage-{i}{suffix}.yaml"] = "".join(d if d.endswith("\n") else d + "\n" for d in docs)
    return out
