"""Resource-level diff: pair resources by (kind, namespace, name) and say what changed.

A moved file, reordered keys, comments or quoting are not changes: resources are compared as
parsed values. Lists of named items (subsets, servers, ports, routes with names) are compared by
name, not by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, cast

from bot.findings import Ref
from bot.gatewayapi.describe import KINDS as GATEWAY_API_KINDS
from bot.gatewayapi.describe import describe as describe_gateway_api
from bot.gatewayapi.describe import is_rename
from bot.kinds import external
from bot.report import ChangedResource
from bot.resource import Key, Resource

_NOISE_METADATA = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink")
_NOISE_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


@dataclass(frozen=True, eq=False)
class Change:
    kind: str
    namespace: str
    name: str
    change: str  # added | removed | modified
    base: Resource | None
    head: Resource | None
    paths: tuple[str, ...] = ()
    what: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def resource(self) -> Resource:
        """As at head; as at base when removed."""
        if self.head is not None:
            return self.head
        if self.base is None:
            raise ValueError(f"a change of {self.kind} {self.namespace}/{self.name} with neither side")
        return self.base

    @property
    def file(self) -> str:
        return self.resource.file

    @property
    def line(self) -> int:
        return self.resource.line

    def ref(self) -> Ref:
        return self.resource.ref()


def normalize(body: dict[str, Any]) -> dict[str, Any]:
    """The part of a document that matters to the cluster, with named lists keyed by name."""
    out = {k: v for k, v in body.items() if k != "status"}
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        metadata = {k: v for k, v in metadata.items() if k not in _NOISE_METADATA}
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            metadata["annotations"] = {k: v for k, v in annotations.items() if k not in _NOISE_ANNOTATIONS}
        out["metadata"] = metadata
    return cast(dict[str, Any], _by_name(out))  # a dict stays a dict


def _by_name(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _by_name(v) for k, v in value.items()}
    if isinstance(value, list):
        names = [_item_name(v) for v in value]
        if value and all(names) and len(set(names)) == len(names):
            return {f"[{n}]": _by_name(v) for n, v in zip(names, value, strict=True)}
        return [_by_name(v) for v in value]
    return value


def _item_name(item: Any) -> str | None:
    if isinstance(item, dict):
        name = item.get("name")
        if isinstance(name, (str, int)) and not isinstance(name, bool):
            return str(name)
        port = item.get("port")
        if isinstance(port, dict) and isinstance(port.get("name"), str):
            return str(port["name"])
    return None


def diff(base: list[Resource], head: list[Resource]) -> list[Change]:
    """Changes by resource. Modified ones come without paths and summary (see `describe`): what the
    rules and the plan need, without the cost of diffing documents."""
    before = {r.key: r for r in base}
    after = {r.key: r for r in head}
    changes = []
    for key in before.keys() | after.keys():  # in key order at the end: sorting the few changes is cheaper
        b, a = before.get(key), after.get(key)
        if b is None and a is not None:
            changes.append(Change(*key, "added", None, a, (), ("added",)))
        elif a is None and b is not None:
            changes.append(Change(*key, "removed", b, None, (), ("removed",)))
        elif a is not None and b is not None:
            if a is b or a.body == b.body:
                continue  # same blob, or same content elsewhere (a moved file)
            if normalize(b.body) != normalize(a.body):
                changes.append(Change(*key, "modified", b, a))
    changes.sort(key=lambda c: c.key)
    return changes


Descriptions = dict[tuple[str, str, str], tuple[tuple[str, ...], tuple[str, ...]]]  # key -> (paths, summary)


def descriptions(changes: list[Change] | tuple[Change, ...]) -> Descriptions:
    """(paths, summary) of each modified resource, by key."""
    out = {}
    for c in changes:
        if c.change == "modified" and c.base is not None and c.head is not None:
            paths = changed_paths(normalize(c.base.body), normalize(c.head.body))
            out[c.key] = (tuple(p for p, _ in paths), _what(c.base, c.head, paths))
    return out


def _what(base: Resource, head: Resource, paths: list[tuple[str, str]]) -> tuple[str, ...]:
    """Short phrases: the API's own words for the kinds that have them (`bot.gatewayapi.describe`), the
    changed fields for the rest."""
    if base.kind not in GATEWAY_API_KINDS:
        return summarize(paths)
    phrases, covered = describe_gateway_api(base, head)
    under = [(p, how) for p, how in paths if _under(p, covered)]
    rest = [(p, how) for p, how in paths if not _under(p, covered)]
    fallback = summarize(under) if under and not phrases else ()
    return tuple(dict.fromkeys([*phrases, *fallback, *summarize(rest)]))


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def renamed(changes: list[Change] | tuple[Change, ...]) -> dict[Key, Change]:
    """Gateway API objects the change deletes and creates again under another name (same kind,
    namespace and spec; for a Gateway the same class and listeners): added key -> the removed change.
    Kubernetes sees a delete and a create (rules and the plan do too); people read one rename."""
    removed = [(c, c.base) for c in changes if c.change == "removed" and c.kind in GATEWAY_API_KINDS and c.base]
    if not removed:
        return {}
    added = [(c, c.head) for c in changes if c.change == "added" and c.kind in GATEWAY_API_KINDS and c.head]
    out: dict[Key, Change] = {}
    for new, head in added:
        olds = [old for old, base in removed if is_rename(base, head)]
        if len(olds) == 1 and sum(1 for _, h in added if olds[0].base and is_rename(olds[0].base, h)) == 1:
            out[new.key] = olds[0]  # one on each side: a pair, not a guess
    return out


def rows(changes: list[Change]) -> tuple[ChangedResource, ...]:
    """The changes as the report lists them: a rename is one row; by kind as manifests write it (the
    Gateway API Gateway next to Istio's), then namespace and name."""
    previous = renamed(changes)
    gone = {old.key for old in previous.values()}
    out = []
    for c in changes:
        old = previous.get(c.key)
        if c.key in gone:
            continue  # the removed half of a rename: read with its added half
        if old is not None and old.base is not None and c.head is not None:
            paths = [(p, how) for p, how in changed_paths(normalize(old.base.body), normalize(c.head.body))
                     if p != "metadata.name"]
            what = (f"renamed from {old.name}", *_what(old.base, c.head, paths))
            out.append(ChangedResource("renamed", c.ref(), tuple(p for p, _ in paths), what, previous=old.ref()))
        else:
            out.append(ChangedResource(c.change, c.ref(), c.paths, c.what))
    return tuple(sorted(out, key=lambda row: (*external(row.resource.kind), row.resource.namespace, row.resource.name)))


def describe(changes: list[Change], known: Descriptions | None = None) -> list[Change]:
    """The changes with paths and summary filled in (from `known`, computed elsewhere, if given)."""
    known = descriptions(changes) if known is None else known
    return [replace(c, paths=known[c.key][0], what=known[c.key][1]) if c.key in known else c for c in changes]


def changed_paths(before: Any, after: Any) -> list[tuple[str, str]]:
    """(path, how) pairs: how is added, removed or changed."""
    from deepdiff import DeepDiff

    result = DeepDiff(before, after, ignore_order=False, verbose_level=1, threshold_to_diff_deeper=0)
    out = []
    for report, how in (
        ("dictionary_item_added", "added"),
        ("iterable_item_added", "added"),
        ("dictionary_item_removed", "removed"),
        ("iterable_item_removed", "removed"),
        ("values_changed", "changed"),
        ("type_changes", "changed"),
    ):
        for path in result.get(report, ()):
            out.append((_format(path), how))
    return sorted(set(out))


_STEP = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\d+)\]")


def _format(path: str) -> str:
    """root['spec']['subsets']['[v3]'] -> spec.subsets[v3]"""
    out = ""
    for match in _STEP.finditer(path):
        raw = match.group(1)
        if raw[0] in "'\"":
            step = raw[1:-1]
            out += step if step.startswith("[") else (("." if out else "") + step)
        else:
            out += f"[{raw}]"
    return out


_LABELS = {"subsets": "subset", "servers": "server", "ports": "port", "http": "http route", "tcp": "tcp route",
           "tls": "tls route"}


def summarize(paths: list[tuple[str, str]]) -> tuple[str, ...]:
    """Short phrases such as "subset v3 added" or "exportTo changed"."""
    out: list[str] = []
    for path, how in paths:
        m = re.match(r"spec\.(subsets|servers|ports|http|tcp|tls)\[([^\]]+)\]$", path)
        if m and m.group(2).isdigit():
            phrase = f"{m.group(1)}[{m.group(2)}] {how}"
        elif m:
            phrase = f"{_LABELS[m.group(1)]} {m.group(2)} {how}"
        else:
            path = re.sub(r"\[\d+\]$", "", path)  # exportTo[0] -> exportTo
            top = re.match(r"(spec\.[A-Za-z]+(?:\[[^\]]+\])?|metadata\.[A-Za-z]+|[A-Za-z]+)", path)
            phrase = f"{(top.group(1) if top else path).removeprefix('spec.')} changed"
        if phrase not in out:
            out.append(phrase)
    return tuple(out)
