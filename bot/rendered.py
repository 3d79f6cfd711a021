"""Rendered output back to the files the author edited, and namespaces filled in as the controller
would. Pure: output text and source texts in, documents out.

- Kustomize: with `buildMetadata: [originAnnotations]` each object carries
  `config.kubernetes.io/origin` whose `path` is relative to the built folder (kustomize
  `api/resource/origin.go`); generated objects carry `configuredIn` instead.
- Helm: each document follows `# Source: <chart>/templates/<file>`, subcharts as
  `<chart>/charts/<sub>/templates/<file>`, with Chart.yaml names, not folder names (helm
  `pkg/action/action.go`, `pkg/chart/v2/chart.go` `ChartFullPath`).
- Namespaces: Helm's client gives namespace-less objects the release namespace at install
  (helm `pkg/kube/client.go`), Argo CD the destination namespace, only on namespaced kinds
  (argo-cd `controller/state.go`). All Istio kinds are namespaced (istio
  `manifests/charts/base/files/crd-all.gen.yaml`); kinds not listed below are taken as namespaced.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bot.inputs import join, parse_kustomization, read_yaml

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"

CLUSTER_SCOPED = frozenset({
    "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "ComponentStatus",
    "CSIDriver", "CSINode", "CustomResourceDefinition", "FlowSchema", "GatewayClass", "IngressClass",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration", "Namespace",
    "Node", "PersistentVolume", "PodSecurityPolicy", "PriorityClass", "PriorityLevelConfiguration",
    "RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment", "ClusterIssuer",
})

_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)
_HELM_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Document:
    """One rendered object: its YAML text, and the repository file and line it comes from
    (`source` None when unknown, e.g. a remote base; `line` 1 when only the file is known)."""

    text: str
    source: str | None
    line: int = 1


def split(output: str) -> Iterator[str]:
    """The documents of a YAML stream that hold something besides comments."""
    for part in _SEPARATOR.split(output):
        if any(line.strip() and not line.lstrip().startswith("#") for line in part.splitlines()):
            yield part.strip("\n") + "\n"


def from_kustomize(output: str, root: str, texts: Mapping[str, bytes], strip_origin: bool) -> list[Document]:
    """Documents of `kustomize build root` output, each traced to its file by its origin annotation;
    the annotation is removed when it was switched on only for this (`strip_origin`)."""
    out = []
    for text in split(output):
        doc = _load(text)
        origin = _origin(doc)
        source: str | None = None
        if origin is not None and not origin.get("repo"):
            path = origin.get("path") or origin.get("configuredIn")
            if isinstance(path, str):
                candidate = join(root, path)
                source = candidate if not candidate.startswith("..") else None
        if strip_origin:
            text = strip_annotation(text, ORIGIN_ANNOTATION)
        line = _line_of(doc, source, texts) if source else 1
        out.append(Document(text, source, line))
    return out


def from_helm(output: str, chart: str, texts: Mapping[str, bytes], paths: Collection[str]) -> list[Document]:
    """Documents of `helm template` output for the chart in folder `chart`, each traced to its
    template by the `# Source:` line before it."""
    folders = chart_folders(chart, paths, texts)
    out = []
    counts: dict[str, int] = {}
    for text in split(output):
        found = _HELM_SOURCE.search(text)
        source = _template_path(found.group(1), folders) if found else None
        line = 1
        if source is not None:
            index = counts.get(source, 0)
            counts[source] = index + 1
            line = _nth_kind_line(texts.get(source, b""), index)
        out.append(Document(text, source, line))
    return out


def chart_folders(chart: str, paths: Collection[str], texts: Mapping[str, bytes]) -> dict[str, str]:
    """Chart full names (`parent/charts/child`, Chart.yaml names) to their folders."""
    out: dict[str, str] = {}

    def visit(folder: str, prefix: str) -> None:
        meta = parse_kustomization(texts.get(join(folder, "Chart.yaml"), b""))
        name = meta.get("name") if isinstance(meta, dict) else None
        full = f"{prefix}{name if isinstance(name, str) else posixpath.basename(folder)}"
        out[full] = folder
        charts = join(folder, "charts")
        for sub in sorted({p[len(charts) + 1:].split("/", 1)[0] for p in paths
                           if p.startswith(charts + "/") and p.count("/") > charts.count("/") + 1}):
            if join(join(charts, sub), "Chart.yaml") in paths:
                visit(join(charts, sub), full + "/charts/")

    visit(chart, "")
    return out


def _template_path(source: str, folders: Mapping[str, str]) -> str | None:
    best = max((name for name in folders if source.startswith(name + "/")), key=len, default=None)
    if best is None:
        return None
    return join(folders[best], source[len(best) + 1:])


def fill_namespace(text: str, namespace: str) -> str:
    """The document with `metadata.namespace: namespace` when it has none and its kind is
    namespaced; otherwise unchanged."""
    doc = _load(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) or doc["kind"] in CLUSTER_SCOPED:
        return text
    metadata = doc.get("metadata")
    if isinstance(metadata, dict) and metadata.get("namespace"):
        return text
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if re.match(r"metadata:\s*(#.*)?$", line)), None)
    if at is not None:
        child = next((line for line in lines[at + 1:] if line.strip() and not line.lstrip().startswith("#")), "")
        indent = child[:len(child) - len(child.lstrip())] if child.startswith((" ", "\t")) else "  "
        lines.insert(at + 1, f"{indent}namespace: {_scalar(namespace)}\n")
        return "".join(lines)
    # metadata in flow style, or absent: write the document again
    body = dict(doc)
    body["metadata"] = {**(metadata if isinstance(metadata, dict) else {}), "namespace": namespace}
    return yaml.safe_dump(body, sort_keys=False)


def strip_annotation(text: str, key: str) -> str:
    """The document without one annotation (block style as kustomize writes it); `annotations:`
    goes too when it is left empty."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith((key + ":", f'"{key}":')):
            indent = len(line) - len(stripped)
            i += 1
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                i += 1
            continue
        out.append(line)
        i += 1
    result = "".join(out)
    # an `annotations:` with nothing more indented after it
    return re.sub(r"^([ \t]*)annotations:[ \t]*\n(?!\1[ \t]+\S)", "", result, flags=re.MULTILINE)


def _scalar(value: str) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True).strip()
    return dumped[:-4].strip() if dumped.endswith("\n...") else dumped.removesuffix("...").strip()


def _load(text: str) -> Any:
    return read_yaml(text)[0]


def _origin(doc: Any) -> dict[str, Any] | None:
    if not isinstance(doc, dict):
        return None
    annotations = (doc.get("metadata") or {}).get("annotations") if isinstance(doc.get("metadata"), dict) else None
    raw = annotations.get(ORIGIN_ANNOTATION) if isinstance(annotations, dict) else None
    parsed = _load(raw) if isinstance(raw, str) else None
    return parsed if isinstance(parsed, dict) else None


def _line_of(doc: Any, source: str, texts: Mapping[str, bytes]) -> int:
    """The line in `source` where the document of this kind and name starts (kustomize may have
    prefixed or suffixed the name); 1 when not found."""
    data = texts.get(source)
    if data is None or not isinstance(doc, dict):
        return 1
    kind = doc.get("kind")
    name = str(_metadata(doc).get("name", ""))
    first: int | None = None
    for start, part in _documents(data.decode("utf-8", "replace")):
        other = _load(part)
        if not isinstance(other, dict) or other.get("kind") != kind:
            continue
        other_name = str(_metadata(other).get("name", ""))
        if other_name == name:
            return start
        if first is None and other_name and other_name in name:
            first = start
    return first or 1


def _metadata(doc: dict[str, Any]) -> dict[str, Any]:
    metadata = doc.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _documents(text: str) -> Iterator[tuple[int, str]]:
    """(first content line, text) of each document of a file."""
    line = 1
    for part in re.split(r"(^---[^\n]*\n)", text, flags=re.MULTILINE):
        if _SEPARATOR.match(part.rstrip("\n")) and part.startswith("---"):
            line += 1
            continue
        lines = part.splitlines()
        offset = next((i for i, raw in enumerate(lines) if raw.strip() and not raw.lstrip().startswith("#")), None)
        if offset is not None:
            yield line + offset, part
        line += part.count("\n")


def _nth_kind_line(template: bytes, index: int) -> int:
    """Where the index-th object of a template starts: its top-level `apiVersion:` or `kind:` line,
    whichever comes first (the last object when there are fewer, e.g. a loop); 1 when none."""
    starts: list[int] = []
    pending: int | None = None  # an apiVersion line not yet followed by its kind
    for number, raw in enumerate(template.decode("utf-8", "replace").splitlines(), 1):
        if raw.startswith("---"):
            pending = None
        elif re.match(r"apiVersion:\s*\S", raw) and pending is None:
            pending = number
        elif re.match(r"kind:\s*\S", raw):
            starts.append(pending or number)
            pending = None
    if not starts:
        return 1
    return starts[min(index, len(starts) - 1)]
