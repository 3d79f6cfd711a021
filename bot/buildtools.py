"""The only module that runs helm and kustomize (as bot/git.py is for git).

Each render works on a temporary export of just the files it is given, with an environment made
from nothing: HOME, the XDG folders and every Helm folder point into that temporary folder (no user
configuration, repositories, registries or plugins are read: helm `pkg/cli/environment.go`,
`pkg/helmpath/lazypath.go`), no kubeconfig, no PATH (so kustomize cannot run git for a remote base)
and an HTTP(S) proxy on a closed local port (so nothing is fetched over HTTP). Flags that run
programs are never passed: no `--post-renderer`, no kustomize `--enable-alpha-plugins`,
`--enable-exec` or `--enable-helm`; `helm dependency build` is never run, so only vendored
`charts/` dependencies are used. Each render has a time limit and an output cap, and the export is
always removed. A failure is a value with the first lines of the tool's message, never an exception.
"""

from __future__ import annotations

import os
import posixpath
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from bot import inputs, kustomize_edit
from bot.targets import RENDER_TIMEOUT_SECONDS, HelmParameter, Source, Tool

MAX_OUTPUT_BYTES = 64 * 1024 * 1024
ERROR_LINES = 5
CLOSED_PROXY = "http://127.0.0.1:9"  # nothing listens on the discard port: every HTTP(S) fetch fails

# Istio's API groups, so that charts guarding their Istio objects with
# `.Capabilities.APIVersions.Has "networking.istio.io/v1"` render them, as Argo CD does with the
# API versions of a cluster that has Istio (argo-cd docs/user-guide/helm.md, `apiVersions`).
ISTIO_API_VERSIONS = (
    "networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3",
    "security.istio.io/v1", "security.istio.io/v1beta1", "telemetry.istio.io/v1",
    "extensions.istio.io/v1alpha1", "gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1",
)

INSTALL_HINTS = {
    Tool.HELM: "helm is not installed: install Helm 3 or 4 (https://helm.sh/docs/intro/install/) and put it on PATH",
    Tool.KUSTOMIZE: "kustomize is not installed: install kustomize "
                    "(https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl and put it on PATH",
}


@dataclass(frozen=True)
class Renderer:
    """A tool found on this machine: the command to start it and the version it reports."""

    tool: Tool
    argv: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class Renderers:
    helm: Renderer | None = None
    kustomize: Renderer | None = None

    def get(self, tool: Tool) -> Renderer | None:
        return self.helm if tool is Tool.HELM else self.kustomize if tool is Tool.KUSTOMIZE else None


@dataclass(frozen=True)
class Rendered:
    """The output of one render, or why there is none.

    `skipped` (not rendered: tool missing, remote base) and `error` (the tool failed: its first
    lines) are exclusive; `origin_added` says the origin annotations in `output` were switched on
    here and are not the user's.
    """

    output: str = ""
    error: str | None = None
    skipped: str | None = None
    origin_added: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


def find_renderers(search_path: str | None = None) -> Renderers:
    """helm and kustomize on `search_path` (default PATH); `kubectl kustomize` stands in for kustomize."""
    helm = _probe(Tool.HELM, search_path, "helm", (), ("version", "--template", "{{.Version}}"))
    kustomize = (_probe(Tool.KUSTOMIZE, search_path, "kustomize", (), ("version",))
                 or _probe(Tool.KUSTOMIZE, search_path, "kubectl", ("kustomize",), ("version", "--client")))
    return Renderers(helm, kustomize)


def _probe(tool: Tool, search_path: str | None, name: str, prefix: tuple[str, ...],
           version_argv: tuple[str, ...]) -> Renderer | None:
    binary = shutil.which(name, path=search_path)
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="istio-pr-bot-") as scratch:
        try:
            proc = subprocess.run([binary, *version_argv], capture_output=True, text=True, timeout=30, check=False,
                                  env=_environment(Path(scratch), allow_network=False))
        except (OSError, subprocess.TimeoutExpired):
            return None
    if proc.returncode != 0:
        return None
    # kubectl prints "Kustomize Version: v5.5.0" among other lines
    found = re.search(r"Kustomize Version: (\S+)", proc.stdout) if prefix else None
    version = found.group(1) if found else proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else "unknown"
    return Renderer(tool, (binary, *prefix), version)


def render(source: Source, files: Mapping[str, bytes], renderers: Renderers, namespace: str | None = None,
           timeout: float = RENDER_TIMEOUT_SECONDS, allow_remote: bool = False) -> Rendered:
    """Render one kustomize or helm source from `files` (repository path -> content).

    `files` must hold everything the source reads (`bot.inputs` says what); `namespace` is Helm's
    release namespace. `allow_remote` lets kustomize fetch remote bases (network and git).
    """
    if source.tool is Tool.PLAIN:
        raise ValueError("plain sources are read, not rendered")
    renderer = renderers.get(source.tool)
    if renderer is None:
        return Rendered(skipped=INSTALL_HINTS[source.tool])
    bad = next((p for p in files if not _safe_path(p)), None)
    if bad is not None:
        return Rendered(skipped=f"{bad}: path leaves the repository; not rendered")
    try:
        if source.tool is Tool.KUSTOMIZE:
            return _kustomize(source, files, renderer, timeout, allow_remote)
        return _helm(source, files, renderer, namespace or "default", timeout)
    except OSError as exc:  # the export could not be written (a file where a folder must be, a full disk)
        return Rendered(error=f"the files could not be exported for rendering: {exc.strerror}")


def _kustomize(source: Source, files: Mapping[str, bytes], renderer: Renderer, timeout: float,
               allow_remote: bool) -> Rendered:
    files = dict(files)
    kfile = inputs.kustomization_file(source.path, files)
    if kfile is None and source.generate_kustomization:
        kfile = posixpath.join(source.path, "kustomization.yaml") if source.path else "kustomization.yaml"
        files[kfile] = kustomize_edit.generated(source.path, files)
    if kfile is None:
        return Rendered(error=f"{source.path or '.'}: no kustomization.yaml, kustomization.yml or Kustomization")
    closure = inputs.kustomization_closure(source.path, files, files)
    if closure.outside:  # a folder there would be read from the machine the render runs on
        return Rendered(skipped=f"{closure.outside[0]} leaves the repository; not rendered")
    if closure.remote and not allow_remote:
        return Rendered(skipped=f"remote base {closure.remote[0]} is not fetched (network is off for rendering)")
    edited = kustomize_edit.edit(files[kfile], source.edits)
    files[kfile] = edited.text
    with _export(files) as (home, repo):
        # `kustomize build DIR`, or `kubectl kustomize DIR`
        verb = ["build"] if len(renderer.argv) == 1 else []
        argv = [*renderer.argv, *verb, str(repo / source.path)]
        result = _run(argv, home, repo, timeout, allow_network=allow_remote)
    return Rendered(result.output, result.error, None, edited.origin_added, result.seconds)


def _helm(source: Source, files: Mapping[str, bytes], renderer: Renderer, namespace: str,
          timeout: float) -> Rendered:
    chart = posixpath.join(source.path, "Chart.yaml") if source.path else "Chart.yaml"
    if chart not in files:
        return Rendered(error=f"{source.path or '.'}: no Chart.yaml")
    missing = next((v for v in source.values_files if v not in files), None)
    if missing is not None:
        return Rendered(error=f"value file {missing} not found")
    chart_values = posixpath.join(source.path, "values.yaml") if source.path else "values.yaml"
    if not source.chart_values and chart_values in files and chart_values not in source.values_files:
        files = {**files, chart_values: b"{}\n"}
    with _export(files) as (home, repo):
        argv = [*renderer.argv, "template", source.release or "release-name", str(repo / source.path),
                "--namespace", namespace]
        for path in source.values_files:
            argv += ["--values", str(repo / path)]
        for index, text in enumerate(source.values):
            inline = home / f"values-{index}.yaml"
            inline.write_text(text)
            argv += ["--values", str(inline)]
        for parameter in source.parameters:
            argv += _set_argument(parameter)
        for api in ISTIO_API_VERSIONS:
            argv += ["--api-versions", api]
        if source.include_crds:
            argv.append("--include-crds")
        if source.skip_tests:
            argv.append("--skip-tests")
        result = _run(argv, home, repo, timeout, allow_network=False)
    return Rendered(result.output, result.error, None, False, result.seconds)


def _set_argument(parameter: HelmParameter) -> list[str]:
    """`--set name=value` with commas escaped unless the value is a `{a,b}` list, as Argo CD does
    (argo-cd `util/helm/cmd.go` `cleanSetParameters`)."""
    value = parameter.value
    if not (value.startswith("{") and value.endswith("}")):
        value = re.sub(r"(?<!\\),", r"\\,", value)
    return ["--set-string" if parameter.string else "--set", f"{parameter.name}={value}"]


def _safe_path(path: str) -> bool:
    return bool(path) and not path.startswith("/") and ".." not in path.split("/") and "\0" not in path


class _export:
    """A temporary folder with `home/` (the tool's HOME) and `repo/` (the files); removed on exit."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self.scratch = tempfile.mkdtemp(prefix="istio-pr-bot-render-")

    def __enter__(self) -> tuple[Path, Path]:
        root = Path(self.scratch)
        home, repo = root / "home", root / "repo"
        try:
            home.mkdir()
            repo.mkdir()
            for path, data in self.files.items():
                target = repo / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except OSError:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        return home, repo

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _environment(home: Path, allow_network: bool) -> dict[str, str]:
    env = {
        "HOME": str(home), "TMPDIR": str(home),
        "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "HELM_CONFIG_HOME": str(home / "config" / "helm"), "HELM_CACHE_HOME": str(home / "cache" / "helm"),
        "HELM_DATA_HOME": str(home / "data" / "helm"), "HELM_PLUGINS": str(home / "plugins"),
        "HELM_REGISTRY_CONFIG": str(home / "registry.json"),
        "HELM_REPOSITORY_CONFIG": str(home / "repositories.yaml"),
        "HELM_REPOSITORY_CACHE": str(home / "repository"),
        "KUBECONFIG": str(home / "kubeconfig"),
        "LANG": "C.UTF-8", "NO_COLOR": "1",
    }
    if allow_network:
        env["PATH"] = os.environ.get("PATH", "")  # kustomize runs git for remote bases
    else:
        env.update({"PATH": "", "HTTP_PROXY": CLOSED_PROXY, "HTTPS_PROXY": CLOSED_PROXY,
                    "http_proxy": CLOSED_PROXY, "https_proxy": CLOSED_PROXY, "NO_PROXY": "", "no_proxy": ""})
    return env


@dataclass(frozen=True)
class _Result:
    output: str
    error: str | None
    seconds: float


def _run(argv: list[str], home: Path, repo: Path, timeout: float, allow_network: bool) -> _Result:
    """Run a tool in its own process group; stop it (and anything it started) at the time limit
    or when its output passes the cap."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=repo, env=_environment(home, allow_network), start_new_session=True)
    except OSError as exc:
        return _Result("", f"{argv[0]} could not be started: {exc.strerror}", 0.0)
    chunks: dict[int, list[bytes]] = {1: [], 2: []}
    size = 0
    stop: str | None = None
    out_pipe, err_pipe = cast(IO[bytes], proc.stdout), cast(IO[bytes], proc.stderr)  # both piped above
    with selectors.DefaultSelector() as selector:
        selector.register(out_pipe, selectors.EVENT_READ, 1)
        selector.register(err_pipe, selectors.EVENT_READ, 2)
        while selector.get_map() and stop is None:
            left = started + timeout - time.monotonic()
            if left <= 0:
                stop = f"{_name(argv)} did not finish within {timeout:g} seconds"
                break
            for key, _ in selector.select(left):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                chunks[key.data].append(data)
                size += len(data)
                if size > MAX_OUTPUT_BYTES:
                    stop = f"{_name(argv)} wrote more than {MAX_OUTPUT_BYTES // 2**20} MiB"
    if stop is not None:
        os.killpg(proc.pid, signal.SIGKILL)
    code = proc.wait()
    out_pipe.close()
    err_pipe.close()
    seconds = time.monotonic() - started
    if stop is not None:
        return _Result("", stop, seconds)
    stdout = b"".join(chunks[1]).decode("utf-8", "replace")
    stderr = b"".join(chunks[2]).decode("utf-8", "replace")
    if code != 0:
        return _Result("", _first_lines(stderr or stdout, repo, home) or f"{_name(argv)} failed (exit {code})", seconds)
    return _Result(stdout, None, seconds)


def _name(argv: list[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:2]])


def _first_lines(message: str, repo: Path, home: Path) -> str:
    """The first lines of a tool's message, with the temporary folders turned back into repository paths."""
    text = message.replace(str(repo) + "/", "").replace(str(repo), ".").replace(str(home) + "/", "")
    lines = [line.rstrip()[:300] for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[:ERROR_LINES])
