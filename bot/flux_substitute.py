"""Flux post-build substitution with literal values (`spec.postBuild.substitute`), on rendered
output. Pure.

As kustomize-controller does it (fluxcd/pkg `kustomize/kustomize_varsub.go`
`SubstituteVariables`, `envsubst/parse/scan.go`): only `${...}` is an expression; `$$` is a
literal `$`; an object labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`
is left alone; with no variables nothing is substituted (`substituteStrategy: WithVariables`); an
unset variable without a default fails (the StrictPostBuildSubstitutions feature gate, on by
default). Supported: `${var}`, `${var:-default}`, `${var-default}`, `${var:=default}`,
`${var=default}` with literal defaults; other forms are reported, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.inputs import read_yaml
from bot.rendered import split

DISABLED = "kustomize.toolkit.fluxcd.io/substitute"
NAME = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")  # varsubRegex
_EXPRESSION = re.compile(r"\$\$|\$\{([^{}]*)\}")
_DEFAULT = re.compile(r"^([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-=])(.*))?$", re.DOTALL)


def substitute(output: str, variables: Mapping[str, str]) -> tuple[str, str | None]:
    """The output with variables substituted, and the first problem (None when there is none)."""
    bad = next((name for name in variables if not NAME.match(name)), None)
    if bad is not None:
        return output, f"'{bad}' var name is invalid, must match '{NAME.pattern}'"
    if not variables:
        return output, None
    documents = []
    for text in split(output):
        if _disabled(text):
            documents.append(text)
            continue
        result, problem = _expand(text, variables)
        if problem is not None:
            return output, problem
        documents.append(result)
    return "---\n".join(documents), None


def _expand(text: str, variables: Mapping[str, str]) -> tuple[str, str | None]:
    problems: list[str] = []

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        expression = match.group(1)
        parsed = _DEFAULT.match(expression)
        if parsed is None:
            problems.append(f"substitution ${{{expression}}} is not evaluated offline")
            return match.group(0)
        name, operator, default = parsed.groups()
        value = variables.get(name)
        if operator is None:
            if value is None:
                problems.append(f"variable not set (strict mode): {name}")
                return ""
            return value
        if value is None or (operator.startswith(":") and value == ""):
            return default
        return value

    result = _EXPRESSION.sub(one, text)
    return result, problems[0] if problems else None


def _disabled(text: str) -> bool:
    doc = read_yaml(text)[0]
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    if not isinstance(metadata, dict):
        return False
    return any(isinstance(metadata.get(k), dict) and metadata[k].get(DISABLED) == "disabled"
               for k in ("labels", "annotations"))
