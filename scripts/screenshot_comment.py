#!/usr/bin/env python3
"""Render the bundled example's review comment as GitHub would and screenshot it.

Usage: python scripts/screenshot_comment.py [OUT.png]   (default docs/comment.png)
Needs Chromium (Debian: apt-get install chromium). The Markdown goes through cmark-gfm, GitHub's
renderer, and is shown with CSS close to GitHub's comment style; <details> blocks are opened so the
picture shows everything.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cmarkgfm  # noqa: E402
from cmarkgfm.cmark import Options  # noqa: E402

from bot.analyze import analyze_diff  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.load import SourceFile  # noqa: E402
from bot.render import markdown  # noqa: E402

CSS = """
body { background: #fff; margin: 0; padding: 16px; }
.comment { max-width: 920px; border: 1px solid #d0d7de; border-radius: 6px; }
.header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px; color: #57606a;
  font: 14px -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
.header b { color: #1f2328; }
.markdown-body { padding: 16px; color: #1f2328; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica,
  Arial, sans-serif, "Noto Color Emoji"; }
.markdown-body h3 { font-size: 1.25em; margin: 0 0 16px; } .markdown-body h4 { font-size: 1em; margin: 24px 0 8px; }
.markdown-body a { color: #0969da; text-decoration: none; }
.markdown-body code { background: rgba(175,184,193,.2); border-radius: 6px; padding: .2em .4em; font-size: 85%;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
.markdown-body pre { background: #f6f8fa; border-radius: 6px; padding: 12px 16px; overflow: auto; }
.markdown-body pre code { background: none; padding: 0; }
.markdown-body table { border-collapse: collapse; margin: 8px 0; display: block; overflow: auto; }
.markdown-body th, .markdown-body td { border: 1px solid #d0d7de; padding: 4px 10px; font-size: 13px; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
.markdown-body ul, .markdown-body ol { padding-left: 2em; } .markdown-body li { margin: 6px 0; }
.markdown-body hr { border: 0; border-top: 1px solid #d0d7de; margin: 16px 0; }
.markdown-body sub { color: #57606a; }
"""


def example_comment() -> str:
    def files(folder: Path) -> list[SourceFile]:
        out = []
        for p in sorted(folder.rglob("*.yaml")):
            data = p.read_bytes()
            blob = hashlib.sha1(data, usedforsecurity=False).hexdigest()
            out.append(SourceFile(str(p.relative_to(folder)), data, blob))
        return out

    report = analyze_diff(files(ROOT / "examples" / "base"), files(ROOT / "examples" / "head"), Config(),
                          "9f3c1e2a7b4d", "4e8a0c6d1f27")
    return markdown.render(report, link_base="https://github.com/acme/mesh-config/blob/4e8a0c6d1f27")


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ROOT / "docs" / "comment.png").resolve()
    body = cmarkgfm.github_flavored_markdown_to_html(example_comment(), options=Options.CMARK_OPT_UNSAFE)
    body = body.replace("<details>", "<details open>")
    page = (f"<!doctype html><meta charset=utf-8><style>{CSS}</style><div class=comment>"
            f"<div class=header><b>istio-pr-bot</b> bot commented</div><div class=markdown-body>{body}</div></div>")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium:
        print("Chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "comment.html"
        html.write_text(page)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--hide-scrollbars", f"--user-data-dir={tmp}/profile", "--window-size=960,3560",
                        f"--screenshot={out}", html.as_uri()], check=True, capture_output=True,
                       env={**os.environ, "HOME": tmp})
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
