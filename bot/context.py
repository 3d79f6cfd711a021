"""What rules and the plan see: the snapshots, what changed between them, and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.changes import Change
from bot.config import Config
from bot.findings import ParseProblem, RenderProblem
from bot.mesh import Mesh
from bot.resource import Key, Resource
from bot.subset_changes import SubsetChanges


@dataclass(frozen=True)
class Context:
    """`base` is None in audit mode and when a snapshot rule runs on the base."""

    head: Mesh
    base: Mesh | None
    changes: tuple[Change, ...]
    subsets: SubsetChanges  # the subsets `changes` add and remove, computed once
    config: Config
    problems: tuple[ParseProblem, ...] = ()  # broken YAML at the revision `head` stands for
    focus: frozenset[Key] | None = None  # only findings on these resources are wanted
    render_errors: tuple[RenderProblem, ...] = ()  # deploy targets that did not render at `head`'s revision
    base_render_errors: tuple[RenderProblem, ...] = ()  # and at the base's, when `base` is given

    def subjects(self, kind: str) -> list[Resource]:
        """Resources of a kind whose findings are wanted (all, unless the context is focused)."""
        found = self.head.of(kind)
        return found if self.focus is None else [r for r in found if r.key in self.focus]

    def changed(self, kind: str | None = None) -> list[Change]:
        return [c for c in self.changes if kind is None or c.kind == kind]
