"""Shared test helpers: run the pure pipeline on in-memory manifests."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from bot.analyze import analyze_audit, analyze_diff
from bot.buildtools import Renderers
from bot.config import Config
from bot.load import SourceFile
from bot.report import Report
from bot.targets import RenderSettings


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; its output, stripped."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def source(path: str, text: str | bytes) -> SourceFile:
    data = text.encode() if isinstance(text, str) else text
    return SourceFile(path, data, hashlib.sha1(data).hexdigest())


def diff(base: dict[str, str], head: dict[str, str], config: Config | None = None) -> Report:
    config = config or Config()
    return analyze_diff([source(p, t) for p, t in base.items()], [source(p, t) for p, t in head.items()],
                        config, "base", "head")


def review_trees(base: Path, head: Path, config: Config, renderers: Renderers, settings: RenderSettings) -> Report:
    """Two folders reviewed target by target, as `diff --base-dir --head-dir` does."""
    from bot import targets_review, tree
    from bot.targets_render import Tools

    trees = tree.DirTrees([str(base), str(head)])
    collected = trees.collect(config)
    return targets_review.review_diff(trees, collected, config, "base", "head",
                                      lambda: Tools(renderers, settings)).report


def audit(files: dict[str, str], config: Config | None = None) -> Report:
    return analyze_audit([source(p, t) for p, t in files.items()], config or Config(), "head")


def lines(report: Report, rule: str | None = None) -> list[str]:
    """One line per finding: severity, rule, resource, file:line, introduced."""
    return sorted(
        f"{f.severity.value} {f.rule} {f.resource.display} {f.resource.file}:{f.location_line}"
        + ("" if f.introduced else " pre-existing")
        for f in report.findings if rule is None or f.rule == rule
    )


def load_script(name: str):  # type: ignore[no-untyped-def]
    """Import a file of scripts/ as a module (they are run as commands, not installed)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
