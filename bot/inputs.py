"""The repository files a kustomization or a chart reads, so that a change to any of them marks the
targets built from it. Pure: takes the repository's paths and the text of its kustomization files.

Kustomize has no command that lists a build's inputs (kubernetes-sigs/kustomize#3678, #5182), so
the kustomization fields that name files are walked here, as a build resolves them: every path is
relative to the kustomization naming it; a `resources` entry is a file, else a folder holding its
own kustomization (`api/internal/target/kusttarget.go` `accumulateResources`); URLs are remote.
Fields: `api/types/kustomization.go`, `kvpairsources.go`, `helmchartargs.go`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from bot.reading import libyaml, split

# api/konfig/general.go RecognizedKustomizationFileNames; a folder may hold only one of them.
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# Remote resources: a URL, an scp-like git address, or a host name followed by a path
# (`github.com/org/repo//dir?ref=v1`), as api/internal/git/repospec.go accepts them.
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|[a-z0-9-]+(?:\.[a-z0-9-]+)+/)", re.IGNORECASE)


@dataclass(frozen=True)
class Closure:
    """What one build reads: `files` and `folders` (read whole) inside the repository, `remote`
    references it would fetch, `missing` paths named but absent, `problems` found on the way."""

    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    remote: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    kustomizations: tuple[str, ...] = ()  # folders of every kustomization reached, the root first
    outside: tuple[str, ...] = ()  # entries that leave the repository (`../` past its root)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Files, and folders as "dir/", in the form `Target.inputs` takes."""
        return tuple(dict.fromkeys([*self.files, *(f + "/" if f else "" for f in self.folders)]))


def kustomization_file(folder: str, paths: Collection[str]) -> str | None:
    """The kustomization file of `folder`, or None."""
    for name in KUSTOMIZATION_FILES:
        path = join(folder, name)
        if path in paths:
            return path
    return None


def join(folder: str, entry: str) -> str:
    """`entry` relative to `folder`, normalised; "" is the repository root, ".." leaves it."""
    path = posixpath.normpath(posixpath.join(folder, entry))
    return "" if path == "." else path


def is_remote(entry: str) -> bool:
    return bool(_REMOTE.match(entry))


def outside(path: str) -> bool:
    return path == ".." or path.startswith(("../", "/"))


def read_yaml(text: str | bytes, first_line: int = 1) -> tuple[Any, str | None]:
    """One YAML document through the project's guarded reader (alias bombs, nesting, duplicate keys):
    (its value, None), or (None, why it is not valid YAML); `first_line` is where `text` starts."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", "replace")
    try:
        return libyaml.compose(text)[1], None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, "not valid YAML" + (f" (line {mark.line + first_line})" if mark is not None else "")
    except (libyaml.TooDeep, RecursionError):
        return None, f"not valid YAML (nesting over {libyaml.MAX_NESTING} levels)"


def read_documents(text: str | bytes) -> tuple[list[Any], str | None]:
    """Every document of a YAML stream, or the first problem."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", "replace")
    out = []
    for chunk, line in split.documents(text):
        value, problem = read_yaml(chunk, line)
        if problem is not None:
            return [], problem
        out.append(value)
    return out, None


@lru_cache(maxsize=4096)
def parse_kustomization(data: bytes) -> dict[str, object] | str:
    """The kustomization (or Chart.yaml) as a mapping, or the reason it is not one. Cached: a base
    is read once for all the overlays that reach it; callers must not change the mapping."""
    doc, problem = read_yaml(data)
    if problem is not None:
        return problem
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        return "not a mapping"
    return doc


def named_files(kustomization: Mapping[str, object]) -> tuple[list[str], list[str], list[str]]:
    """The entries a kustomization names: (resources and bases, components, other files)."""
    resources = _strings(kustomization.get("resources")) + _strings(kustomization.get("bases"))
    components = _strings(kustomization.get("components"))
    files = _strings(kustomization.get("crds")) + _strings(kustomization.get("configurations"))
    for key in ("generators", "transformers", "validators", "patchesStrategicMerge"):
        # a string without a newline is a file; anything else is inline configuration
        files += [s for s in _strings(kustomization.get(key)) if "\n" not in s]
    for key in ("patches", "patchesJson6902", "replacements"):
        files += [str(e["path"]) for e in _mappings(kustomization.get(key)) if isinstance(e.get("path"), str)]
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in _mappings(kustomization.get(key)):
            files += [s.split("=", 1)[-1] for s in _strings(generator.get("files"))]
            files += _strings(generator.get("envs"))
            if isinstance(generator.get("env"), str):
                files.append(str(generator["env"]))
    openapi = kustomization.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        files.append(openapi["path"])
    for chart in _mappings(kustomization.get("helmCharts")):
        files += [s for s in [chart.get("valuesFile")] if isinstance(s, str)]
        files += _strings(chart.get("additionalValuesFiles"))
    return resources, components, files


def chart_home(kustomization: Mapping[str, object]) -> str | None:
    """The folder `helmCharts` read charts from (`helmGlobals.chartHome`, default `charts`)."""
    if not _mappings(kustomization.get("helmCharts")):
        return None
    globals_ = kustomization.get("helmGlobals")
    home = globals_.get("chartHome") if isinstance(globals_, dict) else None
    return home if isinstance(home, str) else "charts"


def kustomization_closure(folder: str, paths: Collection[str], texts: Mapping[str, bytes]) -> Closure:
    """Everything the build of the kustomization in `folder` reads, recursively.

    `paths` are all files of the revision; `texts` holds at least its kustomization files.
    """
    files: list[str] = []
    folders: list[str] = []
    remote: list[str] = []
    missing: list[str] = []
    problems: list[str] = []
    leaving: list[str] = []
    seen: list[str] = []
    dirs = folders_of(paths)

    def visit(at: str) -> None:
        if at in seen:
            return
        seen.append(at)
        kfile = kustomization_file(at, paths)
        if kfile is None:
            missing.append(at + "/" if at else "./")
            return
        files.append(kfile)
        parsed = parse_kustomization(texts.get(kfile, b""))
        if isinstance(parsed, str):
            problems.append(f"{kfile}: {parsed}")
            return
        resources, components, named = named_files(parsed)
        # a local file first, then a local folder, then a remote reference, as a build tries them
        for entry, may_be_folder in [*((e, True) for e in [*resources, *components]), *((e, False) for e in named)]:
            path = join(at, entry)
            if path in paths:
                files.append(path)
            elif may_be_folder and path in dirs:
                visit(path)
            elif is_remote(entry):
                remote.append(entry)
            elif outside(path):
                problems.append(f"{kfile}: {entry} is outside the repository")
                leaving.append(f"{kfile}: {entry}")
            else:
                missing.append(path + "/" if may_be_folder and not posixpath.splitext(path)[1] else path)
        home = chart_home(parsed)
        if home is not None:
            folders.append(join(at, home))

    visit(folder)
    return Closure(unique(files), unique(folders), unique(remote), unique(missing), unique(problems),
                   tuple(seen), unique(leaving))


def chart_closure(chart: str, values_files: Collection[str], paths: Collection[str],
                  texts: Mapping[str, bytes]) -> Closure:
    """A chart reads its whole folder (templates, values, vendored `charts/`), the value files given,
    and the charts its `file://` dependencies name (helm `pkg/downloader/manager.go`)."""
    folders: list[str] = []
    files: list[str] = []
    missing: list[str] = []
    problems: list[str] = []

    def visit(at: str) -> None:
        if at in folders:
            return
        folders.append(at)
        chart_yaml = join(at, "Chart.yaml")
        meta = parse_kustomization(texts.get(chart_yaml, b"")) if chart_yaml in paths else {}
        if isinstance(meta, str):
            problems.append(f"{chart_yaml}: {meta}")
            return
        for dep in _mappings(meta.get("dependencies")):
            repo = dep.get("repository")
            if isinstance(repo, str) and repo.startswith("file://"):
                path = join(at, repo[len("file://"):])
                if outside(path):
                    problems.append(f"{chart_yaml}: dependency {repo} is outside the repository")
                elif join(path, "Chart.yaml") in paths:
                    visit(path)
                else:
                    missing.append(path)

    visit(chart)
    for path in values_files:
        (files if path in paths else missing).append(path)
    return Closure(unique(files), unique(folders), (), unique(missing), unique(problems))


def folders_of(paths: Collection[str]) -> frozenset[str]:
    """Every folder holding one of `paths`, at any depth; "" is the root. Cached for the last few
    sets of paths: every kustomization of a revision asks about the same ones."""
    return _folders(paths if isinstance(paths, frozenset) else frozenset(paths))


@lru_cache(maxsize=8)
def _folders(paths: frozenset[str]) -> frozenset[str]:
    out = {""}
    for path in paths:
        parent = path.rpartition("/")[0]
        while parent and parent not in out:
            out.add(parent)
            parent = parent.rpartition("/")[0]
    return frozenset(out)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _mappings(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def unique(items: list[str]) -> tuple[str, ...]:
    """The items once each, in their first order."""
    return tuple(dict.fromkeys(items))
