"""Every `uses:` is pinned: a full commit SHA with its version as a comment, and the SHA of scripts/pins.txt.

Usage: python scripts/check_pins.py [--pins FILE] PATH...   (files, or folders searched for *.yml/*.yaml)

Accepted forms:
    uses: owner/repo[/path]@<40 hex> # vX[.Y[.Z]]   the SHA and the version listed in the pins file
    uses: ./path                                    an action of this repository
    uses: docker://image@sha256:<64 hex>            an image by digest
Prints one line per problem (`file:line: what is wrong`) and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

PINS = Path(__file__).resolve().parent / "pins.txt"
_USES = re.compile(
    r"""^\s*(?:-\s+)?uses:\s*(?P<q>["']?)(?P<ref>[^\s"'#]+)(?P=q)\s*(?:#\s*(?P<comment>.*))?$"""
)
_PIN = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<version>v\d+(?:\.\d+)*)\s*->\s*(?P<sha>[0-9a-f]{40})\b")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_VERSION = re.compile(r"^v\d+(?:\.\d+)*$")
_DIGEST = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")


def read_pins(path: Path) -> dict[str, tuple[str, str]]:
    """owner/repo -> (version, sha) from the pins file."""
    pins: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PIN.match(line.strip())
        if not match:
            raise SystemExit(f"{path}:{number}: not `owner/repo@vX.Y.Z -> <40-hex sha> | source`: {line!r}")
        pins[match["action"]] = (match["version"], match["sha"])
    return pins


def check_line(ref: str, comment: str, pins: dict[str, tuple[str, str]]) -> str:
    """What is wrong with one `uses:` reference, or ''."""
    if ref.startswith("./"):
        return ""
    if ref.startswith("docker://"):
        return "" if _DIGEST.match(ref) else f"{ref}: pin the image by digest (docker://IMAGE@sha256:...)"
    if "@" not in ref:
        return f"{ref}: no ref at all; pin a full commit SHA"
    name, sha = ref.rsplit("@", 1)
    action = "/".join(name.split("/", 2)[:2])
    if not _SHA.match(sha):
        return f"{ref}: not pinned to a full commit SHA (a tag or branch can be moved)"
    version = comment.split(maxsplit=1)[0] if comment.strip() else ""
    if not _VERSION.match(version):
        return f"{ref}: add the version as a comment, such as `# v1.2.3`"
    if action not in pins:
        return f"{ref}: {action} is not listed in {PINS.name}"
    expected_version, expected_sha = pins[action]
    if (version, sha) != (expected_version, expected_sha):
        return f"{ref} # {version}: {PINS.name} pins {action}@{expected_version} -> {expected_sha}"
    return ""


def check_file(path: Path, pins: dict[str, tuple[str, str]]) -> list[str]:
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _USES.match(line)
        if match:
            problem = check_line(match["ref"], match["comment"] or "", pins)
            if problem:
                problems.append(f"{path}:{number}: {problem}")
    return problems


def files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")))
        else:
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=Path, default=PINS)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    pins = read_pins(args.pins)
    problems = [problem for path in files(args.paths) for problem in check_file(path, pins)]
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_pins: {len(problems)} unpinned or mismatched `uses:`; see {PINS.name} for the pins")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
