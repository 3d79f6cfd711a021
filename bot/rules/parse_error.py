"""parse-error: a file the change touches is one kubectl refuses to read."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import REFUSED, Finding, Ref, Severity

ID = "parse-error"
SEVERITY = Severity.ERROR
SUMMARY = "A manifest file is one that kubectl refuses to read"
GUIDANCE = "https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "kubectl cuts a file into documents at lines starting with --- and converts each with sigs.k8s.io/yaml; "
    "a file it cannot read is refused whole, so none of its resources are applied. The bot reports exactly "
    "those files: content after --- on the separator line, %YAML/%TAG directives (cut off their document), "
    "tab indentation, unknown escapes (\\/ included), .inf/.nan, null or collection keys, invalid UTF-8 and "
    "other YAML errors; and leaves the file's resources out on both sides rather than reporting them as "
    "removed. Shapes kubectl reads are read the same way and not reported: IPv6 addresses in flow lists, "
    "y/n/on/off as booleans, 0777 as octal, a second document after ... (ignored by kubectl, which the "
    "review notes), repeated keys (duplicate-key). tests/kubectl-yaml holds the shapes and what kubectl "
    "makes of them."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'k8s.io/apimachinery pkg/util/yaml/decoder.go YAMLReader.Read, YAMLOrJSONDecoder (documents, JSON streams)',
    'k8s.io/cli-runtime pkg/resource/visitor.go StreamVisitor.Visit (a file is read whole or refused)',
    'sigs.k8s.io/yaml over go-yaml v2 resolve.go, scannerc.go (types of plain scalars, what JSON cannot hold)',
    'tests/kubectl-yaml: the shapes and what kubectl makes of them',
)


def check(ctx: Context) -> Iterator[Finding]:
    for problem in ctx.problems:
        if problem.kind != REFUSED:
            continue
        ref = Ref("File", "", problem.file, problem.file, problem.line)
        yield Finding(ID, SEVERITY, f"is not valid YAML: {problem.reason} (line {problem.line}); "
                      "kubectl and Argo CD will refuse the whole file, and this review leaves its resources out", ref,
                      fix="fix the YAML syntax", detail=problem.file)
