"""DestinationRules renamed or moved to another namespace: pairing and what applying both at once risks.

A rename or move is a delete and an add of one rule. Applied in one step, the delete can land
before the add, and clients lose subsets and policy in between (503s for routes to the subsets;
https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes).
Make before break: apply the new rule, wait for it to be distributed, then delete the old one.

While both exist in one namespace with the same exportTo, Istio merges them into the **older** one:
its top-level trafficPolicy wins wholesale and its subsets win duplicates, so the new rule's policy
lands only when the old is deleted (`pilot/pkg/model/destination_rule.go` mergeDestinationRule;
istio/istio#33147). Different exportTo sets are kept apart (ENABLE_ENHANCED_DESTINATIONRULE_MERGE)
and the client takes the newer outright. Across namespaces nothing merges: the lookup order decides
(see dr_lookup), and a short `host` resolves against the **new** namespace
(`pilot/pkg/model/config.go` ResolveShortnameToFQDN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import hosts as H
from bot.istio.dr_lookup import Rule
from bot.values import as_dict, as_list, as_str, canonical


@dataclass(frozen=True)
class DrVersion:
    namespace: str
    name: str
    spec: Mapping[str, Any]

    @property
    def host(self) -> str | None:
        host = as_str(self.spec.get("host"))
        return H.fqdn(host, self.namespace) if host else None

    @property
    def raw_host(self) -> str | None:
        return as_str(self.spec.get("host"))

    @property
    def subsets(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for raw in as_list(self.spec.get("subsets")):
            name = as_str(as_dict(raw).get("name"))
            if name and name not in out:
                out[name] = as_dict(raw)
        return out


@dataclass(frozen=True)
class Move:
    old: DrVersion
    new: DrVersion

    @property
    def kind(self) -> str:
        return "rename" if self.old.namespace == self.new.namespace else "move"

    @property
    def short_host_moved(self) -> bool:
        """A short host written the same way now names a service in another namespace."""
        raw = self.old.raw_host
        return self.kind == "move" and raw is not None and raw == self.new.raw_host and self.old.host != self.new.host


def pair_moves(removed: Sequence[DrVersion], added: Sequence[DrVersion]) -> list[Move]:
    """Pair deleted and added DestinationRules that stand for one rule: the same resolved host, or
    the same short host written in a rule of the same name (a move that changed its meaning).
    Same-name pairs are taken first; each rule is paired once."""
    out: list[Move] = []
    left = list(added)
    for prefer_name in (True, False):
        for old in removed:
            if any(m.old is old for m in out):
                continue
            for new in left:
                same_host = old.host is not None and old.host == new.host
                same_short = old.raw_host is not None and old.raw_host == new.raw_host and old.name == new.name
                if (same_host or same_short) and (not prefer_name or old.name == new.name):
                    out.append(Move(old, new))
                    left.remove(new)
                    break
    return out


@dataclass(frozen=True)
class MoveRisks:
    missing_subsets: tuple[str, ...]  # used by routes, defined by the old rule only
    changed_subsets: tuple[str, ...]  # same name, other labels
    export_changed: bool
    policy_changed: bool  # top-level trafficPolicy differs: in a rename it lands only when the old is deleted


def risks(move: Move, used_subsets: Iterable[str]) -> MoveRisks:
    old, new = move.old.subsets, move.new.subsets
    used = set(used_subsets)
    missing = tuple(sorted(s for s in used if s in old and s not in new))
    changed = tuple(sorted(s for s in old if s in new
                           and canonical(old[s].get("labels")) != canonical(new[s].get("labels"))))
    export = (sorted(map(str, as_list(move.old.spec.get("exportTo"))))
              != sorted(map(str, as_list(move.new.spec.get("exportTo")))))
    policy = canonical(move.old.spec.get("trafficPolicy")) != canonical(move.new.spec.get("trafficPolicy"))
    return MoveRisks(missing, changed, export, policy)


def clients_losing(move: Move, clients: Iterable[str], before: Callable[[str], Iterable[Rule]],
                   after: Callable[[str], Iterable[Rule]]) -> list[str]:
    """Client namespaces that used the old rule and do not get the new one afterwards; `before(client)`
    and `after(client)` are what a client gets for the host in each snapshot (`dr_lookup`)."""
    out = []
    for client in clients:
        used_old = any((r.namespace, r.name) == (move.old.namespace, move.old.name) for r in before(client))
        gets_new = any((r.namespace, r.name) == (move.new.namespace, move.new.name) for r in after(client))
        if used_old and not gets_new:
            out.append(client)
    return out
