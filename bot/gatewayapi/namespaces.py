"""Label selectors on Namespaces, answered from the repository, or "unknown".

`allowedRoutes.namespaces.from: Selector` picks route namespaces by their labels (gateway-api
`apis/v1/gateway_types.go` RouteNamespaces). Istio runs the selector over the Namespace objects it sees,
with `kubernetes.io/metadata.name` always set to the name (istio
`pilot/pkg/config/kube/gateway/conversion.go` namespacesFromSelector, toNamespaceSet); a selector that is
missing allows every namespace. The bot knows a Namespace's labels only when the repository defines it;
otherwise only that one label is known, and a requirement on any other label is unknown (None).
"""

from __future__ import annotations

from typing import Any

from bot.gatewayapi.kinds import NAME_LABEL
from bot.values import as_dict, as_list, as_str


def labels_of(name: str, written: dict[str, str] | None) -> dict[str, str] | None:
    """The labels Kubernetes gives a Namespace; None when the repository does not define it."""
    if written is None:
        return None
    return {**written, NAME_LABEL: name}


def _requirement(key: str, op: str, values: list[str], labels: dict[str, str]) -> bool:
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False  # an unknown operator: the selector is invalid and selects nothing


def selects(selector: dict[str, Any], name: str, labels: dict[str, str] | None) -> bool | None:
    """Whether the selector picks the Namespace `name`; None when that depends on unknown labels."""
    known = labels if labels is not None else {NAME_LABEL: name}
    answers: list[bool | None] = []
    for key, value in as_dict(selector.get("matchLabels")).items():
        key = str(key)
        if labels is None and key != NAME_LABEL:
            answers.append(None)
        else:
            answers.append(known.get(key) == as_str(value))
    for raw in as_list(selector.get("matchExpressions")):
        expr = as_dict(raw)
        key = as_str(expr.get("key")) or ""
        op = as_str(expr.get("operator")) or ""
        values = [v for v in (as_str(x) for x in as_list(expr.get("values"))) if v is not None]
        if labels is None and key != NAME_LABEL:
            answers.append(None)
        else:
            answers.append(_requirement(key, op, values, known))
    if False in answers:
        return False
    if None in answers:
        return None
    return True
