"""Subsets a change adds or removes: computed once from the changes, read by the two ordering rules
and by the plan (make before break)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.changes import Change
from bot.resource import Resource
from bot.views import dr_host, dr_subsets

Subset = tuple[str, str]  # (host, subset name)


@dataclass(frozen=True)
class SubsetChanges:
    added: Mapping[Subset, tuple[Resource, ...]] = field(default_factory=dict)  # DestinationRules (at head) adding it
    removed: Mapping[Subset, Resource] = field(default_factory=dict)  # the DestinationRule losing it (head, else base)


def subset_changes(changes: Sequence[Change]) -> SubsetChanges:
    added: dict[Subset, tuple[Resource, ...]] = {}
    removed: dict[Subset, Resource] = {}
    for change in changes:
        if change.kind != "DestinationRule":
            continue
        base_host = dr_host(change.base) if change.base is not None else None
        head_host = dr_host(change.head) if change.head is not None else None
        if change.head is not None and head_host:
            before = set(dr_subsets(change.base)) if change.base is not None and base_host == head_host else set()
            for subset in dr_subsets(change.head):
                if subset not in before:
                    added[(head_host, subset)] = (*added.get((head_host, subset), ()), change.head)
        if change.base is not None and base_host:
            after = set(dr_subsets(change.head)) if change.head is not None and head_host == base_host else set()
            for subset in dr_subsets(change.base):
                if subset not in after:
                    removed[(base_host, subset)] = change.head or change.base
    return SubsetChanges(added, removed)
