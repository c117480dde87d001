"""`prenv status` against the emulator: a preview planted through boto3, read back, rendered."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.commands.troubleshoot import planting
from tests.commands.troubleshoot.conftest import Deployed

pytestmark = [pytest.mark.terraform, pytest.mark.usefixtures("tasks_stay_running")]

Deploy = Callable[[int, dict[str, str]], Deployed]


def _broken_preview(boto: Any, deploy_outputs: Deploy, pr: int) -> tuple[Deployed, planting.Planted]:
    """A preview mid-rollout: one task running, one stopped by its exit code, one failing health checks."""
    from prenv.core.naming import names_for

    probe = deploy_outputs(pr, {"url": "http://placeholder.invalid/"})
    names = probe.names
    cluster = f"prenv-{names.repository_hash}"
    planted = planting.plant_preview(
        boto,
        cluster=cluster,
        service=names.ecs_service,
        target_group=names.target_group,
        db_identifier=names.rds_identifier,
    )
    outputs = {
        "url": f"https://pr-{pr}.preview.example.com/",
        "region": "us-east-1",
        "ecs_cluster": cluster,
        "ecs_service": names.ecs_service,
        "log_group": names.log_group,
        "db_endpoint": planted.db_address,
    }
    deployed = deploy_outputs(pr, outputs)
    assert deployed.names == names_for(pr, names.repository)
    planting.plant_stopped_task(
        boto,
        planted,
        reason="Essential container in task exited",
        stop_code="EssentialContainerExited",
        exit_code=1,
        minutes_ago=4,
    )
    planting.plant_stopped_task(
        boto,
        planted,
        reason="Task failed ELB health checks in (target-group tg)",
        stop_code="ServiceSchedulerInitiated",
        exit_code=137,
        minutes_ago=1,
    )
    planting.plant_counts(
        planted,
        running=1,
        pending=1,
        rollout="IN_PROGRESS",
        reason="ECS deployment ecs-svc/1234567890 in progress.",
    )
    planting.plant_events(
        planted,
        [
            (1, f"(service {names.ecs_service}) has started 1 tasks: (task {planted.running[0]})."),
            (3, f"(service {names.ecs_service}) (task {planted.stopped[0]}) failed container health checks."),
            (9, f"(service {names.ecs_service}) has reached a steady state."),
        ],
    )
    planting.register_target(boto, planted, "172.31.0.10")
    return deployed, planted


def test_status_describes_the_service_tasks_events_targets_and_database(
    boto: Any, deploy_outputs: Deploy
) -> None:
    deployed, planted = _broken_preview(boto, deploy_outputs, 12)
    names = deployed.names

    result = deployed.cli("status", "12")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    lines = text.splitlines()
    assert lines[:4] == [
        "Preview:         PR 12 (workspace pr-12)",
        "URL:             https://pr-12.preview.example.com/",
        "Region:          us-east-1",
        f"Cluster:         {planted.cluster}",
    ]
    assert f"Service:         {names.ecs_service} (ACTIVE)" in lines
    assert "Tasks:           desired 1, running 1, pending 1" in lines
    assert "Rollout:         IN_PROGRESS: ECS deployment ecs-svc/1234567890 in progress." in lines
    assert "ECS Exec:        on" in lines
    assert (
        f"Database:        {names.rds_identifier}: available (postgres 16.4) {planted.db_address}:5432"
        in lines
    )
    assert f"Logs:            {names.log_group} (prenv logs 12)" in lines
    assert "Shell:           prenv exec 12" in lines
    assert f"Task definition: {names.ecs_service}:1" in lines

    running = text.split("Running tasks:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert running[0].split() == ["TASK", "STATUS", "HEALTH", "TASK", "DEF", "STARTED"]
    assert running[1].split()[:2] == [planted.running[0], "RUNNING"]
    assert re.search(r"  \d+[smhd] ago$", running[1])  # ages themselves: tests/core/test_troubleshoot.py

    stopped = text.split("Stopped tasks (newest first):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    age = r"stopped \d+[smh] ago"
    assert re.match(rf"  {planted.stopped[1]}  {age}  {deployed.names.ecs_service}:1  ", stopped[0])
    assert stopped[0].endswith(
        "ServiceSchedulerInitiated: Task failed ELB health checks in (target-group tg)"
    )
    assert stopped[1] == "    app: exit code 137"
    assert re.match(rf"  {planted.stopped[0]}  {age}  ", stopped[2])
    assert stopped[2].endswith("EssentialContainerExited: Essential container in task exited")
    assert stopped[3] == "    app: exit code 1"

    assert "Targets:\n  172.31.0.10:8080  healthy\n" in text
    events = text.split("Events (newest first):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split("ago  ", 1)[1] for line in events] == [
        f"(service {names.ecs_service}) has started 1 tasks: (task {planted.running[0]}).",
        f"(service {names.ecs_service}) (task {planted.stopped[0]}) failed container health checks.",
        f"(service {names.ecs_service}) has reached a steady state.",
    ]
    hints = text.split("Hints:\n", 1)[1].splitlines()
    assert (
        "  - the load balancer's health checks failed: the app's /healthz must answer 200, "
        "and it answers 503 while the database does not answer"
    ) in hints
    assert "  - container app exited with code 1: read `prenv logs 12 --since 1h`" in hints
    assert not any("exit 137" in hint for hint in hints)  # the scheduler stopped that one, after the ELB
    assert result.stderr == ""


def test_status_json_has_every_part_for_scripts(boto: Any, deploy_outputs: Deploy) -> None:
    deployed, planted = _broken_preview(boto, deploy_outputs, 13)
    result = deployed.cli("status", "--pr", "13", "--json", "--events", "2")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["pr"] == 13
    assert document["cluster"] == planted.cluster
    assert document["names_from"] == "terraform-outputs"
    service = document["service"]
    assert (service["desired"], service["running"], service["pending"]) == (1, 1, 1)
    assert service["rollout_state"] == "IN_PROGRESS"
    assert service["exec_enabled"] is True
    assert len(service["events"]) == 2
    assert service["events"][0]["message"].endswith(f"(task {planted.running[0]}).")
    assert service["events"][0]["at"].endswith("Z")
    assert [t["id"] for t in document["running_tasks"]] == planted.running
    assert [t["id"] for t in document["stopped_tasks"]] == planted.stopped[::-1]
    newest = document["stopped_tasks"][0]
    assert newest["stop_code"] == "ServiceSchedulerInitiated"
    assert newest["containers"][0] == {
        "name": "app",
        "last_status": "STOPPED",
        "exit_code": 137,
        "reason": "",
        "health": "HEALTHY",
    }
    assert document["targets"] == [
        {"id": "172.31.0.10", "port": 8080, "state": "healthy", "reason": "", "description": ""}
    ]
    assert document["database"]["status"] == "available"
    assert document["database"]["version"] == "16.4"
    assert document["commands"] == {"logs": "prenv logs 13", "exec": "prenv exec 13"}
    assert any("health checks failed" in hint for hint in document["hints"])


def test_without_outputs_the_names_prenv_derives_are_used(boto: Any, deploy_outputs: Deploy) -> None:
    """An older root with no ecs_* outputs: the service is found by name in whichever cluster holds it."""
    deployed = deploy_outputs(21, {"url": "https://pr-21.preview.example.com/"})
    names = deployed.names
    planted = planting.plant_preview(
        boto,
        cluster=f"other-{names.repository_hash}",
        service=names.ecs_service,
        target_group=f"{names.target_group}x",
    )
    result = deployed.cli("status", "21")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Note: the Terraform state has no output ecs_service, log_group, db_endpoint; "
        "using the names prenv derives."
    )
    assert f"Cluster:         {planted.cluster}" in lines
    assert f"Database:        {names.rds_identifier} (not found)" in lines
    assert "Targets:\n  none registered\n" in result.stdout  # found through the service's load balancer


def test_a_pr_without_a_preview_is_a_clear_failure(configured: Deployed) -> None:
    result = configured.cli("status", "77")
    assert result.exit_code == 1
    service = configured.names.ecs_service.replace("pr1-", "pr77-")
    assert result.last_error_line == (
        f"prenv: PR 77 has no running preview: no ECS service {service} in any cluster of us-east-1; "
        "workspace pr-77 has no Terraform state either [preview-not-found]; deploy it (push to the PR or "
        "`prenv deploy --pr 77`); check the region (AWS_REGION)"
    )


def test_the_pr_given_twice_must_agree(configured: Deployed) -> None:
    result = configured.cli("status", "12", "--pr", "13")
    assert result.exit_code == 2
    assert result.last_error_line == (
        "prenv: the PR is given twice, as 12 and as --pr 13 [bad-usage]; give it once"
    )


def test_status_shows_the_last_deploys_phases(
    boto: Any, tmp_path: Any, aws_env: dict[str, str], state_bucket: str, repository: str
) -> None:
    """The deploy timed its phases with the command's clock (fixed here: 1.5 s a reading) and kept them in
    the deploy record; status reads them back."""
    from datetime import UTC, datetime, timedelta

    from prenv.core.naming import names_for
    from tests.helpers import light_config, run_cli, write_config

    readings = iter(range(1000))
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def clock() -> datetime:
        return start + timedelta(seconds=1.5 * next(readings))

    names = names_for(31, repository)
    cluster = f"prenv-{names.repository_hash}"
    outputs = {
        "url": "https://pr-31.preview.example.com/",
        "ecs_cluster": cluster,
        "ecs_service": names.ecs_service,
    }
    root = planting.outputs_root(tmp_path / "root", outputs)
    # The service is planted after the deploy: readiness (tested in tests/commands/hooks) is off here.
    config = light_config(state_bucket, root, repository=repository, readiness={"enabled": False})
    write_config(tmp_path, config)
    sha = "abcdef0123456789abcdef0123456789abcdef01"
    deployed = run_cli(["deploy", "--pr", "31", "--sha", sha], env=aws_env, cwd=tmp_path, clock=clock)
    assert deployed.exit_code == 0, deployed.stderr
    planting.plant_preview(boto, cluster=cluster, service=names.ecs_service, target_group=names.target_group)

    text = run_cli(["status", "31"], env=aws_env, cwd=tmp_path)
    assert text.exit_code == 0, text.stderr
    last = text.stdout.splitlines()[-2:]
    assert re.fullmatch(r"Last deploy: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \(commit abcdef0\)", last[0])
    assert last[1] == "  phases: init 1.5s, plan 1.5s, apply 1.5s (total 4.5s)"

    document = json.loads(run_cli(["status", "31", "--json"], env=aws_env, cwd=tmp_path).stdout)
    assert document["last_deploy"]["head_sha"] == sha
    assert document["last_deploy"]["phases"] == [
        {"phase": "init", "seconds": 1.5},
        {"phase": "plan", "seconds": 1.5},
        {"phase": "apply", "seconds": 1.5},
    ]
