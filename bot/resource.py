"""One resource as written at one revision, and the memo its derived views live in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml

from bot.findings import Ref
from bot.kinds import display
from bot.reading.libyaml import LOADER
from bot.values import as_dict, str_labels
from bot.visibility import split_annotation

IGNORE_ANNOTATION = "istio-pr-bot.io/ignore"
Key = tuple[str, str, str]  # (kind, namespace, name)
T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Resource:
    """One Istio (or Service) document as written at one revision.

    Every accessor tolerates the wrong shapes a PR can contain (`hosts: 5`, `spec: null`): it returns
    what Istio would use or nothing, never raises.
    """

    kind: str
    api_version: str
    namespace: str
    name: str
    body: dict[str, Any]
    file: str
    line: int  # 1-based line of the document's first key
    source: str  # the document's text as written (comments kept)
    source_line: int  # 1-based line where `source` starts in the file
    from_list: bool = False
    target: str = ""  # the deploy target it belongs to ("" when the repository is one plain tree)
    cluster: str = ""
    rendered: bool = False  # from helm or kustomize output: `line` is where it starts in `file`, fields unknown
    key: Key = field(init=False, repr=False)  # read very often

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.kind, self.namespace, self.name))

    @property
    def spec(self) -> dict[str, Any]:
        return as_dict(self.body.get("spec"))

    @property
    def metadata(self) -> dict[str, Any]:
        return as_dict(self.body.get("metadata"))

    @property
    def labels(self) -> dict[str, str]:
        return str_labels(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, Any]:
        return as_dict(self.metadata.get("annotations"))

    @property
    def display(self) -> str:
        kind = display(self.kind)
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"

    def ref(self, line: int | None = None) -> Ref:
        return Ref(self.kind, self.namespace, self.name, self.file, line or self.line, self.target, self.cluster)

    def ignored_rules(self) -> frozenset[str]:
        value = self.annotations.get(IGNORE_ANNOTATION)
        return frozenset(split_annotation(value)) if isinstance(value, str) else frozenset()

    def field_line(self, *path: str | int) -> int | None:
        """1-based line of a field (e.g. "spec", "subsets", 2) in the file, if it can be found."""
        if self.from_list or self.rendered:
            return None
        loader = LOADER(self.source)
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            return None
        finally:
            loader.dispose()
        found = None
        for step in path:
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
                found = node
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
                found = node
            else:
                break
            if node is None:
                break
        if found is None:
            return None
        return int(found.start_mark.line) + self.source_line


def per_resource(fn: Callable[[Resource], T]) -> Callable[[Resource], T]:
    """Compute a view of a resource once; the value lives (and dies) with the resource."""
    slot = "_memo_" + fn.__name__

    @functools.wraps(fn)
    def wrapper(res: Resource) -> T:
        memo = res.__dict__  # frozen dataclass: write the instance dict directly
        if slot not in memo:
            memo[slot] = fn(res)
        return memo[slot]  # type: ignore[no-any-return]

    return wrapper
