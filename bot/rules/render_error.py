"""render-error: a deploy target's chart or kustomization does not render."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Ref, RenderProblem, Severity

ID = "render-error"
SEVERITY = Severity.ERROR
SUMMARY = "A deploy target's chart or kustomization does not render"
GUIDANCE = "https://kubernetes.io/docs/tasks/manage-kubernetes-objects/kustomization/"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "`helm template` or `kustomize build` fails for a target (a missing file, a template error, values that "
    "break the chart). Argo CD and Flux fail the sync the same way, so nothing of the target is applied and "
    "the cluster keeps what it runs: the review reads the target as it is at the base, and the finding "
    "quotes the first lines of the renderer's message. A target that did not render at the base but does "
    "at head is a notice: its resources are compared with nothing."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    "fluxcd/kustomize-controller: a build that fails marks the Kustomization Ready=False with reason "
    "BuildFailed and applies nothing",
    "argoproj/argo-cd: manifests that cannot be generated put a ComparisonError condition on the Application "
    "and nothing is synced",
)


def _ref(problem: RenderProblem) -> Ref:
    return Ref("Target", "", problem.target, problem.file, 1, problem.target, problem.cluster)


def check(ctx: Context) -> Iterator[Finding]:
    failing = {(p.target, p.cluster) for p in ctx.render_errors}
    for problem in ctx.render_errors:
        yield Finding(ID, SEVERITY, f"does not render: {problem.message}", _ref(problem),
                      fix="run the renderer locally (istio-pr-bot targets shows the command) and fix the error; "
                          "until then the cluster keeps the base revision of this target",
                      detail=problem.target)
    if ctx.base is None:
        return
    for problem in ctx.base_render_errors:
        if (problem.target, problem.cluster) not in failing:
            first = problem.message.splitlines()[0] if problem.message else "no message"
            yield Finding(ID, Severity.NOTICE, f"did not render at the base revision ({first}); it renders now, "
                          "so all of its resources are compared with nothing", _ref(problem),
                          detail=f"base:{problem.target}")
