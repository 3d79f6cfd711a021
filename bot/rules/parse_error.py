"""parse-error: a file the change touches is not valid YAML."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Ref, Severity

ID = "parse-error"
SEVERITY = Severity.ERROR
SUMMARY = "A manifest file is not valid YAML"
GUIDANCE = "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "A file the PR touches is not valid YAML (including duplicate keys, which kubectl rejects). kubectl and "
    "GitOps tools refuse the whole file, so none of its resources will be applied. The review leaves the "
    "file's resources out on both sides rather than reporting them as removed."
)


def check(ctx: Context) -> Iterator[Finding]:
    for problem in ctx.problems:
        ref = Ref("File", "", problem.file, problem.file, problem.line)
        yield Finding(ID, SEVERITY, f"is not valid YAML: {problem.reason} (line {problem.line}); "
                      "kubectl and Argo CD will refuse the whole file, and this review leaves its resources out", ref,
                      fix="fix the YAML syntax", detail=problem.file)
