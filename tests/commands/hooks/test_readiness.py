"""`prenv deploy` waits for readiness from AWS (ECS and the target group) against the emulator.

The preview's URL is an HTTP server that counts what reaches it: readiness never asks it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import names_for
from tests.commands.hooks.conftest import Probe, make_repo
from tests.commands.test_github import github_env, outputs
from tests.github.fake import fake_github

pytestmark = pytest.mark.terraform


def test_a_healthy_preview_is_ready_from_ecs_and_the_target_group(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str, probe: Probe
) -> None:
    repo = make_repo(tmp_path, aws_env, state_bucket, boto, repository, 31, url=probe.url)
    result = repo.cli("deploy", "--pr", "31")
    assert result.exit_code == 0, result.stderr
    family = names_for(31, repository).ecs_service
    assert f"Ready: 1 task of {family}:1 running, 1 healthy target\n" in result.stdout
    assert f"Preview URL: {probe.url}" in result.stdout
    assert probe.requests == []  # readiness never reaches the preview


def test_the_optional_http_probe_asks_the_url_only_when_enabled(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str, probe: Probe
) -> None:
    """health_check.enabled adds the runner's HTTP probe after AWS says ready; it fails the deploy with
    health-check-failed when the URL does not answer 2xx."""
    repo = make_repo(
        tmp_path,
        aws_env,
        state_bucket,
        boto,
        repository,
        32,
        url=probe.url,
        health_check={"enabled": True, "path": "/healthz", "timeout": "1s"},
    )
    result = repo.cli("deploy", "--pr", "32")
    assert result.exit_code == 0, result.stderr
    assert "Ready: 1 task of" in result.stdout
    assert probe.requests == ["/healthz"]

    probe.status = 503
    failed = repo.cli("deploy", "--pr", "32")
    assert failed.exit_code == 1
    assert failed.last_error_line.startswith(
        f"prenv: the preview at {probe.url}healthz did not become healthy within 1s (HTTP 503) "
        "[health-check-failed]"
    )
    assert probe.requests[1:] == ["/healthz"]


def test_a_target_that_never_gets_healthy_fails_with_what_elb_says_and_the_apps_last_lines(
    tmp_path: Path,
    aws_env: dict[str, str],
    state_bucket: str,
    boto: Any,
    repository: str,
    probe: Probe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(
        tmp_path, aws_env, state_bucket, boto, repository, 2, url=probe.url, readiness={"timeout": "4s"}
    )
    repo.preview.targets_fail(
        monkeypatch,
        reason="Target.ResponseCodeMismatch",
        description="Health checks failed with these codes: [503]",
    )
    repo.preview.task_logs("app", ["listening on :8080", "GET /healthz 503: the database does not answer"])
    with fake_github(repository=repository) as fake:
        env = {**aws_env, **github_env(tmp_path, fake, "pull_request.opened.json"), "PATH": aws_env["PATH"]}
        result = repo.cli("deploy", env=env)
        patches = [r.body["body"] for r in fake.requests if r.method == "PATCH"]
        final = fake.comment_bodies(2)[-1]

    assert result.exit_code == 1
    assert result.last_error_line == (
        "prenv: the preview did not become ready within 4s: waiting for 1 target to be healthy in the "
        "target group [not-ready]; see why with `prenv status 2` and `prenv logs 2`; readiness.timeout "
        "in the config sets how long prenv waits"
    )
    assert outputs(tmp_path)["failure-reason"] == "not-ready"
    unhealthy = re.search(
        r"target (\d+\.\d+\.\d+\.\d+):8080 unhealthy: Target\.ResponseCodeMismatch Health checks failed "
        r"with these codes: \[503\]",
        result.stdout,
    )
    assert unhealthy, result.stdout
    assert "Waiting: 1 target to be healthy in the target group\n" in result.stdout
    # While waiting, the "deploying" comment said what AWS says.
    waiting = [body for body in patches if "Applied; waiting for 1 target" in body]
    assert waiting
    assert "Target\\.ResponseCodeMismatch" in waiting[0]
    # The failure: the reason, ELB's words, the app's last log lines.
    assert "**Failure reason:** `not-ready`" in final
    assert "Target.ResponseCodeMismatch Health checks failed with these codes" in final
    assert "| GET /healthz 503: the database does not answer" in final
    assert probe.requests == []


def test_a_task_stopped_with_a_reason_fails_with_the_reason(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str, probe: Probe
) -> None:
    repo = make_repo(
        tmp_path, aws_env, state_bucket, boto, repository, 33, url=probe.url, readiness={"timeout": "3s"}
    )
    reason = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1: not found"
    )
    task = repo.preview.stop_task(reason=reason, stop_code="TaskFailedToStart", exits={"app": (None, "")})
    result = repo.cli("deploy", "--pr", "33")
    assert result.exit_code == 1
    assert "[not-ready]" in result.last_error_line
    assert "waiting for 1 task of" in result.last_error_line
    assert f"task {task} stopped: TaskFailedToStart: {reason}" in result.stderr
    assert f"  - task {task} stopped: TaskFailedToStart: {reason}" in result.stdout  # while waiting
    assert probe.requests == []


def test_tasks_that_keep_stopping_fail_without_waiting_for_the_timeout(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str
) -> None:
    repo = make_repo(tmp_path, aws_env, state_bucket, boto, repository, 34, readiness={"timeout": "10m"})
    preview = repo.preview
    stopped = []
    for attempt in range(3):
        stopped.append(
            preview.stop_task(
                reason="Essential container in task exited",
                exits={"app": (137, "OutOfMemoryError: Container killed due to memory usage")},
                logs={"app": [f"attempt {attempt}: loading", "Killed"]},
            )
        )
        # ECS starts a replacement, as the service wants one task.
        boto("ecs").update_service(cluster=preview.cluster, service=preview.service, forceNewDeployment=True)
    preview.stop_task(
        reason="Essential container in task exited", exits={"app": (137, "")}, logs={"app": ["Killed"]}
    )
    result = repo.cli("deploy", "--pr", "34")
    assert result.exit_code == 1
    assert result.last_error_line.startswith(
        f"prenv: the preview cannot become ready: 4 tasks of {preview.names.ecs_service}:1 stopped "
        "before the service was ready [not-ready]"
    )
    assert "app exit 137 (OutOfMemoryError: Container killed due to memory usage)" in result.stderr
    assert "| Killed" in result.stderr  # the newest stopped task's app log, prefixed
