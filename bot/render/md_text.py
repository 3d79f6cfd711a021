"""Markdown that a value from a manifest cannot break: escaped prose and table cells, code fences the
text cannot close, and a file's line as a link."""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.findings import Ref

MAX_VALUE = 200  # a value longer than this is shortened
_SPECIAL = re.compile(r"([\\`*_\[\]!|~])")


def md(value: object, limit: int = MAX_VALUE, html: bool = False) -> str:
    """Escape a value for Markdown prose or a table cell (`html`: for text inside an HTML element such
    as <summary>, where Markdown is not read, so nothing is backslash-escaped)."""
    text = " ".join(str(value).split())  # no line breaks: nothing can end a table row or start a block
    text = re.sub(r"\S{121,}", lambda m: m[0][:80] + "…" + m[0][-30:], text)  # no endless words
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;")
    text = text.replace('"', "&quot;") if html else _SPECIAL.sub(r"\\\1", text)
    text = text.replace("<", "&lt;").replace(">", "&gt;")  # no raw HTML, no comments
    # A zero-width space (\0 until the end) breaks what GitHub would turn into a ping or a link.
    text = text.replace("@", "@\0")  # @user, @org/team
    text = re.sub(r"(?<=\w)#|#(?=\d)", "#\0", text)  # #123, org/repo#123
    text = re.sub(r"(?i)(?<=[a-z])(?=://)", "\0", text)  # https://...
    text = re.sub(r"(?i)\bwww\.", "www\0.", text)
    return text.replace("\0", "&#8203;")


def fence(text: str, lang: str = "", indent: str = "") -> str:
    """A fenced code block that the text cannot close early."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    bar = "`" * max(3, longest + 1)
    body = "\n".join(indent + line for line in text.splitlines())
    return f"{indent}{bar}{lang}\n{body}\n{indent}{bar}"


def location(ref: Ref, line: int, link_base: str | None) -> str:
    label = md(f"{ref.file}:{line}")
    if not link_base:
        return label
    return f"[{label}]({link_base.rstrip('/')}/{quote(ref.file, safe='/')}#L{line})"
