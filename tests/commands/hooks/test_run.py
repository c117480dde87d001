"""`prenv run PR -- COMMAND` and the pre_destroy hook: one-off tasks against the emulator."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.commands.hooks.conftest import Repo, make_repo
from tests.commands.hooks.ecs import EcsAgent, Script

pytestmark = pytest.mark.terraform

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[[0-9a-f]{8}\] (.*)$")


@pytest.fixture
def deployed(tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str) -> Repo:
    repo = make_repo(tmp_path, aws_env, state_bucket, boto, repository, 51, steps=("migrate",))
    done = repo.cli("deploy", "--pr", "51")
    assert done.exit_code == 0, done.stderr
    return repo


def test_run_starts_a_task_like_the_services_streams_its_lines_and_returns_its_exit_code(
    deployed: Repo, ecs_agent: EcsAgent, boto: Any
) -> None:
    ecs_agent.script = Script(
        lines=["applying 0001_notes.sql", "applying 0002_notes_author.sql"], exit_code=0
    )
    result = deployed.cli("run", "51", "--", "python", "app.py", "migrate", "--verbose")
    assert result.exit_code == 0, result.stderr
    assert [LINE.match(line).group(1) for line in result.stdout.splitlines()] == [  # type: ignore[union-attr]
        "applying 0001_notes.sql",
        "applying 0002_notes_author.sql",
    ]
    (started,) = ecs_agent.started
    task = started.task
    service = boto("ecs").describe_services(
        cluster=deployed.preview.cluster, services=[deployed.preview.service]
    )
    service = service["services"][0]
    assert task.task_definition_arn == service["taskDefinition"] == deployed.preview.task_definition
    assert task.cluster_name == deployed.preview.cluster
    assert task.overrides == {
        "containerOverrides": [{"name": "app", "command": ["python", "app.py", "migrate", "--verbose"]}]
    }
    assert task.network_configuration == service["networkConfiguration"]
    assert task.capacity_provider_name == "FARGATE_SPOT"
    assert task.started_by == "prenv run"
    assert f"prenv: task {task.id} of {deployed.preview.service}:1 started in {deployed.preview.cluster}" in (
        result.stderr
    )
    assert f"prenv: task {task.id}: app exited with code 0" in result.stderr


def test_run_returns_the_commands_exit_code_and_json_for_scripts(deployed: Repo, ecs_agent: EcsAgent) -> None:
    ecs_agent.script = Script(lines=["ERROR: no such table"], exit_code=3)
    result = deployed.cli("run", "--pr", "51", "--json", "--", "python", "app.py", "seed")
    assert result.exit_code == 3
    *lines, last = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["message"] for line in lines] == ["ERROR: no such table"]
    (started,) = ecs_agent.started
    assert last == {
        "task": started.task.id,
        "cluster": deployed.preview.cluster,
        "task_definition": f"{deployed.preview.service}:1",
        "container": "app",
        "command": ["python", "app.py", "seed"],
        "exit_code": 3,
        "timed_out": False,
        "stopped_reason": "Essential container in task exited",
        "stop_code": "EssentialContainerExited",
    }


def test_run_stops_a_task_that_outlives_its_timeout(deployed: Repo, ecs_agent: EcsAgent) -> None:
    ecs_agent.script = Script(lines=["sleeping"], exit_code=None)
    result = deployed.cli("run", "51", "--timeout", "2s", "--", "sleep", "3600")
    assert result.exit_code == 1
    (started,) = ecs_agent.started
    assert result.last_error_line == (
        f"prenv: task {started.task.id}: it did not finish in time and was stopped (prenv: did not finish "
        "within 2s) [run-failed]; see `prenv logs 51` and `prenv status 51`; give it more time with --timeout"
    )
    assert started.task.desired_status == "STOPPED"
    assert started.task.stopped_reason == "prenv: did not finish within 2s"


def test_run_on_a_pr_without_a_preview_is_preview_not_found(deployed: Repo, ecs_agent: EcsAgent) -> None:
    result = deployed.cli("run", "59", "--", "true")
    assert result.exit_code == 1
    assert "[preview-not-found]" in result.last_error_line
    assert ecs_agent.started == []


def test_run_needs_a_command(deployed: Repo) -> None:
    result = deployed.cli("run", "51")
    assert result.exit_code == 2
    assert result.last_error_line == (
        "prenv: no command: give it after --, such as prenv run 12 -- python app.py migrate [bad-usage]"
    )


def test_pre_destroy_runs_before_the_destroy(deployed: Repo, ecs_agent: EcsAgent) -> None:
    ecs_agent.script = Script(lines=["exported 3 notes to s3://backups/pr-51.json"], exit_code=0)
    deployed.configure(hooks={"pre_destroy": ["python", "app.py", "export"]})
    result = deployed.cli("destroy", "--pr", "51")
    assert result.exit_code == 0, result.stderr
    (started,) = ecs_agent.started
    assert started.task.overrides["containerOverrides"][0]["command"] == ["python", "app.py", "export"]
    assert started.task.started_by == "prenv pre_destroy"
    assert "[pre_destroy] exported 3 notes to s3://backups/pr-51.json\n" in result.stderr
    assert "warning" not in result.stderr
    assert "Destroyed 0 resource(s); workspace pr-51 deleted." in result.stdout


def test_a_failed_pre_destroy_is_reported_and_the_destroy_goes_on(
    deployed: Repo, ecs_agent: EcsAgent
) -> None:
    ecs_agent.script = Script(lines=["bucket not found"], exit_code=2)
    deployed.configure(hooks={"pre_destroy": ["python", "app.py", "export"]})
    result = deployed.cli("destroy", "--pr", "51")
    assert result.exit_code == 0, result.stderr
    (started,) = ecs_agent.started
    assert (
        f"prenv: warning: the pre_destroy hook failed: task {started.task.id}: app exited with code 2; "
        "the destroy goes on (hooks.pre_destroy_blocking is false)"
    ) in result.stderr
    assert "workspace pr-51 deleted" in result.stdout


def test_a_pre_destroy_that_does_not_finish_in_time_is_stopped(deployed: Repo, ecs_agent: EcsAgent) -> None:
    ecs_agent.script = Script(exit_code=None)
    deployed.configure(hooks={"pre_destroy": ["python", "app.py", "export"], "pre_destroy_timeout": "2s"})
    result = deployed.cli("destroy", "--pr", "51")
    assert result.exit_code == 0, result.stderr
    assert "it did not finish in time and was stopped (prenv: did not finish within 2s)" in result.stderr
    assert ecs_agent.started[0].task.desired_status == "STOPPED"


def test_a_blocking_pre_destroy_failure_keeps_the_preview(
    deployed: Repo, ecs_agent: EcsAgent, boto: Any
) -> None:
    ecs_agent.script = Script(exit_code=1)
    deployed.configure(hooks={"pre_destroy": ["python", "app.py", "export"], "pre_destroy_blocking": True})
    result = deployed.cli("destroy", "--pr", "51")
    assert result.exit_code == 1
    (started,) = ecs_agent.started
    assert result.last_error_line.startswith(
        f"prenv: the pre_destroy hook failed: task {started.task.id}: app exited with code 1 "
        "[pre-destroy-failed]; "
    )
    state = f"prenv/{deployed.preview.names.workspace}/preview.tfstate"
    assert boto("s3").head_object(Bucket=deployed.bucket, Key=state)  # nothing was destroyed
