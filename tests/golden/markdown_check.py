"""Checks on rendered Markdown, by parsing it with markdown-it-py (CommonMark + GFM tables).

`problems(text)` lists what would make a comment broken or unsafe on GitHub: a code fence that runs to
the end of the document (never closed), `<details>` opened and closed unevenly, HTML tags other than
the few prenv writes, links to anything but http(s), and `@mentions` or autolinks in plain text.
The text of a link is not plain text: GitHub neither autolinks nor mentions inside a link (cmark-gfm
skips link brackets, its @mention filter skips `<a>`), so a link may show its own URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {"details", "summary", "sub"}
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)")
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
_AUTOLINK = re.compile(r"(?i)\b(?:https?://|www\.)")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*$")


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def _fence(token: Token, lines: list[str]) -> list[str]:
    assert token.map is not None
    end = token.map[1] - 1
    close = _FENCE_CLOSE.match(lines[end]) if end < len(lines) else None
    if token.map[1] - token.map[0] < 2 or not close or close.group(1)[0] != token.markup[0]:
        return [f"code fence opened on line {token.map[0] + 1} is never closed"]
    if len(close.group(1)) < len(token.markup):
        return [f"code fence opened on line {token.map[0] + 1} is closed too short"]
    return []


def _html(token: Token) -> tuple[list[str], int]:
    found = [
        f"HTML tag <{tag}> in {token.content.strip()[:60]!r}"
        for tag in _TAG.findall(token.content)
        if tag.lower() not in ALLOWED_TAGS
    ]
    lower = token.content.lower()
    return found, lower.count("<details") - lower.count("</details")


def _link(token: Token, hosts: tuple[str, ...]) -> list[str]:
    href = str(token.attrGet("href") or "")
    if not href.startswith(("https://", "http://")):
        return [f"link to {href!r}"]
    if hosts and not any(host in href for host in hosts):
        return [f"link to an unexpected host: {href!r}"]
    return []


def _text(token: Token) -> list[str]:
    found = []
    if _MENTION.search(token.content):
        found.append(f"mention in {token.content!r}")
    if _AUTOLINK.search(token.content):
        found.append(f"autolink in {token.content!r}")
    return found


def problems(text: str, *, allowed_link_hosts: tuple[str, ...] = ()) -> list[str]:
    found: list[str] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as markdown-it normalizes
    lines = text.split("\n")
    depth = 0
    in_link = 0
    for token in walk(parser().parse(text)):
        if token.type == "fence" and token.map is not None:
            found += _fence(token, lines)
        elif token.type in ("html_block", "html_inline"):
            tags, change = _html(token)
            found += tags
            depth += change
            if depth < 0:
                found.append("</details> without <details>")
                depth = 0
        elif token.type == "link_open":
            found += _link(token, allowed_link_hosts)
            in_link += 1
        elif token.type == "link_close":
            in_link -= 1
        elif token.type == "image":
            found.append(f"image {token.attrGet('src')!r}")
        elif token.type == "text" and not in_link:
            found += _text(token)
    if depth:
        found.append(f"{depth} <details> left open")
    return found


def text_outside_code(text: str) -> str:
    """The plain text GitHub would show outside code (links' text included)."""
    return "\n".join(t.content for t in walk(parser().parse(text)) if t.type == "text")
