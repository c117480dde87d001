"""scripts/check_pins.py and scripts/action_docs.py: what they accept, refuse and generate."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.helpers import REPO_ROOT


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_pins = _load("check_pins")
action_docs = _load("action_docs")
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
PINS = {"actions/checkout": ("v4.2.2", "11bd71901bbe5b1630ceea73d27597364c9af683")}


@pytest.mark.parametrize(
    ("ref", "comment", "problem"),
    [
        (CHECKOUT, "v4.2.2", ""),
        ("actions/checkout/sub/path@11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2", ""),
        ("./", "", ""),
        ("./.github/actions/local", "", ""),
        ("docker://alpine@sha256:" + "a" * 64, "", ""),
        ("docker://alpine:3.20", "", "pin the image by digest"),
        ("actions/checkout@v4", "", "not pinned to a full commit SHA"),
        ("actions/checkout@11bd719", "v4.2.2", "not pinned to a full commit SHA"),
        ("actions/checkout", "", "no ref at all"),
        (CHECKOUT, "", "add the version as a comment"),
        (CHECKOUT, "latest", "add the version as a comment"),
        (CHECKOUT, "v4.2.1", "pins actions/checkout@v4.2.2"),
        ("actions/checkout@" + "b" * 40, "v4.2.2", "pins actions/checkout@v4.2.2"),
        ("other/action@" + "c" * 40, "v1", "other/action is not listed in pins.txt"),
    ],
)
def test_pin_check(ref: str, comment: str, problem: str) -> None:
    found = check_pins.check_line(ref, comment, PINS)
    assert (problem in found) if problem else found == ""


def test_every_pin_in_the_pins_file_is_used_and_every_use_is_pinned() -> None:
    pins = check_pins.read_pins(check_pins.PINS)
    files = check_pins.files([str(REPO_ROOT / ".github" / "workflows"), str(REPO_ROOT / "action.yml")])
    text = "\n".join(path.read_text(encoding="utf-8") for path in files)
    for action, (version, sha) in pins.items():
        assert f"{action}@{sha} # {version}" in text, f"{action} is pinned but never used"
    assert [problem for path in files for problem in check_pins.check_file(path, pins)] == []


def test_a_malformed_pins_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "pins.txt"
    bad.write_text("actions/checkout@v4 -> 11bd719\n")
    with pytest.raises(SystemExit, match=r"pins.txt:1: not `owner/repo@vX.Y.Z -> <40-hex sha> \| source`"):
        check_pins.read_pins(bad)


ACTION = {
    "inputs": {
        "command": {"description": "What | to run", "required": True, "default": "deploy"},
        "token": {"description": "A token,\nover two lines", "default": "${{ github.token }}"},
        "empty": {"description": "Nothing"},
    },
    "outputs": {"url": {"description": "The URL", "value": "${{ steps.run.outputs.url }}"}},
}


def test_the_table_lists_inputs_and_outputs_with_cells_escaped() -> None:
    block = action_docs.table(ACTION)
    assert block.startswith(action_docs.START)
    assert block.endswith(action_docs.END)
    assert "| `command` | What \\| to run | `deploy` | yes |" in block
    assert "| `token` | A token, over two lines | `${{ github.token }}` | no |" in block
    assert "| `empty` | Nothing | *(empty)* | no |" in block
    assert "| `url` | The URL |" in block


def test_the_table_replaces_only_what_is_between_the_markers() -> None:
    readme = f"# Title\n\n## The action\n\n{action_docs.START}\nold\n{action_docs.END}\n\n## After\n"
    new = action_docs.updated(readme, action_docs.table(ACTION))
    assert new.startswith("# Title\n\n## The action\n\n<!-- action-docs:start -->")
    assert new.endswith("<!-- action-docs:end -->\n\n## After\n")
    assert "old" not in new


def test_without_markers_a_section_is_added() -> None:
    assert action_docs.updated("# Title\n", "BLOCK") == "# Title\n\n## The action\n\nBLOCK\n"
    assert action_docs.updated("", "BLOCK") == "## The action\n\nBLOCK\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "action_docs.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_fails_on_drift_and_passes_after_regeneration(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_text(yaml.safe_dump(ACTION), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## The action\n\n{action_docs.START}\n{action_docs.END}\n")
    paths = ("--action", str(action), "--readme", str(readme))

    drift = _run("--check", *paths)
    assert drift.returncode == 1
    assert "README.md does not match action.yml; run `python scripts/action_docs.py`" in drift.stderr

    assert _run(*paths).returncode == 0
    assert _run("--check", *paths).returncode == 0
    assert readme.read_text().startswith("# x\n\n## The action\n\n<!-- action-docs:start -->")


def test_broken_markers_are_an_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"{action_docs.END}\n{action_docs.START}\n")
    result = _run("--check", "--readme", str(readme))
    assert result.returncode == 1
    assert "must hold <!-- action-docs:start --> followed by <!-- action-docs:end -->" in result.stderr


def test_the_repository_readme_is_up_to_date() -> None:
    result = _run("--check")
    assert result.returncode == 0, result.stderr
