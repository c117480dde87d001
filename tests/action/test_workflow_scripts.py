"""The workflows' own `run:` scripts, run in bash with their `env:` rendered from a webhook payload.

Each script runs as the runner runs a step without `shell:` (`bash -e FILE`), with a fresh GITHUB_OUTPUT
and a stand-in for `gh` first on PATH that records its call (and answers as the real one does for the
cases at hand). Covered: fork-notice.yml's comment, and the image job's head-commit lookup in
preview.yml (the image itself is prenv's `image` command: tests/commands/test_image.py).
"""

from __future__ import annotations

import copy
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.action import gha_expr
from tests.action.conftest import WORKFLOWS, load_yaml, payload
from tests.action.runner import BASH, parse_file_command

PREVIEW = load_yaml(WORKFLOWS / "preview.yml")
FORK_NOTICE = load_yaml(WORKFLOWS / "fork-notice.yml")

GH = """#!/usr/bin/env bash
printf '%s\\0' "$@" >"$STUB_LOG/gh-args"
if [ -n "${STUB_GH_OUT+set}" ]; then printf '%s\\n' "$STUB_GH_OUT"; fi
"""


@dataclass
class StepRun:
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    folder = tmp_path / "stub-bin"
    folder.mkdir()
    path = folder / "gh"
    path.write_text(GH, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "stub-log").mkdir()
    return folder


def _run(tmp_path: Path, step: dict[str, Any], contexts: dict[str, Any], **stub_env: str) -> StepRun:
    """One workflow step's script, with its `env:` rendered from `contexts` (then `stub_env`)."""
    log = tmp_path / "stub-log"
    output = tmp_path / "github-output"
    output.write_text("", encoding="utf-8")
    script = tmp_path / "step.sh"
    script.write_text(str(step["run"]), encoding="utf-8")
    env = {
        "PATH": f"{tmp_path / 'stub-bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "GITHUB_OUTPUT": str(output),
        "STUB_LOG": str(log),
        **{name: gha_expr.render(str(value), contexts) for name, value in (step.get("env") or {}).items()},
        **stub_env,
    }
    proc = subprocess.run(
        [BASH, "--noprofile", "--norc", "-e", str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return StepRun(
        proc.returncode, proc.stdout, proc.stderr, parse_file_command(output.read_text(encoding="utf-8"))
    )


def _contexts(event_name: str, event: dict[str, Any], **steps: dict[str, str]) -> dict[str, Any]:
    return {
        "github": gha_expr.github_context(event_name, event),
        "steps": {name: {"outputs": outputs} for name, outputs in steps.items()},
    }


def _gh_args(tmp_path: Path) -> list[str]:
    path = tmp_path / "stub-log" / "gh-args"
    return path.read_text(encoding="utf-8").split("\0")[:-1] if path.exists() else []


# --- fork-notice.yml ----------------------------------------------------------------------------------

NOTICE_STEP = FORK_NOTICE["jobs"]["comment"]["steps"][0]


def test_the_fork_notice_posts_its_fixed_comment_on_the_pr(stubs: Path, tmp_path: Path) -> None:
    event = copy.deepcopy(payload("pull_request.opened.from_fork.derived"))
    pull = event["pull_request"]
    pull["title"], pull["body"], pull["head"]["ref"] = "TITLE-MARK", "BODY-MARK", "BRANCH-MARK"
    pull["head"]["label"] = "octocat:BRANCH-MARK"
    run = _run(tmp_path, NOTICE_STEP, _contexts("pull_request_target", event))
    assert run.exit_code == 0, run.stderr
    args = _gh_args(tmp_path)
    assert args[:4] == ["api", "--method", "POST", "repos/Codertocat/Hello-World/issues/2/comments"]
    assert (args[4], args[6]) == ("-f", "--silent")
    body = args[5].removeprefix("body=")
    assert body.startswith(
        "<!-- prenv:fork-notice:v1 -->\n### prenv: no preview for a pull request from a fork\n"
    )
    assert "never runs with this repository's AWS credentials" in body
    assert "(`fork-refused`), also when a `/prenv deploy` comment asks for it" in body
    assert "push the PR's commits to a branch of this repository and open a pull request" in body
    assert "git fetch origin pull/2/head\ngit push origin FETCH_HEAD:refs/heads/preview/pr-2\n" in body
    assert "@PR@" not in body
    # Nothing the PR supplied reaches the comment: not its title, body or branch.
    assert "MARK" not in body


def test_the_fork_notice_text_is_the_same_for_every_pr_but_the_number(stubs: Path, tmp_path: Path) -> None:
    bodies = []
    for number in (2, 77):
        event = copy.deepcopy(payload("pull_request.opened.from_fork.derived"))
        event["number"] = event["pull_request"]["number"] = number
        event["pull_request"]["title"] = f"title {number} $(touch pwned)"
        run = _run(tmp_path, NOTICE_STEP, _contexts("pull_request_target", event))
        assert run.exit_code == 0, run.stderr
        bodies.append(_gh_args(tmp_path)[5])
    assert bodies[1] == bodies[0].replace("pr-2", "pr-77").replace("pull/2/", "pull/77/")
    assert not list(tmp_path.rglob("pwned"))


@pytest.mark.parametrize("number", ["", "2; touch pwned", "0", "2\n::add-mask::x"])
def test_the_fork_notice_refuses_anything_but_a_pr_number(stubs: Path, tmp_path: Path, number: str) -> None:
    event = payload("pull_request.opened.from_fork.derived")
    run = _run(tmp_path, NOTICE_STEP, _contexts("pull_request_target", event), PR_NUMBER=number)
    assert run.exit_code == 1
    assert "::error title=prenv::the event holds no pull request number" in run.stdout
    assert _gh_args(tmp_path) == []
    assert not list(tmp_path.rglob("pwned"))


# --- preview.yml: the head commit of a comment's PR ---------------------------------------------------

HEAD_STEP = next(s for s in PREVIEW["jobs"]["image"]["steps"] if s.get("id") == "head")
SHA = "d" * 40


@pytest.mark.parametrize(
    ("answer", "fork"),
    [
        (f"{SHA} Codertocat/Hello-World", "false"),
        (f"{SHA} codertocat/hello-world", "false"),  # GitHub's names are case-insensitive
        (f"{SHA} octocat/Hello-World", "true"),
        (f"{SHA} ", "true"),  # the fork was deleted: no head repository
    ],
)
def test_the_comment_run_reads_the_head_commit_and_whether_the_pr_is_a_fork(
    stubs: Path, tmp_path: Path, answer: str, fork: str
) -> None:
    run = _run(
        tmp_path,
        HEAD_STEP,
        _contexts("issue_comment", payload("issue_comment.created.on_pull_request.derived")),
        STUB_GH_OUT=answer,
    )
    assert run.exit_code == 0, run.stderr
    assert run.outputs == {"sha": SHA, "fork": fork}
    assert _gh_args(tmp_path)[:2] == ["api", "repos/Codertocat/Hello-World/pulls/1"]


def test_the_comment_run_fails_without_a_head_commit(stubs: Path, tmp_path: Path) -> None:
    event = payload("issue_comment.created.on_pull_request.derived")
    run = _run(tmp_path, HEAD_STEP, _contexts("issue_comment", event), STUB_GH_OUT="null ")
    assert run.exit_code == 1
    assert "::error title=prenv::could not read the head commit of PR #1" in run.stdout
    assert run.outputs == {}
