"""helm and kustomize for the tests, at the versions in scripts/tools.env.

A tool on PATH that reports the pinned version is used; else the one built into .cache/bin; else,
when Go is installed, both missing tools are built there at once (scripts/tools.py), in the
background from the start of the run, while the tests that need no tool run first. When a tool
cannot be had, its tests skip with the reason, except under CI=true, where they fail: CI must
test the renderers.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from bot.buildtools import Renderer, Renderers
from bot.targets import Tool


def _load_tools_script() -> ModuleType:
    """scripts/tools.py as a module (registered first: its dataclasses look themselves up)."""
    path = Path(__file__).resolve().parent.parent / "scripts" / "tools.py"
    spec = importlib.util.spec_from_file_location("istio_pr_bot_tools", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tools_script = _load_tools_script()


_background: list[subprocess.Popen[bytes]] = []


def start_building() -> None:
    """Build missing tools in the background while the tests that need none run (Go permitting)."""
    known = tools_script.tools().values()
    if shutil.which("go") is None or all(tools_script.find(t) for t in known):
        return
    log = tools_script.CACHE_BIN.parent / "tools-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        _background.append(subprocess.Popen([sys.executable, str(tools_script.__file__), "build"],
                                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))


@cache
def _pinned(name: str) -> tuple[str | None, str]:
    """(binary, why there is none)."""
    for proc in _background:
        proc.wait()
    known = tools_script.tools()
    found = tools_script.find(known[name])
    if found is not None:
        return found, ""
    missing = [t for t in known.values() if tools_script.find(t) is None]
    if shutil.which("go") is None:
        return None, f"{name} {known[name].version} is not on PATH and Go is not installed to build it (make tools)"
    problems = tools_script.build(missing)
    found = tools_script.find(known[name])
    return found, "; ".join(problems) or f"{name} could not be built"


def pinned(name: str) -> Renderer:
    """The pinned tool, or skip (fail under CI=true) with the reason."""
    binary, why = _pinned(name)
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs {name}: {why}", pytrace=False)
        pytest.skip(why)
    tool = Tool.HELM if name == "helm" else Tool.KUSTOMIZE
    return Renderer(tool, (binary,), tools_script.tools()[name].version)


def renderers(*names: str) -> Renderers:
    found = {name: pinned(name) for name in names}
    return Renderers(helm=found.get("helm"), kustomize=found.get("kustomize"))
