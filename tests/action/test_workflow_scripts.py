"""The workflows' own `run:` scripts, run in bash with their `env:` rendered from a webhook payload.

Each script runs as the runner runs a step without `shell:` (`bash -e FILE`), with a fresh GITHUB_OUTPUT
and stand-ins for `gh`, `aws` and `docker` first on PATH that record every call (and answer as the real
tools do for the cases at hand). Covered: fork-notice.yml's comment, and the deploy job's head-commit
lookup and image step in preview.yml.
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

AWS = """#!/usr/bin/env bash
echo "aws $*" >>"$STUB_LOG/calls"
case "$1 $2" in
  "ecr describe-images")
    if [ -e "$STUB_LOG/pushed" ] || [ "${STUB_TAG:-missing}" = present ]; then echo "sha256:0123"; exit 0; fi
    if [ "${STUB_TAG:-missing}" = denied ]; then
      echo "An error occurred (AccessDeniedException) when calling the DescribeImages operation: no" >&2
      exit 254
    fi
    echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image" \\
      "with imageId {imageTag:'x'} does not exist within the repository" >&2
    exit 254 ;;
  "ecr get-login-password") echo "ecr-password" ;;
  *) echo "unexpected: aws $*" >&2; exit 1 ;;
esac
"""

DOCKER = """#!/usr/bin/env bash
echo "docker $*" >>"$STUB_LOG/calls"
case "$1" in
  login) cat >"$STUB_LOG/login-stdin" ;;
  build | logout) ;;
  push)
    case "${STUB_PUSH:-ok}" in
      ok) touch "$STUB_LOG/pushed" ;;
      race) touch "$STUB_LOG/pushed"; echo "tag invalid: the image tag already exists" >&2; exit 1 ;;
      *) echo "denied: not authorized" >&2; exit 1 ;;
    esac ;;
  *) echo "unexpected: docker $*" >&2; exit 1 ;;
esac
"""


@dataclass
class StepRun:
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    calls: list[str]  # aws and docker, in order


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    folder = tmp_path / "stub-bin"
    folder.mkdir()
    for name, text in (("gh", GH), ("aws", AWS), ("docker", DOCKER)):
        path = folder / name
        path.write_text(text, encoding="utf-8")
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
    calls = log / "calls"
    return StepRun(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        parse_file_command(output.read_text(encoding="utf-8")),
        calls.read_text(encoding="utf-8").splitlines() if calls.exists() else [],
    )


def _contexts(event_name: str, event: dict[str, Any], **steps: dict[str, str]) -> dict[str, Any]:
    return {
        "github": gha_expr.github_context(event_name, event),
        "vars": {"PRENV_ECR_REPOSITORY": ECR},
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

HEAD_STEP = next(s for s in PREVIEW["jobs"]["deploy"]["steps"] if s.get("id") == "head")
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


# --- preview.yml: the preview's image -------------------------------------------------------------------

IMAGE_STEP = next(s for s in PREVIEW["jobs"]["deploy"]["steps"] if s.get("id") == "image")
ECR = "123456789012.dkr.ecr.eu-west-3.amazonaws.com/prenv-0a1b2c"
REGISTRY = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
PR_SHA = payload("pull_request.opened")["pull_request"]["head"]["sha"]
PR_IMAGE = f"{ECR}:{PR_SHA}"
DESCRIBE = (
    f"aws ecr describe-images --region eu-west-3 --repository-name prenv-0a1b2c --image-ids imageTag={PR_SHA}"
    " --query imageDetails[0].imageDigest --output text"
)


def _pull_request(tmp_path: Path, **stub_env: str) -> StepRun:
    return _run(tmp_path, IMAGE_STEP, _contexts("pull_request", payload("pull_request.opened")), **stub_env)


def _comment(tmp_path: Path, **stub_env: str) -> StepRun:
    event = payload("issue_comment.created.on_pull_request.derived")
    contexts = _contexts("issue_comment", event, head={"sha": PR_SHA, "fork": "false"})
    return _run(tmp_path, IMAGE_STEP, contexts, **stub_env)


def test_a_pull_request_run_builds_and_pushes_the_app_tagged_with_the_head_commit(
    stubs: Path, tmp_path: Path
) -> None:
    run = _pull_request(tmp_path)
    assert run.exit_code == 0, run.stderr
    assert run.calls[0] == DESCRIBE
    # `aws ecr get-login-password | docker login ...`: the two ends of the pipe start together.
    assert sorted(run.calls[1:3]) == [
        "aws ecr get-login-password --region eu-west-3",
        f"docker login --username AWS --password-stdin {REGISTRY}",
    ]
    assert run.calls[3:] == [
        f"docker build --pull --label org.opencontainers.image.revision={PR_SHA} --tag {PR_IMAGE}"
        " examples/app",
        f"docker push {PR_IMAGE}",
        f"docker logout {REGISTRY}",
    ]
    assert (tmp_path / "stub-log" / "login-stdin").read_text() == "ecr-password\n"  # never an argument
    assert run.outputs == {"image": PR_IMAGE}


def test_a_rerun_of_the_same_commit_does_not_push_again(stubs: Path, tmp_path: Path) -> None:
    run = _pull_request(tmp_path, STUB_TAG="present")
    assert run.exit_code == 0, run.stderr
    assert run.calls == [DESCRIBE]
    assert f"prenv: {PR_IMAGE} is already in ECR (its tags are immutable): not built again" in run.stdout
    assert run.outputs == {"image": PR_IMAGE}


def test_a_push_that_loses_a_race_for_the_same_tag_is_not_a_failure(stubs: Path, tmp_path: Path) -> None:
    run = _pull_request(tmp_path, STUB_PUSH="race")
    assert run.exit_code == 0, run.stderr
    assert run.calls[-3:] == [f"docker push {PR_IMAGE}", DESCRIBE, f"docker logout {REGISTRY}"]
    assert f"prenv: {PR_IMAGE} was pushed by another run meanwhile" in run.stdout
    assert run.outputs == {"image": PR_IMAGE}


def test_a_failed_push_fails_the_step(stubs: Path, tmp_path: Path) -> None:
    run = _pull_request(tmp_path, STUB_PUSH="denied")
    assert run.exit_code == 1
    assert f"::error title=prenv::could not push {PR_IMAGE} to ECR" in run.stdout
    assert run.outputs == {}


def test_a_comment_run_deploys_the_pushed_image_and_builds_nothing(stubs: Path, tmp_path: Path) -> None:
    run = _comment(tmp_path, STUB_TAG="present")
    assert run.exit_code == 0, run.stderr
    assert run.calls == [DESCRIBE]
    assert run.outputs == {"image": PR_IMAGE}


def test_a_comment_run_without_the_pushed_image_fails_and_builds_nothing(stubs: Path, tmp_path: Path) -> None:
    run = _comment(tmp_path)
    assert run.exit_code == 1
    assert run.calls == [DESCRIBE]
    assert (
        f"::error title=prenv::no image {PR_IMAGE} in ECR: the pull_request run of the PR's head commit "
        "builds and pushes it. Re-run that run (or push a commit), then comment again"
    ) in run.stdout
    assert run.outputs == {}


@pytest.mark.parametrize("event", ["pull_request", "issue_comment"])
def test_a_failed_lookup_is_not_taken_for_a_missing_tag(stubs: Path, tmp_path: Path, event: str) -> None:
    run = (
        _pull_request(tmp_path, STUB_TAG="denied")
        if event == "pull_request"
        else _comment(tmp_path, STUB_TAG="denied")
    )
    assert run.exit_code == 1
    assert run.calls == [DESCRIBE]  # no login, build or push
    assert "AccessDeniedException" in run.stderr
    assert f"::error title=prenv::could not look up {PR_IMAGE} in ECR" in run.stdout


@pytest.mark.parametrize(
    "repository",
    [
        "prenv-0a1b2c",
        "123456789012.dkr.ecr.eu-west-3.amazonaws.com",
        "ghcr.io/owner/app",
        "123456789012.dkr.ecr.eu-west-3.amazonaws.com/app:latest",
        "123456789012.dkr.ecr.eu-west-3.amazonaws.com/app; touch pwned",
    ],
)
def test_a_variable_that_is_not_an_ecr_repository_url_is_refused(
    stubs: Path, tmp_path: Path, repository: str
) -> None:
    run = _pull_request(tmp_path, ECR_REPOSITORY=repository)
    assert run.exit_code == 1
    assert (
        "::error title=prenv::the repository variable PRENV_ECR_REPOSITORY must be terraform/base's output "
        "ecr_repository_url (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME)"
    ) in run.stdout
    assert run.calls == []
    assert not list(tmp_path.rglob("pwned"))


def test_the_image_step_needs_a_head_commit(stubs: Path, tmp_path: Path) -> None:
    run = _pull_request(tmp_path, HEAD_SHA="")
    assert run.exit_code == 1
    assert "::error title=prenv::no head commit to tag the image with" in run.stdout
    assert run.calls == []
