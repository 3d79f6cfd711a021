"""Pinned helm and kustomize for the tests: find them at the pinned version, or build them once.

    python3 scripts/tools.py build [helm|kustomize ...]   build what is missing into .cache/bin
    python3 scripts/tools.py start                        the same in the background, when Go is there
                                                          (make test: the venv and lint overlap the build)
    python3 scripts/tools.py path NAME                    print the binary to use, or exit 1 and say why

A tool is used from PATH when it reports the pinned version (scripts/tools.env), else from
.cache/bin, else it is built there from its Go module with `go install MODULE@VERSION` (the
module's own go.mod pins every dependency). Builds share the user's Go module and build caches,
so a second clone on the same machine builds in seconds; both tools build at once. Standard
library only: `make tools` runs it before any virtualenv exists.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE_BIN = ROOT / ".cache" / "bin"
VERSIONS_FILE = Path(__file__).resolve().parent / "tools.env"


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    package: str  # what `go install` builds
    ldflags: str
    version_argv: tuple[str, ...]  # prints the version, and nothing else that matters


def versions() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in VERSIONS_FILE.read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def tools() -> dict[str, Tool]:
    pinned = versions()
    helm, kustomize = pinned["HELM_VERSION"], pinned["KUSTOMIZE_VERSION"]
    helm_module = f"helm.sh/helm/{major(helm)}"
    return {
        # helm's version string comes from a linker flag, as in helm's own Makefile (LDFLAGS, `make build`).
        "helm": Tool("helm", helm, f"{helm_module}/cmd/helm@{helm}",
                     f"-s -w -X {helm_module}/internal/version.version={helm}",
                     ("version", "--template", "{{.Version}}")),
        # kustomize reads its version from the module build info (api/provenance/provenance.go).
        "kustomize": Tool("kustomize", kustomize, f"sigs.k8s.io/kustomize/kustomize/{major(kustomize)}@{kustomize}",
                          "-s -w", ("version",)),
    }


def major(version: str) -> str:
    return version.split(".", 1)[0]


def reported_version(binary: str, tool: Tool) -> str | None:
    try:
        proc = subprocess.run([binary, *tool.version_argv], capture_output=True, text=True, timeout=30,
                              check=False,
                              env={"PATH": "", "HOME": tempfile.gettempdir()})
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"v\d+\.\d+\.\d+\S*", proc.stdout)
    return found.group(0) if proc.returncode == 0 and found else None


def find(tool: Tool) -> str | None:
    """The binary at the pinned version: on PATH first, then the cached build."""
    for candidate in (shutil.which(tool.name), str(CACHE_BIN / tool.name)):
        if candidate and os.path.isfile(candidate) and reported_version(candidate, tool) == tool.version:
            return candidate
    return None


def build(wanted: list[Tool]) -> list[str]:
    """Build the tools not found yet, in parallel; the problems, one line each."""
    go = shutil.which("go")
    if go is None:
        return [f"{t.name} {t.version} is not on PATH and Go is not installed to build it" for t in wanted]
    CACHE_BIN.mkdir(parents=True, exist_ok=True)
    with open(CACHE_BIN.parent / "tools.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building the same tools
        missing = [t for t in wanted if find(t) is None]
        problems: list[str] = []
        with tempfile.TemporaryDirectory(dir=CACHE_BIN.parent, prefix="build-") as scratch:
            env = {**os.environ, "GOBIN": scratch, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local",
                   "GOFLAGS": "-buildvcs=false"}
            started = time.monotonic()
            # Unoptimised (-N -l): a third less compile time on two cores, the same behaviour; these
            # binaries render test fixtures, where their speed does not matter.
            procs = [(t, subprocess.Popen([go, "install", "-trimpath", "-gcflags=all=-N -l", f"-ldflags={t.ldflags}",
                                           t.package],
                                          env=env, cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
                     for t in missing]
            for t, proc in procs:
                out, _ = proc.communicate()
                if proc.returncode != 0:
                    tail = out.decode("utf-8", "replace").strip().splitlines()[-5:]
                    problems.append(f"building {t.name} {t.version} failed: " + " / ".join(tail))
                    continue
                os.replace(os.path.join(scratch, t.name), CACHE_BIN / t.name)
            if missing:
                names = ", ".join(f"{t.name} {t.version}" for t in missing)
                print(f"built {names} into {CACHE_BIN} in {time.monotonic() - started:.0f}s", file=sys.stderr)
        problems += [f"{t.name}: the build does not report {t.version}" for t in missing
                     if not any(t.name in p for p in problems) and find(t) is None]
        return problems


def start() -> str:
    """Start building the missing tools in a process of its own; what was done, in words. A test run
    that needs them waits for it (the build holds .cache/tools.lock)."""
    missing = [t for t in tools().values() if find(t) is None]
    if not missing:
        return ""
    if shutil.which("go") is None:
        return f"{', '.join(t.name for t in missing)}: not found and Go is not installed to build them"
    log = CACHE_BIN.parent / "tools-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "build"], stdout=out,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return f"building {', '.join(f'{t.name} {t.version}' for t in missing)} in the background (log: {log})"


def main(argv: list[str]) -> int:
    known = tools()
    if argv == ["start"]:
        said = start()
        if said:
            print(said, file=sys.stderr)
        return 0
    if len(argv) >= 1 and argv[0] == "build" and set(argv[1:]) <= set(known):
        problems = build([known[n] for n in (argv[1:] or known)])
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if len(argv) == 2 and argv[0] == "path" and argv[1] in known:
        found = find(known[argv[1]])
        if found is None:
            print(f"{argv[1]} {known[argv[1]].version}: not on PATH and not built (make tools)", file=sys.stderr)
            return 1
        print(found)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
