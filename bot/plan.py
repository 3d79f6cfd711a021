"""The staged apply plan, as values: what a report carries and `--plan-dir` writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from shlex import quote

from bot.findings import Ref
from bot.kinds import KINDS


@dataclass(frozen=True)
class Step:
    action: str  # apply | delete
    resource: Ref  # as at head (apply) or base (delete)
    source: str  # the document to apply or delete, as written
    note: str = ""
    wait: str = ""  # the command that waits for this step to take effect, when its kind has its own
    generated: str = ""  # why the document comes from stage-N.yaml, not a repository file as it is ('' if not)


@dataclass(frozen=True)
class Stage:
    title: str
    steps: tuple[Step, ...]
    wait: str | None
    notes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # repository files applied as they are (kubectl apply -f FILE)
    cluster: str = ""  # the cluster the stage is applied to ("" when the repository is one plain tree)

    @property
    def apply(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action == "apply")

    @property
    def delete(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action == "delete")

    @property
    def generated(self) -> tuple[Step, ...]:
        """The steps whose documents are not a repository file as it is."""
        return tuple(s for s in self.steps if s.generated)


@dataclass(frozen=True)
class Plan:
    stages: tuple[Stage, ...]
    left_out: tuple[Ref, ...] = ()  # changed resources (and broken files) held back until errors are fixed

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


def stage_file(index: int, cluster: str = "") -> str:
    """The name of stage `index`'s generated documents (1-based, counted per cluster), in the
    cluster's folder when the repository has targets."""
    return f"{cluster_folder(cluster)}stage-{index}.yaml"


def by_cluster(plan: Plan) -> list[tuple[str, Plan]]:
    """Each cluster's plan, in order: its stages and what it leaves out (one, cluster "", when the
    repository has no targets). A cluster's stages are numbered from 1."""
    clusters = dict.fromkeys([s.cluster for s in plan.stages] + [r.cluster for r in plan.left_out])
    return [(c, Plan(tuple(s for s in plan.stages if s.cluster == c),
                     tuple(r for r in plan.left_out if r.cluster == c))) for c in clusters]


def numbered(plan: Plan) -> list[tuple[int, Stage]]:
    """Each stage with its number, counted per cluster (each cluster's plan starts at stage 1)."""
    numbers: dict[str, int] = {}
    out = []
    for stage in plan.stages:
        numbers[stage.cluster] = numbers.get(stage.cluster, 0) + 1
        out.append((numbers[stage.cluster], stage))
    return out


def stage_files(plan: Plan) -> dict[str, str]:
    """File name -> content: each stage's generated documents, as written at head (comments kept) or
    as rendered, in a folder per cluster when the repository has targets. What a stage applies from
    repository files as they are is not repeated here."""
    out = {}
    for i, stage in numbered(plan):
        docs = [s.source if s.source.startswith("---") else "---\n" + s.source for s in stage.generated]
        if docs:
            out[stage_file(i, stage.cluster)] = "".join(d if d.endswith("\n") else d + "\n" for d in docs)
    return out


def delete_target(ref: Ref) -> str:
    """`kubectl delete` arguments naming one resource, with its API group spelled out (a Gateway
    API Gateway is not an Istio Gateway)."""
    kind = next((k for k in KINDS if k.name == ref.kind), None)
    written = kind.manifest_kind.lower() if kind else ref.kind.lower()
    resource = f"{written}.{kind.group}" if kind and kind.group else written
    namespace = f"-n {quote(ref.namespace)} " if ref.namespace else ""
    return f"{namespace}{quote(f'{resource}/{ref.name}')}"


def commands(stage: Stage, index: int) -> list[str]:
    """The shell commands of stage `index` (1-based, counted in its cluster), without its wait. Every
    name is quoted for the shell: a manifest can name a resource anything."""
    out = [f"kubectl apply -f {quote(file)}" for file in stage.files]
    if stage.generated:
        out.append(f"kubectl apply -f {quote(stage_file(index, stage.cluster))}")
    out += [f"kubectl delete {delete_target(s.resource)}" for s in stage.delete]
    return out
