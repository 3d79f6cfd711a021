"""The staged apply plan, as values: what a report carries and `--plan-dir` writes."""

from __future__ import annotations

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


def stage_file(index: int) -> str:
    """The name of stage `index`'s generated documents (1-based)."""
    return f"stage-{index}.yaml"


def stage_files(plan: Plan) -> dict[str, str]:
    """File name -> content: each stage's generated documents, as written at head (comments kept).
    What a stage applies from repository files as they are is not repeated here."""
    out = {}
    for i, stage in enumerate(plan.stages, start=1):
        docs = [s.source if s.source.startswith("---") else "---\n" + s.source for s in stage.generated]
        if docs:
            out[stage_file(i)] = "".join(d if d.endswith("\n") else d + "\n" for d in docs)
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
    """The shell commands of stage `index` (1-based), without its wait. Every name is quoted for the
    shell: a manifest can name a resource anything."""
    out = [f"kubectl apply -f {quote(file)}" for file in stage.files]
    if stage.generated:
        out.append(f"kubectl apply -f {stage_file(index)}")
    out += [f"kubectl delete {delete_target(s.resource)}" for s in stage.delete]
    return out
