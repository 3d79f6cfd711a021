"""Holding back what errors flag: the changed resources an error is about, whatever must follow them
in the plan, and the list of what is left out for the reader (fix those first)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.changes import Change
from bot.findings import Finding, Ref
from bot.planning.ordering import Node
from bot.resource import Key


def flagged_by(errors: Collection[Finding], changes: Mapping[Key, Change]) -> set[Key]:
    """The changed resources the errors are about: the flagged resource when the change touches it,
    else the changed resources the finding relates it to (a route left pointing at a subset the
    change removes holds back the DestinationRule that removes it); for a file-level error (a
    duplicate key, a document that does not parse), every changed resource written in that file."""
    out: set[Key] = set()
    for f in errors:
        if f.resource.kind == "File":  # a file kubectl would reject or misread holds back what it holds
            out |= {k for k, c in changes.items() if c.head is not None and c.head.file == f.resource.file}
        elif f.resource.key in changes:
            out.add(f.resource.key)
        else:
            out |= {r.key for r in f.related if r.key in changes}
    return out


def hold_back(nodes: list[Node], edges: set[tuple[Node, Node]], flagged: set[Key]) -> set[Node]:
    """Nodes left out of the stages: the flagged ones and, transitively, whatever must come after them."""
    held = {n for n in nodes if n[0] in flagged}
    after: dict[Node, set[Node]] = {}
    for a, b in edges:
        after.setdefault(a, set()).add(b)
    todo = list(held)
    while todo:
        for nxt in after.get(todo.pop(), ()):
            if nxt not in held:
                held.add(nxt)
                todo.append(nxt)
    return held


def left_out_refs(errors: Collection[Finding], changes: Mapping[Key, Change], held: set[Node]) -> tuple[Ref, ...]:
    """What the plan leaves out, for the reader: held resources, files that do not parse and deploy
    targets that do not render."""
    refs = {changes[k].ref() for k, _ in held}
    refs |= {f.resource for f in errors if f.resource.kind in ("File", "Target")}  # broken files, unrendered targets
    return tuple(sorted(refs, key=lambda r: (r.file, r.line, r.kind, r.name)))
