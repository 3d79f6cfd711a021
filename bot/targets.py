"""Deploy targets: what is applied together (a target), and where (its cluster).

A target is one unit a controller builds and applies: a folder of plain files, a kustomization,
a chart with values, an Argo CD Application (all of its sources), a Flux Kustomization or
HelmRelease. Targets with the same cluster form one mesh; targets of different clusters never
interact.

How a revision becomes reviewed targets:
`bot.discover.discover` (or `configured`, from `bot.targets_config`) finds the targets from the
files `keep_for_discovery` keeps; `touched` says which a change can affect; their `inputs` are
exported to `bot.buildtools.render`, the only place helm and kustomize run;
`bot.flux_substitute.substitute` applies a Flux source's literal substitutions; and
`bot.rendered` traces each output object to its file and line and gives namespace-less objects
the target's namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

FIXTURE_FOLDERS = ("test", "tests", "testdata", "fixtures")
ALTERNATIVE_FOLDERS = ("examples", "example", "samples", "sample", "docs", "doc", "tutorials", "tutorial")
RENDER_TIMEOUT_SECONDS = 90.0  # Argo CD's default exec timeout (docs/operator-manual/high_availability.md)


@dataclass(frozen=True)
class Options:
    """How discovery treats what no controller object describes (config `discovery:`)."""

    repo_urls: tuple[str, ...] = ()  # URLs of this repository; empty: any source whose path exists here
    fixture_folders: tuple[str, ...] = FIXTURE_FOLDERS
    alternative_folders: tuple[str, ...] = ALTERNATIVE_FOLDERS


@dataclass(frozen=True)
class RenderSettings:
    """How helm and kustomize run (config `render:`), taken from the base revision's config only: a pull
    request cannot switch the network on for its own render."""

    timeout: float = RENDER_TIMEOUT_SECONDS  # seconds per render
    allow_remote: bool = False  # kustomize may fetch remote bases (network and git)


class SourceKind(Enum):
    """Where a target was defined."""

    PLAIN = "plain"
    KUSTOMIZE = "kustomize"
    HELM = "helm"
    ARGOCD = "argocd"
    FLUX_KUSTOMIZATION = "flux-kustomization"
    FLUX_HELMRELEASE = "flux-helmrelease"


class Tool(Enum):
    """What renders one source of a target."""

    PLAIN = "plain"
    KUSTOMIZE = "kustomize"
    HELM = "helm"


@dataclass(frozen=True)
class Cluster:
    """A cluster: a name, and the API server URL when an Argo CD destination gives one."""

    name: str
    server: str = ""


@dataclass(frozen=True)
class HelmParameter:
    """One `--set` (or `--set-string` when `string`) value."""

    name: str
    value: str
    string: bool = False


@dataclass(frozen=True)
class KustomizeEdits:
    """What Argo CD (`kustomize edit ...`) or Flux (its generator) changes in the root kustomization
    before the build: argo-cd `util/kustomize/kustomize.go` `Build`; fluxcd/pkg
    `kustomize/kustomize_generator.go` `GenerateManifest`."""

    namespace: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    components: tuple[str, ...] = ()
    patches: tuple[str, ...] = ()  # each a patch entry as JSON (`path`/`patch` and `target`)
    images: tuple[str, ...] = ()  # `name=newName:tag` as `kustomize edit set image` takes them
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return self != KustomizeEdits()


@dataclass(frozen=True)
class Source:
    """One thing to render. Paths are repository-relative, without `./`; "" is the root."""

    tool: Tool
    path: str
    namespace: str = ""  # helm: the release namespace; empty: the target's
    # plain folders: `files` is what they resolve to in the revision discovery looked at
    files: tuple[str, ...] = ()
    recurse: bool = True
    include: tuple[str, ...] = ()  # globs on the path below `path`; empty means every .yaml/.yml/.json
    exclude: tuple[str, ...] = ()
    # helm
    release: str = ""
    values_files: tuple[str, ...] = ()  # in order, after the chart's values.yaml
    chart_values: bool = True  # False: the chart's values.yaml is replaced by `values_files` (Flux)
    values: tuple[str, ...] = ()  # inline YAML documents, after the files
    parameters: tuple[HelmParameter, ...] = ()
    include_crds: bool = False
    skip_tests: bool = False
    # kustomize
    edits: KustomizeEdits = field(default_factory=KustomizeEdits)
    generate_kustomization: bool = False  # Flux: the path has no kustomization, one is generated
    substitutions: tuple[tuple[str, str], ...] = ()  # Flux postBuild.substitute, literal values only
    substitute_from: tuple[str, ...] = ()  # Flux postBuild.substituteFrom: "Kind/name", not read offline


@dataclass(frozen=True)
class Target:
    """A set of manifests applied together to one cluster.

    `namespace` is given to namespace-less namespaced output (release or destination namespace);
    None keeps the repository's default-namespace. `inputs` are the repository files (or folders,
    ending in "/"; "" is the whole repository) whose change can change the output; `unresolved` says what could not be
    followed offline (remote bases, charts from a Helm repository, ConfigMap substitutions).
    `alternatives` marks a folder of examples whose files are alternatives, not one deployment.
    """

    name: str
    cluster: Cluster
    kind: SourceKind
    root: str
    sources: tuple[Source, ...]
    namespace: str | None = None
    defined_in: str = ""  # the file of the Application, Flux object or config that declares it
    inputs: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    alternatives: bool = False
    notes: tuple[str, ...] = ()

    def reads(self, path: str) -> bool:
        """Whether a change to `path` can change what this target renders."""
        return any(path == i or (i.endswith("/") and path.startswith(i)) or i == "" for i in self.inputs)


def touched(base: Target | None, head: Target | None, changed: frozenset[str] | set[str]) -> bool:
    """Whether a change to these paths can change the target's output at base or head.

    A target that exists on one side only, or whose definition changed, always counts.
    """
    if base is None or head is None or _definition(base) != _definition(head):
        return True
    return any(base.reads(p) or head.reads(p) for p in changed)


def _definition(target: Target) -> tuple[object, ...]:
    return (target.kind, target.cluster, target.namespace, target.sources)


@dataclass(frozen=True)
class Discovery:
    """One revision's targets, the files left out of them, and notes on what was not turned into one."""

    targets: tuple[Target, ...]
    left_out: tuple[tuple[str, str], ...] = ()  # (path, why): fixtures and golden outputs
    notes: tuple[str, ...] = ()  # controller objects not turned into targets, and why
