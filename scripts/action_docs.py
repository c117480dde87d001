"""The README's table of the action's inputs and outputs, generated from action.yml.

    python scripts/action_docs.py            rewrite the table between the markers in README.md
    python scripts/action_docs.py --check    exit 1 when README.md differs from action.yml (drift)

The table sits between `<!-- action-docs:start -->` and `<!-- action-docs:end -->`. When README.md has no
markers, writing adds a section "## The action" holding them at its end (and creates README.md if needed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- action-docs:start -->"
END = "<!-- action-docs:end -->"
NOTE = "<!-- Generated from action.yml by scripts/action_docs.py: edit action.yml, then run that script. -->"


def _cell(text: Any) -> str:
    """One Markdown table cell: a single line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(value: Any) -> str:
    if value is None or value == "":
        return "*(empty)*"
    return f"`{_cell(value)}`"


def table(action: dict[str, Any]) -> str:
    """The generated block, markers included."""
    lines = [
        START,
        NOTE,
        "",
        "### Inputs",
        "",
        "| Input | Description | Default | Required |",
        "|---|---|---|---|",
    ]
    for name, given in (action.get("inputs") or {}).items():
        spec = given or {}
        description, default = _cell(spec.get("description", "")), _default(spec.get("default"))
        required = "yes" if spec.get("required") else "no"
        lines.append(f"| `{name}` | {description} | {default} | {required} |")
    lines += ["", "### Outputs", "", "| Output | Description |", "|---|---|"]
    for name, spec in (action.get("outputs") or {}).items():
        lines.append(f"| `{name}` | {_cell((spec or {}).get('description', ''))} |")
    lines.append(END)
    return "\n".join(lines)


def updated(readme: str, block: str) -> str:
    """README text with `block` between the markers; a new "## The action" section when there are none."""
    start, end = readme.find(START), readme.find(END)
    if start == -1 and end == -1:
        prefix = readme.rstrip("\n") + "\n\n" if readme.strip() else ""
        return f"{prefix}## The action\n\n{block}\n"
    if start == -1 or end == -1 or end < start:
        raise ValueError(f"README.md must hold {START} followed by {END}, each once")
    return readme[:start] + block + readme[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate the README's table of the action's inputs/outputs."
    )
    parser.add_argument("--check", action="store_true", help="fail when README.md is out of date")
    parser.add_argument("--action", type=Path, default=ROOT / "action.yml")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    action = yaml.safe_load(args.action.read_text(encoding="utf-8"))
    current = args.readme.read_text(encoding="utf-8") if args.readme.exists() else ""
    try:
        wanted = updated(current, table(action))
    except ValueError as exc:
        print(f"action_docs: {args.readme}: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if current != wanted:
            print(
                f"action_docs: {args.readme.name} does not match {args.action.name}; "
                "run `python scripts/action_docs.py` and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != wanted:
        args.readme.write_text(wanted, encoding="utf-8")
        print(f"action_docs: updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
