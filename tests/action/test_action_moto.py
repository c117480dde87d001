"""The action's `run:` steps with the real prenv and Terraform against the AWS emulator.

The runner emulation (tests/action/runner.py) runs each step in bash with the step's `env:`, fresh
GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files and an official webhook payload at
GITHUB_EVENT_PATH. The `uses:` steps are not run: setup-python and setup-terraform are not needed (this
machine has both), the provider cache is left out, and the prenv environment "restored from the cache"
is this test run's own environment (its `prenv` and the key stamp the install step checks). GitHub is
a local stand-in API (tests/action/fake_github.py) answering with GitHub's published examples.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.action.conftest import MakeRunner, payload
from tests.action.fake_github import FakeGitHub
from tests.action.runner import ActionRun, UsesStandIn
from tests.helpers import light_config, write_config

pytestmark = pytest.mark.terraform


def restore_this_environment(with_values: dict[str, str]) -> dict[str, str]:
    """actions/cache on a hit, with this test run's prenv as the restored environment."""
    venv = Path(with_values["path"])
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    link = venv / "bin" / "prenv"
    if not link.exists():
        link.symlink_to(Path(sys.executable).parent / "prenv")
    (venv / ".prenv-key").write_text(with_values["key"] + "\n", encoding="utf-8")
    return {"cache-hit": "true"}


STAND_INS: dict[str, UsesStandIn] = {
    "python": lambda _with: {"python-path": sys.executable},
    "venv-cache": restore_this_environment,
}


@pytest.fixture
def workspace(tmp_path: Path, state_bucket: str, light_root: Path, repository: str) -> Path:
    folder = tmp_path / "workspace"
    write_config(folder, light_config(state_bucket, light_root, repository=repository))
    return folder


def _run(
    make_runner: MakeRunner,
    aws_env: dict[str, str],
    github_api: FakeGitHub,
    workspace: Path,
    event: str,
    payload_name: str,
    inputs: dict[str, str],
) -> ActionRun:
    runner = make_runner(
        event, payload_name, env=aws_env, uses=STAND_INS, workspace=workspace, api_url=github_api.url
    )
    return runner.run(inputs)


def _log_groups(boto: Any, prefix: str) -> list[str]:
    groups = boto("logs").describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    return [group["logGroupName"] for group in groups]


def test_deploy_plan_destroy_through_the_action(
    make_runner: MakeRunner,
    aws_env: dict[str, str],
    github_api: FakeGitHub,
    workspace: Path,
    boto: Any,
    repository: str,
) -> None:
    from prenv.core.naming import names_for

    names = names_for(2, repository)  # PR #2 is the pull request of the official payloads

    deployed = _run(make_runner, aws_env, github_api, workspace, "pull_request", "pull_request.opened", {})
    step = deployed.step("run")
    assert step.outcome == "success", step.stdout + step.stderr
    assert [s.id for s in deployed.steps if s.outcome == "skipped"] == ["__4", "__5"]
    assert "prenv: using the environment at" in deployed.step("install").stdout
    assert deployed.outputs == {
        "url": f"http://{names.name_prefix}.preview.invalid/",
        "workspace": "pr-2",
        "pr-number": "2",
        "changes": "true",
        "to-add": "3",
        "to-change": "0",
        "to-destroy": "0",
        "to-replace": "0",
        "destroyed": "",
        "failure-reason": "",
        "image": "",  # `image`'s output
        # cleanup's outputs
        "previews": "",
        "warned": "",
        "slept": "",
        "woken": "",
        "stale-locks": "",
        "orphans": "",
    }
    assert _log_groups(boto, f"/prenv/{names.name_prefix}") == [f"/prenv/{names.name_prefix}"]
    assert names.name_prefix in step.summary  # the job summary
    # prenv reached GitHub with the workflow's token (the github-token default) and the event's head SHA.
    assert {request.authorization for request in github_api.requests} == {"token ghs_fake-token-for-tests"}
    assert not [r for r in github_api.requests if "viewer" in r.body]  # the action gave the token's login
    deployment = next(r for r in github_api.requests if r.operation == "repos.create-deployment")
    body = json.loads(deployment.body)
    assert (body["ref"], body["environment"]) == (
        payload("pull_request.opened")["pull_request"]["head"]["sha"],
        "pr-2",
    )
    assert any(r.operation == "issues.create-comment" and "/issues/2/" in r.path for r in github_api.requests)

    planned = _run(
        make_runner,
        aws_env,
        github_api,
        workspace,
        "pull_request",
        "pull_request.synchronize",
        {"command": "plan"},
    )
    assert planned.step("run").outcome == "success", planned.step("run").stderr
    assert (planned.outputs["changes"], planned.outputs["to-add"]) == ("false", "0")
    assert planned.outputs["workspace"] == "pr-2"

    destroyed = _run(
        make_runner,
        aws_env,
        github_api,
        workspace,
        "pull_request",
        "pull_request.closed.not_merged",
        {"command": "destroy"},
    )
    assert destroyed.step("run").outcome == "success", destroyed.step("run").stderr
    assert destroyed.outputs["destroyed"] == "3"
    assert (destroyed.outputs["workspace"], destroyed.outputs["failure-reason"]) == ("pr-2", "")
    assert _log_groups(boto, f"/prenv/{names.name_prefix}") == []
    assert github_api.deployments["pr-2"][1] == "inactive"  # the Deployment, as the destroy left it

    # The scheduled cleanup, with its own inputs: the state bucket is empty again, nothing is left over.
    cleaned = _run(
        make_runner,
        aws_env,
        github_api,
        workspace,
        "schedule",
        "pull_request.opened",  # a schedule run's payload is not read by cleanup
        {"command": "cleanup", "concurrency": "2", "delete-orphans": "true"},
    )
    step = cleaned.step("run")
    assert step.outcome == "success", step.stdout + step.stderr
    assert "prenv: running prenv cleanup --concurrency 2 --delete-orphans" in step.stdout
    assert {name: cleaned.outputs[name] for name in ("previews", "destroyed", "warned", "stale-locks")} == {
        "previews": "0",
        "destroyed": "0",
        "warned": "0",
        "stale-locks": "0",
    }
    assert (cleaned.outputs["orphans"], cleaned.outputs["failure-reason"]) == ("0", "")
    assert github_api.errors == []  # every request body matched GitHub's published request schema


def test_a_bad_config_fails_the_step_with_config_invalid(
    make_runner: MakeRunner, aws_env: dict[str, str], github_api: FakeGitHub, workspace: Path
) -> None:
    (workspace / ".github" / "broken.yml").write_text("backend:\n  bucket: b\n  regoin: us-east-1\n")
    run = _run(
        make_runner,
        aws_env,
        github_api,
        workspace,
        "pull_request",
        "pull_request.opened",
        {"config": ".github/broken.yml"},
    )
    step = run.step("run")
    assert (step.outcome, step.exit_code) == ("failure", 2)
    assert run.outputs["failure-reason"] == "config-invalid"
    assert "unknown key 'backend.regoin'" in step.stderr
    assert "::error title=prenv failed (config-invalid)::" in step.stdout


def test_a_comment_command_plans_the_pr_of_the_comment_at_the_given_commit(
    make_runner: MakeRunner, aws_env: dict[str, str], github_api: FakeGitHub, workspace: Path, boto: Any
) -> None:
    run = _run(
        make_runner,
        aws_env,
        github_api,
        workspace,
        "issue_comment",
        "issue_comment.created.on_pull_request.derived",
        {"command": "plan", "sha": "c" * 40},
    )
    assert run.step("run").outcome == "success", run.step("run").stderr
    assert (run.outputs["pr-number"], run.outputs["workspace"]) == ("1", "pr-1")
    assert (run.outputs["changes"], run.outputs["to-add"]) == ("true", "3")
    # The commit the workflow looked up (`sha` input) is the one prenv reports on PR #1.
    comments = [
        r for r in github_api.requests if r.operation.startswith("issues.") and "/issues/1/" in r.path
    ]
    assert comments
    assert any("commit `ccccccc`" in r.body for r in comments), [r.body for r in comments]
