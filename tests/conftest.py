"""Session fixtures: the pinned renderers (tests/tools.py says how they are found or built)."""

from __future__ import annotations

import pytest

from bot.buildtools import Renderers
from tests import tools


@pytest.fixture(scope="session")
def kustomize() -> Renderers:
    return tools.renderers("kustomize")


@pytest.fixture(scope="session")
def helm() -> Renderers:
    return tools.renderers("helm")


@pytest.fixture(scope="session")
def renderers() -> Renderers:
    return tools.renderers("helm", "kustomize")
