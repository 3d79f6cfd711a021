"""Which of two objects is older, when the repository can tell.

The Gateway API breaks ties between routes, and between ListenerSets, by creation time, then by
`{namespace}/{name}` (gateway-api `apis/v1/httproute_types.go` HTTPRouteRule, `listenerset_types.go`;
istio `pilot/pkg/config/kube/gateway/conversion.go` sortRoutesByCreationTime,
`gatewaycommon/listener_conflict.go` orderedMergedListeners). Manifests rarely carry
`creationTimestamp`; what a change adds is created after everything already there, and a delete and
re-create (a rename, a move to another namespace) makes an object the youngest. Between two objects
that were both there before, or both come with the change, the repository cannot tell.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.gatewayapi.objects import creation_timestamp
from bot.gatewayapi.snapshot import Snapshot
from bot.resource import Resource


class How(enum.Enum):
    TIMESTAMP = "creationTimestamp"
    CHANGE = "this change creates this one"
    NAME = "created together, so namespace/name order decides"
    UNKNOWN = "the repository cannot tell which is older"


@dataclass(frozen=True)
class Order:
    first: Resource | None  # the one that takes precedence; None when unknown
    how: How


def _name(res: Resource) -> str:
    return f"{res.namespace}/{res.name}"


def order(a: Resource, b: Resource, base: Snapshot | None, *, audit_by_name: bool = False) -> Order:
    """Which of `a` and `b` is older (takes precedence). `base` is the PR's base (None in an audit).

    `audit_by_name`: without a base, fall back to namespace/name order (as for objects applied together)
    instead of saying "unknown".
    """
    ta, tb = creation_timestamp(a), creation_timestamp(b)
    by_name = a if _name(a) <= _name(b) else b
    if ta and tb:
        return Order(a if ta < tb else b, How.TIMESTAMP) if ta != tb else Order(by_name, How.NAME)
    if base is None:
        return Order(by_name, How.NAME) if audit_by_name else Order(None, How.UNKNOWN)
    new_a, new_b = base.get(*a.key) is None, base.get(*b.key) is None
    if new_a != new_b:
        return Order(b if new_a else a, How.CHANGE)
    if new_a and new_b:
        return Order(by_name, How.NAME)
    return Order(None, How.UNKNOWN)
