"""Hostile input stays bounded: each case ends at once with exit 2 and one line naming what to fix
(no traceback, no memory blow-up, no minutes of backtracking)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from tests.github.conftest import TOKEN
from tests.github.fake import FakeGitHub
from tests.helpers import GITHUB_FIXTURES, CliResult, light_config, run_cli, write_config

EVENT = GITHUB_FIXTURES / "webhooks" / "pull_request.opened.json"
BASE = "backend:\n  bucket: b\n  region: us-east-1\nrepository: octo-org/app\n"


def _one_line(result: CliResult, code: int, reason: str) -> str:
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("prenv:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].endswith(f"[{reason}]") or f"[{reason}]; " in lines[0]
    return lines[0]


def _run_with_config(tmp_path: Path, text: str | bytes) -> CliResult:
    path = tmp_path / ".github" / "prenv.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return run_cli(["plan", "--pr", "1"], env={}, cwd=tmp_path)


def test_alias_bomb(tmp_path: Path) -> None:
    levels = ["    a: &a [x, x, x, x, x, x, x, x, x]"]
    levels += [
        f"    {c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    result = _run_with_config(tmp_path, BASE + "terraform:\n  variables:\n" + "\n".join(levels) + "\n")
    line = _one_line(result, 2, "config-invalid")
    assert "prenv.yml:12: the YAML expands to more than 100,000 values (through its aliases)" in line


def test_alias_inside_itself(tmp_path: Path) -> None:
    result = _run_with_config(tmp_path, BASE + "terraform:\n  variables:\n    x: &x [1, *x]\n")
    assert "prenv.yml:7: the alias *x is inside its own anchor" in _one_line(result, 2, "config-invalid")


def test_deep_nesting(tmp_path: Path) -> None:
    result = _run_with_config(tmp_path, BASE + "terraform:\n  variables:\n    x: " + "[" * 5000 + "]" * 5000)
    assert "prenv.yml:7: values nest deeper than 32 levels" in _one_line(result, 2, "config-invalid")


def test_huge_config_is_not_read(tmp_path: Path) -> None:
    filler = ("# " + "x" * 98 + "\n") * (50 * 1024 * 1024 // 100)  # 50 MB of comments
    result = _run_with_config(tmp_path, BASE + filler)
    line = _one_line(result, 2, "config-invalid")
    assert "prenv.yml:2599: the file is larger than 256 KiB, the most prenv reads" in line


def test_catastrophic_mask_pattern(tmp_path: Path) -> None:
    result = _run_with_config(tmp_path, BASE + "comment:\n  mask_patterns: ['(a|aa)+$']\n")
    line = _one_line(result, 2, "config-invalid")
    assert "prenv.yml:6: comment.mask_patterns: '(a|aa)+$' ran longer than 0.5s on 41 characters" in line


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (random.Random(11).randbytes(4096), "is not UTF-8 text"),  # noqa: S311 - fixed test data
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper than 64 levels"),
        (
            json.dumps({"action": "opened", "pull_request": {"number": 3, "head": "main"}}).encode(),
            "the event payload is malformed: pull_request.head is a string, not an object",
        ),
        (
            json.dumps({"pull_request": {"number": 3, "labels": [{"name": ["x"]}]}}).encode(),
            "the event payload is malformed: pull_request.labels[].name is a list, not a string",
        ),
        (b'{"pull_request": ' * 70 + b"1" + b"}" * 70, "nests deeper than 64 levels"),
    ],
)
def test_garbage_event(tmp_path: Path, payload: bytes, message: str) -> None:
    write_config(tmp_path, light_config("b", tmp_path / "root", repository="octo-org/app"))
    event = tmp_path / "event.json"
    event.write_bytes(payload if payload[:1] in (b"[", b"{") else b"\xff\xfe" + payload)  # never UTF-8
    result = run_cli(["plan"], env={"GITHUB_EVENT_PATH": str(event)}, cwd=tmp_path)
    assert message in _one_line(result, 2, "bad-usage")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGitHub(mock)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 'A' * 3000000000 }}", "a repetition: more than prenv lets a template make"),
        ("{{ 'x' | center(3000000000) }}", "the center filter: more than prenv lets a template make"),
        ("{{ '{:>3000000000}'.format(1) }}", "a format width: more than prenv lets a template make"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "it ran longer than 5s",
        ),
    ],
)
def test_runaway_template(tmp_path: Path, github: FakeGitHub, template: str, message: str) -> None:
    (tmp_path / "deploying.md.j2").write_text(template, encoding="utf-8")
    document: dict[str, Any] = light_config("b", tmp_path / "root", repository=github.repository)
    document["comment"] = {"templates": {"deploying": "deploying.md.j2"}}
    write_config(tmp_path, document)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": github.api_url,
        "GITHUB_REPOSITORY": github.repository,
        "GITHUB_EVENT_PATH": str(EVENT),
    }
    result = run_cli(["deploy"], env=env, cwd=tmp_path)
    line = _one_line(result, 2, "config-invalid")
    assert "comment.templates: the deploying template cannot be rendered: " + message in line
