"""Pin this action in the example workflows and the README to one commit of this repository.

    python scripts/pin_action.py v0.2.0      # a tag, a branch or a SHA; resolved to the full SHA

Every `uses: istio-pr-bot/istio-pr-bot@...` becomes `uses: istio-pr-bot/istio-pr-bot@<SHA> # v<version>`,
the version being `bot.__version__` at that commit, so the comment says what the SHA is and Dependabot
or Renovate can move the pin in the repositories that copy an example. Run it after tagging a
release and commit the result; tests/test_workflows.py checks that every pin names one commit of
this repository and its version.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTION = "istio-pr-bot/istio-pr-bot"
USES = re.compile(rf"(uses:[ \t]*{re.escape(ACTION)}@)\S+([ \t]+#[^\n]*)?")
VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def pinned_files(root: Path) -> list[Path]:
    """The files whose `uses:` lines pin this action: every example workflow and the README."""
    return [*sorted((root / "examples" / "workflows").glob("*.yml")), root / "README.md"]


def resolve(root: Path, rev: str) -> tuple[str, str]:
    """The full commit SHA of `rev` and the version the action has at that commit."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"pin_action: git {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    sha = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    found = VERSION.search(git("show", f"{sha}:bot/__init__.py"))
    if not found:
        raise SystemExit(f"pin_action: no __version__ in bot/__init__.py at {sha}")
    return sha, found.group(1)


def pin(root: Path, sha: str, version: str) -> list[Path]:
    """Rewrite every pin to `sha` with the comment `# v<version>`; the files that changed."""
    changed = []
    for path in pinned_files(root):
        text = path.read_text()
        new = USES.sub(lambda m: f"{m.group(1)}{sha} # v{version}", text)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sha, version = resolve(ROOT, argv[0])
    changed = pin(ROOT, sha, version)
    print(f"{ACTION}@{sha} # v{version}: {len(changed)} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
