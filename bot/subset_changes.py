"""Subsets a change adds or removes: computed once from the changes, read by the two ordering rules
and by the plan (make before break).

A DestinationRule deleted while another one for the same host is added (a rename, or a move to another
namespace: `bot.istio.dr_moves`) is one rule changing place: the subsets both define are neither added
nor removed, and the pair is kept as a move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.changes import Change
from bot.istio.dr_moves import DrVersion, pair_moves
from bot.resource import Resource
from bot.views import dr_host, dr_subsets

Subset = tuple[str, str]  # (host, subset name)


@dataclass(frozen=True)
class SubsetChanges:
    added: Mapping[Subset, tuple[Resource, ...]] = field(default_factory=dict)  # DestinationRules (at head) adding it
    removed: Mapping[Subset, Resource] = field(default_factory=dict)  # the DestinationRule losing it (head, else base)
    moves: tuple[tuple[Resource, Resource], ...] = ()  # (deleted at base, added at head): one rule changing place


def destination_rule_moves(changes: Sequence[Change]) -> list[tuple[Resource, Resource]]:
    """Deleted and added DestinationRules that stand for one rule (`bot.istio.dr_moves.pair_moves`)."""
    gone = [c.base for c in changes if c.kind == "DestinationRule" and c.change == "removed" and c.base]
    new = [c.head for c in changes if c.kind == "DestinationRule" and c.change == "added" and c.head]
    if not gone or not new:
        return []
    old_versions = [_version(r) for r in gone]
    old = {id(v): r for v, r in zip(old_versions, gone, strict=True)}
    new_versions = [_version(r) for r in new]
    added = {id(v): r for v, r in zip(new_versions, new, strict=True)}
    return [(old[id(m.old)], added[id(m.new)]) for m in pair_moves(old_versions, new_versions)]


def _version(dr: Resource) -> DrVersion:
    return DrVersion(dr.namespace, dr.name, dr.spec)


def subset_changes(changes: Sequence[Change]) -> SubsetChanges:
    moves = destination_rule_moves(changes)
    partner = {old.key: new for old, new in moves} | {new.key: old for old, new in moves}
    added: dict[Subset, tuple[Resource, ...]] = {}
    removed: dict[Subset, Resource] = {}
    for change in changes:
        if change.kind != "DestinationRule":
            continue
        base, head = change.base, change.head
        if base is None and head is not None and head.key in partner:
            base = partner[head.key]  # the rule it replaces
        if head is None and base is not None and base.key in partner:
            head = partner[base.key]
        base_host = dr_host(base) if base is not None else None
        head_host = dr_host(head) if head is not None else None
        if change.head is not None and head_host:
            before = set(dr_subsets(base)) if base is not None and base_host == head_host else set()
            for subset in dr_subsets(change.head):
                if subset not in before:
                    added[(head_host, subset)] = (*added.get((head_host, subset), ()), change.head)
        if change.base is not None and base_host:
            after = set(dr_subsets(head)) if head is not None and head_host == base_host else set()
            for subset in dr_subsets(change.base):
                if subset not in after:
                    removed[(base_host, subset)] = change.head or change.base
    return SubsetChanges(added, removed, tuple(moves))
