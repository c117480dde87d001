"""The hidden, versioned marker that identifies prenv's sticky comment (pure).

The marker is the comment's first line, an HTML comment GitHub does not show:

    <!-- prenv {"v":1,"env":"staging"} -->

Its payload is compact JSON. Characters that could end or corrupt an HTML comment (`<`, `>`, `-`, `&`)
and every non-ASCII character are written as JSON `\\uXXXX` escapes, so any environment name round-trips
and the marker always stays one inert line. A marker alone proves nothing (anyone can paste it into a
comment): the caller also checks who wrote the comment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

VERSION = 1
PREFIX = "<!-- prenv "
SUFFIX = " -->"
# The JSON object between the prefix and the suffix: no `<`, `>` or `-` can occur in it (they are escaped).
_MARKER = re.compile(r"<!-- prenv (\{[^<>\n]*?\}) -->")
_ESCAPED = {"<": "\\u003c", ">": "\\u003e", "-": "\\u002d", "&": "\\u0026"}


@dataclass(frozen=True)
class Marker:
    env: str = ""  # config comment.environment: one sticky comment per PR and environment
    version: int = VERSION


def format_marker(marker: Marker) -> str:
    """The marker line (without a newline)."""
    payload = json.dumps({"v": marker.version, "env": marker.env}, separators=(",", ":"), ensure_ascii=True)
    for char, escape in _ESCAPED.items():
        payload = payload.replace(char, escape)
    return f"{PREFIX}{payload}{SUFFIX}"


def parse_marker(body: str) -> Marker | None:
    """The first prenv marker in a comment body, or None when it has none (or a malformed one)."""
    for match in _MARKER.finditer(body or ""):
        try:
            data = json.loads(match.group(1))
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        version, env = data.get("v"), data.get("env", "")
        if (
            isinstance(version, int)
            and not isinstance(version, bool)
            and version >= 1
            and isinstance(env, str)
        ):
            return Marker(env=env, version=version)
    return None


def strip_marker(body: str) -> str:
    """The body without its marker line (what a reader of the comment sees)."""
    marker = _MARKER.search(body or "")
    if marker is None:
        return body
    end = marker.end()
    if body[end : end + 1] == "\n":
        end += 1
    return body[: marker.start()] + body[end:]
