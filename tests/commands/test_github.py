"""The real `prenv` CLI with GitHub pointed at the fake API: end to end, and the GitHub failures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.marker import Marker, parse_marker
from prenv.core.naming import names_for
from prenv.report.port import Reporters
from tests.github.conftest import TOKEN
from tests.github.fake import BOT, FakeGitHub, fake_github
from tests.helpers import GITHUB_FIXTURES, deploy_target, light_config, run_cli, write_config

WEBHOOKS = GITHUB_FIXTURES / "webhooks"
EVENT_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # head.sha of pull_request.opened.json (PR #2)


def github_env(tmp_path: Path, fake: FakeGitHub, event: str | None, **extra: str) -> dict[str, str]:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": fake.api_url,
        "GITHUB_REPOSITORY": fake.repository,
        "GITHUB_SERVER_URL": "https://github.test",
        "GITHUB_RUN_ID": "77",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "PATH": "/usr/bin:/bin",
    }
    if event:
        env["GITHUB_EVENT_PATH"] = str(WEBHOOKS / event)
    env.update(extra)
    return env


def outputs(tmp_path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's name<<delimiter blocks as a dict."""
    lines = (tmp_path / "output").read_text().splitlines() if (tmp_path / "output").exists() else []
    found, index = {}, 0
    while index < len(lines):
        name, _, delimiter = lines[index].partition("<<")
        end = lines.index(delimiter, index + 1)
        found[name] = "\n".join(lines[index + 1 : end])
        index = end + 1
    return found


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    write_config(
        tmp_path / "repo", light_config("unused-bucket", tmp_path / "no-root", repository="octo-org/app")
    )
    return tmp_path / "repo"


@pytest.fixture
def fake_api() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        yield server


def deploy_marker(boto: Any, bucket: str, workspace: str) -> dict[str, Any] | None:
    try:
        answer = boto("s3").get_object(Bucket=bucket, Key=f"prenv/{workspace}/prenv-deployed.json")
    except boto("s3").exceptions.NoSuchKey:
        return None
    data: dict[str, Any] = json.loads(answer["Body"].read())
    return data


@pytest.mark.terraform
def test_deploy_redeploy_and_destroy_end_to_end(
    tmp_path: Path,
    aws_env: dict[str, str],
    boto: Any,
    state_bucket: str,
    light_root: Path,
    repository: str,
) -> None:
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    with fake_github(repository=repository) as fake:
        env = {**aws_env, **github_env(tmp_path, fake, "pull_request.opened.json"), "PATH": aws_env["PATH"]}
        fake.add_comment(2, "First!", author="octocat")

        result = run_cli(["deploy", "--verbose"], env=env, cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        url = f"http://{names_for(2, repository).name_prefix}.preview.invalid/"
        assert fake.sequence() == [
            "POST graphql",  # deployments earlier runs left unfinished: none
            "POST repos/create-deployment",
            "POST repos/create-deployment-status",
            "GET issues/list-comments",
            "POST issues/create-comment",
            "PATCH issues/update-comment",
            "POST repos/create-deployment-status",
        ]
        (deployment,) = fake.deployments
        assert deployment["sha"] == EVENT_SHA
        assert deployment["environment"] == "pr-2"
        assert fake.states(deployment["id"]) == ["in_progress", "success"]
        success = fake.statuses[deployment["id"]][-1]
        assert success["environment_url"] == url
        assert success["log_url"] == f"https://github.test/{repository}/actions/runs/77"
        first, mine = fake.comments[2]
        assert first["body"] == "First!"
        assert mine["user"]["login"] == BOT
        assert parse_marker(mine["body"]) == Marker()
        assert url in mine["body"]
        assert "Preview of PR #2 is ready" in mine["body"]
        assert "image_parameter_arn" in mine["body"]  # the sensitive output is listed, its value is not
        assert "arn:aws:ssm" not in mine["body"]
        assert "::add-mask::arn:aws:ssm:" in result.stdout
        assert outputs(tmp_path)["url"] == url
        for text in (result.stdout, result.stderr, (tmp_path / "summary.md").read_text()):
            assert TOKEN not in text

        # The deploy record beside the state remembers the comment (where, who wrote it, what it says).
        marker = deploy_marker(boto, state_bucket, "pr-2")
        assert marker is not None
        assert marker["repository"] == repository
        assert marker["comment"] == {
            "id": mine["id"],
            "sha256": hashlib.sha256(mine["body"].encode()).hexdigest(),
            "author": BOT,
            "environment": "",
        }

        # A redeploy edits that comment directly: no listing of the PR's comments.
        fake.requests.clear()
        again = run_cli(["deploy"], env=env, cwd=tmp_path)
        assert again.exit_code == 0, again.stderr
        assert fake.sequence() == [
            "POST graphql",
            "POST repos/create-deployment",
            "POST repos/create-deployment-status",
            "PATCH issues/update-comment",
            "PATCH issues/update-comment",
            "POST repos/create-deployment-status",
        ]
        assert {r.path for r in fake.requests if r.method == "PATCH"} == {
            f"/repos/{repository}/issues/comments/{mine['id']}"
        }
        assert len(fake.comments[2]) == 2
        assert "Preview of PR #2 is up to date" in mine["body"]
        remembered = deploy_marker(boto, state_bucket, "pr-2")
        assert remembered is not None
        assert remembered["comment"]["sha256"] == hashlib.sha256(mine["body"].encode()).hexdigest()

        fake.requests.clear()
        gone = run_cli(["destroy"], env=env, cwd=tmp_path)
        assert gone.exit_code == 0, gone.stderr
        assert fake.sequence() == [
            "POST graphql",
            "POST repos/create-deployment-status",
            "POST repos/create-deployment-status",
            "PATCH issues/update-comment",
        ]
        assert [fake.states(d["id"])[-1] for d in fake.deployments] == ["inactive", "inactive"]
        assert len(fake.comments[2]) == 2
        assert "destroyed" in fake.comments[2][1]["body"].lower()
        assert deploy_marker(boto, state_bucket, "pr-2") is None  # dropped with the workspace


def test_missing_token_in_actions_is_a_clear_error(
    tmp_path: Path, repo_dir: Path, fake_api: FakeGitHub
) -> None:
    env = github_env(tmp_path, fake_api, "pull_request.opened.json")
    del env["GITHUB_TOKEN"]
    result = run_cli(["deploy"], env=env, cwd=repo_dir)
    assert result.exit_code == 1
    assert result.last_error_line == (
        "prenv: GITHUB_TOKEN is not set, so prenv cannot update the pull request's comment and Deployments "
        "[github-token-missing]; pass `github-token: ${{ github.token }}` to the action "
        "(or set GITHUB_TOKEN), or set comment.enabled and deployments.enabled to false"
    )
    assert outputs(tmp_path)["failure-reason"] == "github-token-missing"
    assert fake_api.requests == []


def test_unknown_pr_number_is_pr_not_found(tmp_path: Path, repo_dir: Path, fake_api: FakeGitHub) -> None:
    result = run_cli(["deploy", "--pr", "999"], env=github_env(tmp_path, fake_api, None), cwd=repo_dir)
    assert result.exit_code == 1
    assert result.last_error_line == (
        "prenv: pull request #999 does not exist in octo-org/app [pr-not-found]; "
        "check the PR number (--pr) and GITHUB_REPOSITORY"
    )
    assert outputs(tmp_path)["failure-reason"] == "pr-not-found"
    assert fake_api.sequence() == ["GET pulls/get"]


@pytest.mark.parametrize("command", ["deploy", "plan"])
def test_fork_is_refused(tmp_path: Path, repo_dir: Path, fake_api: FakeGitHub, command: str) -> None:
    env = github_env(tmp_path, fake_api, "pull_request.opened.from_fork.derived.json")
    result = run_cli([command], env=env, cwd=repo_dir)
    assert result.exit_code == 1
    assert result.last_error_line == (
        f"prenv: PR #2 comes from a fork: prenv does not {command} it with this repository's credentials "
        "[fork-refused]; a maintainer can push the branch to this repository to get a preview"
    )
    assert outputs(tmp_path)["failure-reason"] == "fork-refused"
    assert fake_api.requests == []


def test_fork_behind_a_comment_command_is_refused(
    tmp_path: Path, repo_dir: Path, fake_api: FakeGitHub
) -> None:
    fake_api.add_pull(1, fork=True)
    env = github_env(tmp_path, fake_api, "issue_comment.created.on_pull_request.derived.json")
    result = run_cli(["deploy"], env=env, cwd=repo_dir)
    assert result.exit_code == 1
    assert "[fork-refused]" in result.last_error_line
    assert fake_api.sequence() == ["GET pulls/get"]


def test_a_comment_event_takes_the_head_sha_from_the_api(
    tmp_path: Path, repo_dir: Path, fake_api: FakeGitHub
) -> None:
    fake_api.add_pull(1, head_sha="d" * 40, head_ref="fix-typo")
    env = github_env(tmp_path, fake_api, "issue_comment.created.on_pull_request.derived.json")
    tgt = deploy_target(Services(env=env, cwd=repo_dir))
    assert (tgt.ctx.pr_number, tgt.ctx.head_sha, tgt.ctx.head_ref) == (1, "d" * 40, "fix-typo")
    assert tgt.ctx.title == "Spelling error in the README file"  # from the event
    assert fake_api.sequence() == ["GET pulls/get"]


def test_a_pull_request_event_needs_no_request(tmp_path: Path, repo_dir: Path, fake_api: FakeGitHub) -> None:
    env = github_env(tmp_path, fake_api, "pull_request.opened.json")
    tgt = deploy_target(Services(env=env, cwd=repo_dir))
    assert tgt.ctx.head_sha == EVENT_SHA
    assert fake_api.requests == []


@pytest.mark.terraform
def test_github_down_does_not_block_the_deploy(
    tmp_path: Path,
    aws_env: dict[str, str],
    boto: Any,
    state_bucket: str,
    light_root: Path,
    repository: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GitHub answers 500 throughout: the preview is deployed from the event payload, the URL reaches the
    step outputs and the job summary, and the run ends github-unavailable (the conversation was retried)."""
    waits: list[float] = []
    monkeypatch.setattr("prenv.github.http._default_sleep", waits.append)
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    with fake_github(repository=repository) as fake:
        for operation in (
            "graphql",
            "repos/create-deployment",
            "issues/list-comments",
            "issues/create-comment",
        ):
            fake.fail(operation, 500, times=100)
        env = {**aws_env, **github_env(tmp_path, fake, "pull_request.opened.json"), "PATH": aws_env["PATH"]}

        result = run_cli(["deploy"], env=env, cwd=tmp_path)

        url = f"http://{names_for(2, repository).name_prefix}.preview.invalid/"
        assert result.exit_code == 1
        assert result.last_error_line == (
            f"prenv: the preview is up ({url}), but the pull request could not be updated: GitHub did not "
            "create a deployment of pr-2 after 4 attempts (last: HTTP 500, Internal Server Error) "
            "[github-unavailable]; the URL is in the job summary and the step outputs; re-run the job once "
            "GitHub answers (https://www.githubstatus.com): it changes nothing and updates the pull request"
        )
        assert "prenv: warning: GitHub did not list the deployments of pr-2 after 4 attempts" in result.stderr
        assert outputs(tmp_path)["url"] == url
        assert outputs(tmp_path)["failure-reason"] == "github-unavailable"
        assert url in (tmp_path / "summary.md").read_text()
        assert fake.sequence() == ["POST graphql"] * 4 + ["POST repos/create-deployment"] * 4
        assert waits == [2.0, 4.0, 8.0] * 2
        log_group = f"/prenv/{names_for(2, repository).name_prefix}"
        assert boto("logs").describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]  # it is up


def test_a_deployment_left_in_progress_is_settled(
    tmp_path: Path, repo_dir: Path, fake_api: FakeGitHub
) -> None:
    """An earlier run that ended without a word (killed) left its Deployment in_progress: the next
    deploy marks it `error` before it starts its own."""
    old = fake_api.add_deployment("pr-2", states=("in_progress",))
    done = fake_api.add_deployment("pr-2", states=("in_progress", "success"))
    env = github_env(tmp_path, fake_api, "pull_request.opened.json")
    run_cli(["deploy"], env=env, cwd=repo_dir)  # fails later (no Terraform root): the start is what counts
    assert fake_api.states(old["id"]) == ["in_progress", "error"]
    assert fake_api.states(done["id"]) == ["in_progress", "success"]
    assert fake_api.sequence()[:3] == [
        "POST graphql",
        "POST repos/create-deployment-status",
        "POST repos/create-deployment",
    ]


def test_no_token_outside_actions_runs_without_github(tmp_path: Path, repo_dir: Path) -> None:
    """Locally, without a token, the GitHub reporter is simply absent (the engine runs as before)."""
    services = Services(env={"GITHUB_REPOSITORY": "octo-org/app"}, cwd=repo_dir)
    tgt = deploy_target(services, "3")
    assert tgt.ctx.head_sha == ""
    job = wiring.invocation(services, "3")
    assert job.ports.github() is None
    reporter = wiring.reporter(job.ports, job.config, tgt, out=services.out)
    assert isinstance(reporter, Reporters)
    assert [type(member).__name__ for member in reporter.members] == ["ActionsReporter", "TerminalReporter"]
