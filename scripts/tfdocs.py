"""Generate the inputs/outputs tables of terraform/*/README.md from the roots' variables and outputs.

    python scripts/tfdocs.py            rewrite the tables between the markers
    python scripts/tfdocs.py --check    exit 1 (and say which) when a README's tables are out of date

The tables live between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`; the rest of each README is
written by hand. The .tf files are parsed with `hcl2` (bc-python-hcl2, the parser checkov uses).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROOTS = ("terraform/bootstrap", "terraform/base", "terraform/preview")


class DocsError(Exception):
    """A root or README that cannot be documented (parse error, missing markers)."""


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: str
    default: Any
    required: bool


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool


def _first(block: dict[str, Any], key: str, default: Any = None) -> Any:
    """hcl2 wraps every attribute value in a list; take the value."""
    value = block.get(key)
    if isinstance(value, list) and value:
        return value[0]
    return default


def _expression(value: Any) -> str:
    """`${map(string)}` -> `map(string)`; hcl2 writes bare expressions in interpolation syntax."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1]
    return text


def _parse(path: Path) -> dict[str, Any]:
    from hcl2.api import load as load_hcl

    try:
        with path.open(encoding="utf-8") as handle:
            document: dict[str, Any] = load_hcl(handle)
    except Exception as exc:  # hcl2 raises lark errors of several kinds
        raise DocsError(f"{path}: cannot parse HCL: {exc}") from exc
    return document


def read_root(root: Path) -> tuple[list[Variable], list[Output]]:
    """The variables and outputs a root declares, in file order (files sorted by name)."""
    variables: list[Variable] = []
    outputs: list[Output] = []
    files = sorted(root.glob("*.tf"))
    if not files:
        raise DocsError(f"{root}: no .tf files")
    for path in files:
        document = _parse(path)
        for item in document.get("variable", []):
            for name, block in item.items():
                variables.append(
                    Variable(
                        name=name,
                        description=str(_first(block, "description", "")),
                        type=_expression(_first(block, "type", "any")),
                        default=_first(block, "default"),
                        required="default" not in block,
                    )
                )
        for item in document.get("output", []):
            for name, block in item.items():
                outputs.append(
                    Output(
                        name=name,
                        description=str(_first(block, "description", "")),
                        sensitive=bool(_first(block, "sensitive", False)),
                    )
                )
    return variables, outputs


def _cell(text: str) -> str:
    """Table-cell text: one line, pipes escaped, and `<...>` shown rather than taken for HTML."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """A code span: pipes still end the cell, but HTML entities would show literally."""
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`" if text else ""


def _default(value: Any) -> str:
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return _expression(value)
    return json.dumps(value, sort_keys=True)


def render(variables: Sequence[Variable], outputs: Sequence[Output]) -> str:
    """The Markdown that goes between the markers."""
    lines = ["## Inputs", ""]
    if variables:
        lines += ["| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
        for var in variables:
            default = "" if var.required else _code(_default(var.default))
            required = "yes" if var.required else "no"
            lines.append(
                f"| `{var.name}` | {_cell(var.description)} | {_code(var.type)} | {default} | {required} |"
            )
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "|---|---|"]
        for out in outputs:
            note = " (sensitive)" if out.sensitive else ""
            lines.append(f"| `{out.name}` | {_cell(out.description)}{note} |")
    else:
        lines.append("No outputs.")
    return "\n".join(lines)


def update(readme_text: str, tables: str, readme: Path) -> str:
    """`readme_text` with the part between the markers replaced by `tables`."""
    start = readme_text.find(BEGIN)
    end = readme_text.find(END)
    if start < 0 or end < 0 or end < start:
        raise DocsError(f"{readme}: add the markers {BEGIN} and {END} where the tables go")
    return readme_text[: start + len(BEGIN)] + "\n" + tables + "\n" + readme_text[end:]


def process(roots: Iterable[Path], *, check: bool) -> list[Path]:
    """Regenerate (or, with `check`, compare) each root's README; returns the READMEs that differ."""
    drifted: list[Path] = []
    for root in roots:
        readme = root / "README.md"
        if not readme.is_file():
            raise DocsError(f"{root}: no README.md")
        current = readme.read_text(encoding="utf-8")
        wanted = update(current, render(*read_root(root)), readme)
        if wanted != current:
            drifted.append(readme)
            if not check:
                readme.write_text(wanted, encoding="utf-8")
    return drifted


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when a README is out of date")
    parser.add_argument("roots", nargs="*", type=Path, help="Terraform roots (default: terraform/*)")
    args = parser.parse_args(argv)
    roots = args.roots or [REPO_ROOT / name for name in DEFAULT_ROOTS]
    try:
        drifted = process(roots, check=args.check)
    except DocsError as exc:
        print(f"tfdocs: {exc}", file=sys.stderr)
        return 2
    for readme in drifted:
        if args.check:
            print(
                f"tfdocs: {readme} is out of date; run `python scripts/tfdocs.py` and commit it",
                file=sys.stderr,
            )
        else:
            print(f"tfdocs: updated {readme}")
    return 1 if args.check and drifted else 0


if __name__ == "__main__":
    sys.exit(main())
