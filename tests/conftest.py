"""Session fixtures: the pinned renderers (tests/tools.py says how they are found or built)."""

from __future__ import annotations

import os

import pytest

from bot.buildtools import Renderers
from tests import tools

RENDERER_FIXTURES = frozenset({"kustomize", "helm", "renderers", "tools_on_path"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that render run last, so that a first run builds the tools while the others run."""
    rendering = [i for i in items if RENDERER_FIXTURES & set(getattr(i, "fixturenames", ()))]
    if rendering:
        tools.start_building()
        last = {id(i) for i in rendering}
        others = [i for i in items if id(i) not in last]
        items[:] = others + rendering


@pytest.fixture(scope="session")
def kustomize() -> Renderers:
    return tools.renderers("kustomize")


@pytest.fixture(scope="session")
def helm() -> Renderers:
    return tools.renderers("helm")


@pytest.fixture(scope="session")
def renderers() -> Renderers:
    return tools.renderers("helm", "kustomize")


@pytest.fixture()
def tools_on_path(renderers: Renderers, monkeypatch: pytest.MonkeyPatch) -> str:
    """PATH with the pinned helm and kustomize first, for code that looks them up (the command line)."""
    folders = [os.path.dirname(r.argv[0]) for r in (renderers.helm, renderers.kustomize) if r is not None]
    path = os.pathsep.join([*dict.fromkeys(folders), os.environ.get("PATH", "")])
    monkeypatch.setenv("PATH", path)
    return path
