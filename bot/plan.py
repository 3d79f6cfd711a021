"""The staged apply plan, as values: what a report carries and `--plan-dir` writes."""

from __future__ import annotations

import re
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
    cluster: str = ""  # the cluster the stage is applied to ("" when the repository is one plain tree)

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


def cluster_folder(cluster: str) -> str:
    """The folder of a cluster's stage files: its name, with anything but letters, digits, `.`, `_`
    and `-` replaced ("" when the repository has no targets: the stage files are at the top)."""
    if not cluster:
        return ""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", cluster).lstrip(".")
    return (name or "_") + "/"


def stage_files(plan: Plan) -> dict[str, str]:
    """File name -> content for --plan-dir: each stage's documents exactly as written at head (or as
    rendered), numbered per cluster, in a folder per cluster when the repository has targets."""
    out = {}
    numbers: dict[str, int] = {}
    for stage in plan.stages:
        i = numbers[stage.cluster] = numbers.get(stage.cluster, 0) + 1
        folder = cluster_folder(stage.cluster)
        for action, suffix in (("apply", ""), ("delete", ".delete")):
            docs = [s.source if s.source.startswith("---") else "---\n" + s.source
                    for s in stage.steps if s.action == action]
            if docs:
                out[f"{folder}stage-{i}{suffix}.yaml"] = "".join(d if d.endswith("\n") else d + "\n" for d in docs)
    return out
