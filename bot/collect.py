"""Parsed documents -> Resources of our kinds: List items, names, namespaces; the rest is left out."""

from __future__ import annotations

from typing import Any

import yaml

from bot.findings import Skipped
from bot.kinds import recognize
from bot.resource import Resource
from bot.values import as_dict, as_list, as_str


class Collector:
    """The Resources (and the skip notes) of one file, document by document."""

    def __init__(self, path: str, default_namespace: str, target: str = "", cluster: str = "",
                 rendered: bool = False) -> None:
        self.path = path
        self.default_namespace = default_namespace  # of resources without metadata.namespace
        self.target = target
        self.cluster = cluster
        self.rendered = rendered
        self.resources: list[Resource] = []
        self.skipped: list[Skipped] = []

    def add(self, body: Any, line: int, source: str, source_line: int) -> None:
        """One parsed document: its root at `line`; its text `source` starts at `source_line`."""
        if isinstance(body, dict) and as_str(body.get("kind")) == "List":
            for item in as_list(body.get("items")):
                self._resource(item, line, source, source_line, from_list=True)
        else:
            self._resource(body, line, source, source_line, from_list=False)

    def _resource(self, body: Any, line: int, source: str, source_line: int, from_list: bool) -> None:
        if not isinstance(body, dict):
            return
        api_version = as_str(body.get("apiVersion")) or ""
        kind = recognize(as_str(body.get("kind")), api_version)
        if kind is None:
            return
        metadata = as_dict(body.get("metadata"))
        raw = metadata.get("name")
        name = raw if isinstance(raw, str) else None
        if not name:
            if raw is None or raw == "":
                why = "without metadata.name"
            else:  # `name: y` or `name: 0777` are not text once read (go-yaml v2, as kubectl reads it)
                why = f"whose metadata.name is not text ({raw!r} as kubectl reads it; quote it)"
            self.skipped.append(Skipped(self.path, f"line {line}: {kind.name} {why}"))
            return
        raw_ns = metadata.get("namespace")
        if raw_ns is not None and not isinstance(raw_ns, str):
            self.skipped.append(Skipped(self.path, f"line {line}: {kind.name} {name} whose metadata.namespace is not "
                                        f"text ({raw_ns!r} as kubectl reads it; quote it)"))
            return
        namespace = "" if kind.cluster_scoped else raw_ns or self.default_namespace
        if from_list:
            source = yaml.safe_dump(body, sort_keys=False)
        self.resources.append(Resource(kind.name, api_version, namespace, name, body, self.path, line, source,
                                       source_line, from_list, self.target, self.cluster, self.rendered))
