"""Controller objects: the Argo CD and Flux documents among the repository's manifests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.discover.repo import MANIFEST_SUFFIXES, Repo, as_map
from bot.inputs import read_documents


@dataclass(frozen=True)
class Object:
    """One document of the repository with a kind and an apiVersion."""

    path: str
    kind: str
    api: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(as_map(self.body.get("metadata")).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(as_map(self.body.get("metadata")).get("namespace") or "")

    @property
    def spec(self) -> dict[str, Any]:
        return as_map(self.body.get("spec"))


def controller_objects(repo: Repo) -> Iterator[Object]:
    """The documents of files that mention Argo CD or Flux, outside chart templates and subcharts."""
    charts = repo.application_charts
    for path in sorted(repo.texts):
        if path not in repo.paths or not path.endswith(MANIFEST_SUFFIXES):
            continue
        if any(path.startswith((c + "/templates/", c + "/charts/")) for c in charts):
            continue
        data = repo.texts[path]
        if b"argoproj.io" not in data and b"toolkit.fluxcd.io" not in data:
            continue
        docs, problem = read_documents(data)
        if problem is not None:
            repo.notes.append(f"{path}: {problem}; controller objects in it are not read")
            continue
        for doc in docs:
            if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and isinstance(doc.get("apiVersion"), str):
                yield Object(path, doc["kind"], doc["apiVersion"].split("/")[0], doc)

