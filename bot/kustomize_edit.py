"""The root kustomization as a controller builds it: Argo CD's and Flux's edits applied, origin
annotations switched on, or one generated where Flux generates one. Pure: text in, text out; the
result is written only into a temporary export, never over the user's file.

- Argo CD runs `kustomize edit set namespace|nameprefix|namesuffix|image`, `edit add
  label|annotation|component` in the app folder and merges `patches` (argo-cd
  `util/kustomize/kustomize.go` `Build`).
- Flux sets `namespace` from `targetNamespace`, replaces `namePrefix`/`nameSuffix`, appends
  `patches` and `components` (fluxcd/pkg `kustomize/kustomize_generator.go` `GenerateManifest`),
  and generates a kustomization listing every .yaml/.yml file below the path when there is none,
  a subfolder with its own kustomization being one resource (`findOrGenerateKustomization`,
  `scanManifests`).
- `buildMetadata: [originAnnotations]` makes every output object carry
  `config.kubernetes.io/origin` with its file; it propagates into every base
  (kustomize `api/internal/target/kusttarget.go` `accumulateDirectory`).
"""

from __future__ import annotations

import io
import json
import posixpath
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.inputs import KUSTOMIZATION_FILES, kustomization_file
from bot.targets import KustomizeEdits

ORIGIN = "originAnnotations"


@dataclass(frozen=True)
class Edited:
    """The kustomization to build with; `origin_added` when the origin annotations are ours."""

    text: bytes
    origin_added: bool
    problem: str | None = None  # why it was left as written (kustomize then reports the error)


def generated(folder: str, paths: Collection[str]) -> bytes:
    """The kustomization Flux generates for a folder without one (sorted as Flux's walk is)."""
    below = [p for p in sorted(paths) if folder == "" or p.startswith(folder + "/")]
    resources: list[str] = []
    units: list[str] = []
    for path in below:
        rel = path[len(folder) + 1:] if folder else path
        parts = rel.split("/")
        unit = next((posixpath.join(*parts[:i]) for i in range(1, len(parts))
                     if kustomization_file(join_path(folder, posixpath.join(*parts[:i])), paths)), None)
        if unit is not None:
            if unit not in units:
                units.append(unit)
                resources.append("./" + unit)
        elif path.endswith((".yaml", ".yml")) and parts[-1] not in KUSTOMIZATION_FILES:
            resources.append("./" + rel)
    doc: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    if resources:
        doc["resources"] = resources
    else:
        doc["namespace"] = "_placeholder"  # as Flux does, so that an empty folder builds to nothing
    return json.dumps(doc, indent=2).encode()


def join_path(folder: str, rel: str) -> str:
    return posixpath.join(folder, rel) if folder else rel


def edit(text: bytes, edits: KustomizeEdits, origin: bool = True) -> Edited:
    """`text` with the controller's edits and, when `origin`, the origin annotations added."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        doc = yaml.load(text)
    except YAMLError:
        return Edited(text, False, "not valid YAML")
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        return Edited(text, False, "not a mapping")
    _apply(doc, edits)
    added = False
    if origin:
        metadata = doc.get("buildMetadata")
        if not isinstance(metadata, list):
            doc["buildMetadata"] = metadata = []
        if ORIGIN not in metadata:
            metadata.append(ORIGIN)
            added = True
    out = io.StringIO()
    yaml.dump(doc, out)
    return Edited(out.getvalue().encode(), added)


def _apply(doc: dict[str, Any], edits: KustomizeEdits) -> None:
    if edits.namespace:
        doc["namespace"] = edits.namespace
    if edits.name_prefix:
        doc["namePrefix"] = edits.name_prefix
    if edits.name_suffix:
        doc["nameSuffix"] = edits.name_suffix
    if edits.components:
        components = _list(doc, "components")
        components.extend(c for c in edits.components if c not in components)
    if edits.patches:
        _list(doc, "patches").extend(json.loads(p) for p in edits.patches)
    if edits.images:
        images = _list(doc, "images")
        for spec in edits.images:
            image = _image(spec)
            existing = next((i for i in images if isinstance(i, dict) and i.get("name") == image["name"]), None)
            if existing is None:
                images.append(image)
            else:
                existing.update(image)
    for key, pairs in (("commonLabels", edits.labels), ("commonAnnotations", edits.annotations)):
        if pairs:
            mapping = doc.get(key)
            if not isinstance(mapping, dict):
                doc[key] = mapping = {}
            mapping.update(dict(pairs))


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        doc[key] = value = []
    return value


def _image(spec: str) -> dict[str, str]:
    """`kustomize edit set image` syntax: `name=newName:tag`, `name=newName@digest`, `name:tag`."""
    name, _, new = spec.partition("=")
    target = new or name
    out: dict[str, str] = {}
    if "@" in target:
        target, _, out["digest"] = target.partition("@")
    elif ":" in target.rsplit("/", 1)[-1]:
        target, _, out["newTag"] = target.rpartition(":")
    if new:
        name_only = name.split("@")[0]
        name = name_only.rsplit(":", 1)[0] if ":" in name_only.rsplit("/", 1)[-1] else name_only
        out["newName"] = target
    else:
        name = target
    return {"name": name, **out}
