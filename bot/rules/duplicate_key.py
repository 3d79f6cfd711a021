"""duplicate-key: a mapping in a manifest repeats a key."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import DUPLICATE_KEY, Finding, Ref, Severity

ID = "duplicate-key"
SEVERITY = Severity.ERROR
SUMMARY = "A mapping in a manifest repeats a key: kubectl keeps the last value, kustomize refuses the file"
GUIDANCE = "https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/"
DIFF_ONLY = False
READS: tuple[str, ...] = ()
WHY = (
    "A key written twice in one mapping (after YAML's reading: on and true are the same key) is not an "
    "error to kubectl: sigs.k8s.io/yaml keeps the last value and silently drops the first "
    "(kubernetes/kubernetes#125885), so what applies is not what the first occurrence says. Tools built "
    "on go-yaml v3, kustomize and with it Flux and kubectl apply -k, refuse the whole file ('mapping key "
    "already defined'). The review reads the file as kubectl does (the last value) and reports each "
    "repeated key with both lines; it is an error by default because either way what the author wrote is "
    "not what the cluster gets."
)
SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'sigs.k8s.io/yaml over go-yaml v2: a repeated key keeps the last value (kubernetes/kubernetes#125885)',
    'go-yaml v3 (kustomize\'s kyaml): "mapping key already defined"',
)


def check(ctx: Context) -> Iterator[Finding]:
    for problem in ctx.problems:
        if problem.kind != DUPLICATE_KEY:
            continue
        ref = Ref("File", "", problem.file, problem.file, problem.line)
        yield Finding(ID, SEVERITY, f"{problem.reason}: kubectl keeps only the last value and silently drops the "
                      "first; kustomize (Flux, kubectl apply -k) refuses a file that writes a key twice", ref,
                      fix="keep one occurrence of the key", detail=problem.reason.split(" (")[0])
