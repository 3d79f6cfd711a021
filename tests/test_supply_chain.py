"""What gets installed is pinned: the Dockerfile's base image and packages, and the hashed locks."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("runtime", "test", "build")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in dockerfile.splitlines()
                                            if not line.lstrip().startswith("#")))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def commands(run: str) -> list[list[str]]:
    """The simple commands of a RUN line, split at && and ;."""
    return [shlex.split(part) for part in re.split(r"&&|;", run) if part.strip()]


def pip_args(argv: list[str]) -> list[str] | None:
    """The arguments after `pip` when argv runs pip (as pip, pip3 or python -m pip), else None."""
    if argv and re.fullmatch(r"pip3?", argv[0]):
        return argv[1:]
    if len(argv) > 2 and argv[0].startswith("python") and argv[1:3] == ["-m", "pip"]:
        return argv[3:]
    return None


def pinned(lock: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (version, hashes) of a lock file, refusing any entry that is not `==` with hashes."""
    entries: dict[str, tuple[str, tuple[str, ...]]] = {}
    text = (ROOT / "requirements" / f"{lock}.txt").read_text()
    for block in re.split(r"\n(?=\S)", re.sub(r"\s*#.*", "", text).strip()):
        head, *rest = block.split("\\\n")
        req = Requirement(head.strip())
        spec = str(req.specifier)
        assert spec.startswith("==") and "," not in spec, f"{lock}.txt: {head.strip()} is not pinned with =="
        hashes = tuple(re.findall(r"--hash=(sha256:[0-9a-f]{64})", "".join(rest)))
        assert hashes, f"{lock}.txt: {req.name} has no hash"
        entries[canonicalize_name(req.name)] = (spec[2:], hashes)
    return entries


def dockerfile_problems(dockerfile: str) -> list[str]:
    """Everything in a Dockerfile that could install an artefact nobody pinned."""
    problems = []
    steps = instructions(dockerfile)
    stages = {args.split()[-1] for word, args in steps if word == "FROM" and " AS " in args.upper()}
    images = [args.split()[0] for word, args in steps if word == "FROM" and args.split()[0] not in stages]
    problems += [f"{image} is not pinned by digest" for image in images if not DIGEST.search(image)]
    pythons = [image for image in images if image.startswith("python:")]
    if len(set(pythons)) > 1:
        problems.append(f"stages use different base images: {pythons}")
    for word, args in steps:  # Go modules are checked against the checksum database, always
        if word in ("ENV", "ARG", "RUN") and re.search(r"GOSUMDB=off|GONOSUMDB|GONOSUMCHECK|GOINSECURE|GOPRIVATE|"
                                                       r"GOFLAGS=\S*-insecure|GOPROXY=\S*direct", args):
            problems.append(f"Go module verification weakened: {args}")
    copied = {args.split()[-1]: args.split()[0] for word, args in steps
              if word == "COPY" and not args.startswith("--from")}
    for word, args in steps:
        if word == "ADD" and re.search(r"https?://", args) and not re.search(r"--checksum=sha256:[0-9a-f]{64}", args):
            problems.append(f"ADD of a URL without --checksum=sha256: {args}")
        if word == "RUN" and re.search(r"\b(curl|wget)\b", args) and not re.search(r"sha256sum (-c|--check)", args):
            problems.append(f"download without a checksum check: {args}")
    for argv in (c for word, line in steps if word == "RUN" for c in commands(line)):
        pip = pip_args(argv)
        if pip and pip[0] in ("install", "wheel", "download") and "--no-index" not in pip:
            if "--require-hashes" not in pip:
                problems.append(f"pip without --require-hashes or --no-index: {shlex.join(argv)}")
            files = [pip[i + 1] for i, a in enumerate(pip[:-1]) if a in ("-r", "--requirement")]
            extra = [a for a in pip[1:] if not a.startswith("-") and a not in files]
            if extra or not files:
                problems.append(f"pip installs {extra or 'nothing'} outside a lock: {shlex.join(argv)}")
            for name in files:
                source = copied.get(name, name)
                if not re.fullmatch(r"requirements/\w+\.txt", source) or not (ROOT / source).is_file():
                    problems.append(f"{name} is not one of the locks")
        if argv[:2] == ["go", "install"]:
            problems += [f"go install of {a} without an exact version" for a in argv[2:]
                         if not a.startswith("-") and not re.search(r"@(v\d+\.\d+\.\d+|\$\{\w+_VERSION\})$", a)]
        if argv[:2] == ["apt-get", "install"]:
            problems += [f"apt package {p} is not pinned to an exact version" for p in argv[2:]
                         if not p.startswith("-") and not re.fullmatch(r"[a-z0-9.+-]+=[0-9][^*?\s]*", p)]
    return problems


def test_the_dockerfile_installs_only_pinned_artefacts() -> None:
    """Base image by digest; pip only from hashed locks (or local wheels, no index); apt exact versions."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile_problems(dockerfile) == []
    steps = instructions(dockerfile)
    assert [w for w, _ in steps].count("FROM") == 3
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "--require-hashes --no-deps -r requirements/build.txt" in runs
    assert "--require-hashes --no-deps -r /tmp/runtime.txt" in runs


GOOD_FROM = "FROM python:3.14-slim@sha256:" + "0" * 64 + "\n"


@pytest.mark.parametrize(("dockerfile", "problem"), [
    ("FROM python:3.14-slim\n", "python:3.14-slim is not pinned by digest"),
    (GOOD_FROM + "FROM python:3.13-slim@sha256:" + "1" * 64 + " AS x\n", "different base images"),
    (GOOD_FROM + "RUN pip install --no-cache-dir .\n", "pip without --require-hashes"),
    (GOOD_FROM + "RUN pip install --require-hashes -r requirements/runtime.txt jinja2\n",
     "pip installs ['jinja2'] outside a lock"),
    (GOOD_FROM + "COPY other.txt /r.txt\nRUN python -m pip install --require-hashes -r /r.txt\n",
     "/r.txt is not one of the locks"),
    (GOOD_FROM + "RUN apt-get update \\\n && apt-get install -y --no-install-recommends git=1:2.*\n",
     "apt package git=1:2.* is not pinned"),
    (GOOD_FROM + "RUN apt-get install -y curl\n", "apt package curl is not pinned"),
    (GOOD_FROM + "ADD https://get.helm.sh/helm-v3.19.0-linux-amd64.tar.gz /tmp/\n", "ADD of a URL without"),
    (GOOD_FROM + "RUN curl -fsSL -o /usr/local/bin/kustomize https://example.invalid/kustomize\n",
     "download without a checksum check"),
    (GOOD_FROM + "FROM golang:1.26 AS tools\n", "golang:1.26 is not pinned by digest"),
    (GOOD_FROM + "RUN go install sigs.k8s.io/kustomize/kustomize/v5@latest\n", "without an exact version"),
    (GOOD_FROM + "ENV GOSUMDB=off\n", "Go module verification weakened"),
    (GOOD_FROM + "ENV GOPROXY=https://proxy.golang.org,direct\n", "Go module verification weakened"),
])


def test_an_unpinned_install_is_caught(dockerfile: str, problem: str) -> None:
    assert any(problem in p for p in dockerfile_problems(dockerfile)), dockerfile_problems(dockerfile)


def test_the_image_builds_the_render_tools_the_tests_use() -> None:
    """The tools stage `go install`s exactly what scripts/tools.py builds for the tests (same module,
    version variable and linker flags), and the runtime stage takes both binaries."""
    from tests.tools import tools_script

    steps = instructions((ROOT / "Dockerfile").read_text())
    installs = [argv for word, line in steps if word == "RUN" for argv in commands(line) if argv[:2] == ["go", "install"]]
    built = {argv[-1]: next(a.split("=", 1)[1] for a in argv if a.startswith("-ldflags=")) for argv in installs}
    for key, tool in (("HELM_VERSION", tools_script.tools()["helm"]), ("KUSTOMIZE_VERSION", tools_script.tools()["kustomize"])):
        module, version = tool.package.rsplit("@", 1)
        assert built.get(f"{module}@${{{key}}}") == tool.ldflags.replace(version, f"${{{key}}}"), built
    assert ("COPY", "--from=tools /out/helm /out/kustomize /usr/local/bin/") in steps
    assert any(word == "COPY" and args == "scripts/tools.env /tmp/tools.env" for word, args in steps)


def test_locks_are_hashed_and_agree() -> None:
    """Each lock pins every entry with hashes; the image installs the versions the tests ran."""
    locks = {lock: pinned(lock) for lock in LOCKS}
    for name, (version, hashes) in locks["runtime"].items():
        assert locks["test"][name] == (version, hashes), f"{name}: runtime.txt and test.txt differ"
    for name, entry in locks["build"].items():
        assert locks["test"].get(name) == entry, f"{name}: build.txt and test.txt differ"


def test_every_declared_dependency_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {"runtime": project["project"]["dependencies"],
              "test": [r for extra in project["project"]["optional-dependencies"].values() for r in extra],
              "build": project["build-system"]["requires"]}
    for lock, requirements in wanted.items():
        entries = pinned(lock)
        for line in requirements:
            req = Requirement(line)
            name = canonicalize_name(req.name)
            assert name in entries, f"{req.name} is declared but not in requirements/{lock}.txt: run make lock"
            assert req.specifier.contains(entries[name][0], prereleases=True), (
                f"requirements/{lock}.txt pins {req.name} {entries[name][0]}, outside {req.specifier}: run make lock")


def test_the_wheel_builds_offline_from_the_locked_backend(tmp_path: Path) -> None:
    """What the Dockerfile's build stage does: no build isolation, no index, only locked setuptools."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "bot", src / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-cache-dir", "--no-deps",
                           "--no-build-isolation", "--no-index", "--wheel-dir", str(tmp_path / "wheels"), str(src)],
                          check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [wheel] = (tmp_path / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        assert "bot/templates/comment.md.j2" in names
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        assert "istio-pr-bot = bot.cli:entry" in whl.read(f"{dist_info}/entry_points.txt").decode()
        metadata = whl.read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert f"{dist_info}/licenses/LICENSE" in names
