"""The `targets:`, `discovery:` and `render:` sections of `.istio-pr-bot.yaml`, validated into values.
Pure: parsed YAML in, values out; a mistake raises BotError naming the key.

    targets:                              # replaces discovery
      - name: shop-prod                   # unique
        cluster: prod                     # default: the name; targets of one cluster are one mesh
        source: {kustomize: overlays/prod}   # or {helm: charts/shop}, or {plain: ["mesh/**/*.yaml"]}
        namespace: shop                   # for namespace-less output (Helm: the release namespace)
        values:                           # helm only: value files, or inline mappings, in order
          - charts/shop/values-prod.yaml
          - {reviews: {route: v2}}
        release: shop                     # helm only; default: the name
    discovery:
      repo-urls: [https://github.com/example/shop-deploy]   # what names this repository in
                                                          # Applications and GitRepositories
      fixtures: [test, tests, testdata, fixtures]         # folders left out
      alternatives: [examples, samples, docs, tutorials]  # folders of alternatives, not one deployment
    render:                               # read from the base revision's config only
      timeout: 90                         # seconds per helm or kustomize run
      allow-remote: false                 # let kustomize fetch remote bases (network and git)
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

import yaml

from bot.errors import BotError
from bot.targets import Options, RenderSettings, Tool

TARGET_KEYS = ("name", "cluster", "source", "namespace", "values", "release")
DISCOVERY_KEYS = ("repo-urls", "fixtures", "alternatives")
RENDER_KEYS = ("timeout", "allow-remote")
MAX_TIMEOUT = 600.0
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a DNS-1123 label


@dataclass(frozen=True)
class TargetSpec:
    """One configured target, before its files are looked at."""

    name: str
    cluster: str
    tool: Tool
    path: str = ""  # kustomize and helm: the folder
    globs: tuple[str, ...] = ()  # plain: the files
    namespace: str | None = None
    values_files: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # inline values as YAML documents
    release: str = ""


def parse_targets(value: Any, source: str) -> tuple[TargetSpec, ...]:
    """The `targets:` list; `source` names the config file in messages."""
    if not isinstance(value, list) or not value:
        raise BotError(f"{source}: targets must be a list of targets, each with name and source")
    out: list[TargetSpec] = []
    for index, entry in enumerate(value):
        where = f"{source}: targets[{index}]"
        if not isinstance(entry, dict):
            raise BotError(f"{where} must be a mapping with name and source")
        unknown = sorted(str(k) for k in entry if k not in TARGET_KEYS)
        if unknown:
            raise BotError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(TARGET_KEYS)})")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BotError(f"{where}.name must be a non-empty string")
        if any(t.name == name for t in out):
            raise BotError(f"{where}.name: {name!r} is used by another target")
        where = f"{source}: targets[{index}] ({name})"
        cluster = entry.get("cluster", name)
        if not isinstance(cluster, str) or not cluster.strip():
            raise BotError(f"{where}.cluster must be a non-empty string")
        tool, path, globs = _source(entry.get("source"), f"{where}.source")
        namespace = entry.get("namespace")
        if namespace is not None and (not isinstance(namespace, str) or not _NAMESPACE.match(namespace)):
            raise BotError(f"{where}.namespace must be a namespace name, got {namespace!r}")
        files, inline = _values(entry.get("values"), tool, f"{where}.values")
        release = entry.get("release", "")
        if release and tool is not Tool.HELM:
            raise BotError(f"{where}.release is only for helm sources")
        if not isinstance(release, str):
            raise BotError(f"{where}.release must be a string")
        out.append(TargetSpec(name, cluster, tool, path, globs, namespace, files, inline,
                              release or (name if tool is Tool.HELM else "")))
    return tuple(out)


def _source(value: Any, where: str) -> tuple[Tool, str, tuple[str, ...]]:
    kinds = {"kustomize": Tool.KUSTOMIZE, "helm": Tool.HELM, "plain": Tool.PLAIN}
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in kinds:
        raise BotError(f"{where} must be one of {{kustomize: FOLDER}}, {{helm: FOLDER}} or {{plain: [GLOB, ...]}}")
    key, arg = next(iter(value.items()))
    tool = kinds[key]
    if tool is Tool.PLAIN:
        globs = [arg] if isinstance(arg, str) else arg
        if not isinstance(globs, list) or not globs or not all(isinstance(g, str) and g for g in globs):
            raise BotError(f"{where}.plain must be a list of glob strings")
        return tool, "", tuple(globs)
    return tool, _folder(arg, f"{where}.{key}"), ()


def _folder(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BotError(f"{where} must be a folder of the repository")
    path = posixpath.normpath(value.strip() or ".")
    if path.startswith(("..", "/")):
        raise BotError(f"{where}: {value!r} is outside the repository")
    return "" if path == "." else path


def _values(value: Any, tool: Tool, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        return (), ()
    if tool is not Tool.HELM:
        raise BotError(f"{where} is only for helm sources")
    if not isinstance(value, list):
        value = [value]
    files: list[str] = []
    inline: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            files.append(_folder(item, f"{where}[{index}]"))
        elif isinstance(item, dict):
            inline.append(yaml.safe_dump(item, sort_keys=False))
        else:
            raise BotError(f"{where}[{index}] must be a value file path or a mapping of values")
    if files and inline:
        raise BotError(f"{where}: give value files or inline values, not both (their order would be unclear)")
    return tuple(files), tuple(inline)


def parse_discovery(value: Any, source: str) -> Options:
    """The `discovery:` mapping, over the defaults of `bot.targets.Options`."""
    if value is None:
        return Options()
    if not isinstance(value, dict):
        raise BotError(f"{source}: discovery must be a mapping with {', '.join(DISCOVERY_KEYS)}")
    unknown = sorted(str(k) for k in value if k not in DISCOVERY_KEYS)
    if unknown:
        raise BotError(f"{source}: discovery: unknown key {unknown[0]!r} (known: {', '.join(DISCOVERY_KEYS)})")
    kwargs: dict[str, tuple[str, ...]] = {}
    for key, field in (("repo-urls", "repo_urls"), ("fixtures", "fixture_folders"),
                       ("alternatives", "alternative_folders")):
        if key in value:
            items = value[key] if value[key] is not None else []
            if not isinstance(items, list) or not all(isinstance(i, str) and i and "/" not in i.strip("/")
                                                      or key == "repo-urls" and isinstance(i, str) and i
                                                      for i in items):
                what = "URLs" if key == "repo-urls" else "folder names"
                raise BotError(f"{source}: discovery.{key} must be a list of {what}")
            kwargs[field] = tuple(i.strip("/") if key != "repo-urls" else i for i in items)
    return Options(**kwargs)


def parse_render(value: Any, source: str) -> RenderSettings:
    """The `render:` mapping, over the defaults of `bot.targets.RenderSettings`."""
    if value is None:
        return RenderSettings()
    if not isinstance(value, dict):
        raise BotError(f"{source}: render must be a mapping with {', '.join(RENDER_KEYS)}")
    unknown = sorted(str(k) for k in value if k not in RENDER_KEYS)
    if unknown:
        raise BotError(f"{source}: render: unknown key {unknown[0]!r} (known: {', '.join(RENDER_KEYS)})")
    timeout = value.get("timeout", RenderSettings().timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        raise BotError(f"{source}: render.timeout must be seconds, more than 0 and at most {MAX_TIMEOUT:g}, "
                       f"got {timeout!r}")
    allow_remote = value.get("allow-remote", False)
    if not isinstance(allow_remote, bool):
        raise BotError(f"{source}: render.allow-remote must be true or false")
    return RenderSettings(float(timeout), allow_remote)
