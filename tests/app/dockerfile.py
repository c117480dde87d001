"""The example app's Dockerfile, read statically (no Docker engine here): image tests and the replica."""

from __future__ import annotations

import json
import re
from pathlib import Path


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            pairs.append((word.upper(), " ".join(rest.split())))
    return pairs


def read(path: Path) -> list[tuple[str, str]]:
    return instructions(path.read_text(encoding="utf-8"))


def environment(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The image's ENV (the `ENV NAME=value ...` form only, the one the Dockerfile uses)."""
    values: dict[str, str] = {}
    for word, args in pairs:
        if word == "ENV":
            for item in args.split():
                name, equals, value = item.partition("=")
                assert equals, f"ENV {args}: use the NAME=value form"
                values[name] = value
    return values


def exec_form(pairs: list[tuple[str, str]], word: str) -> list[str] | None:
    """The last CMD or ENTRYPOINT as an argument list (exec form only), None when there is none."""
    found = [args for instruction, args in pairs if instruction == word]
    if not found:
        return None
    argv = json.loads(found[-1])
    assert isinstance(argv, list), f"{word} {found[-1]}: use the exec form"
    return [str(arg) for arg in argv]
