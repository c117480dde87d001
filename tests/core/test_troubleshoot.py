"""The pure parts of status / logs / exec: locating, the status model, hints, text, JSON, log tailing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from prenv.commands.logs import LOOKBACK_MS, tail
from prenv.core import troubleshoot
from prenv.core.diagnose import diagnose
from prenv.core.naming import names_for
from prenv.render import describe

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
NAMES = names_for(7, "octo/app")


def _out(value: str, sensitive: bool = False) -> dict[str, Any]:
    return {"value": value, "type": "string", "sensitive": sensitive}


def test_locate_prefers_the_terraform_outputs() -> None:
    outputs = {
        "url": _out("https://pr-7.example.com/"),
        "region": _out("eu-west-1"),
        "ecs_cluster": _out("previews"),
        "ecs_service": _out("svc-7"),
        "log_group": _out("/logs/7"),
        "db_endpoint": _out("db-7.abc.eu-west-1.rds.amazonaws.com"),
        "target_group_arn": _out("arn:tg"),
    }
    location = troubleshoot.locate(outputs, NAMES, default_region="us-east-1")
    assert location == troubleshoot.Location(
        pr=7,
        workspace="pr-7",
        region="eu-west-1",
        cluster="previews",
        service="svc-7",
        log_group="/logs/7",
        url="https://pr-7.example.com/",
        db_identifier="db-7",
        target_group_arn="arn:tg",
        from_state=True,
        derived=(),
    )


def test_locate_falls_back_to_the_derived_names_and_ignores_sensitive_outputs() -> None:
    location = troubleshoot.locate({"url": _out("secret", sensitive=True)}, NAMES, default_region="us-east-1")
    assert (location.url, location.region, location.cluster) == ("", "us-east-1", "")
    assert (location.service, location.log_group) == (NAMES.ecs_service, NAMES.log_group)
    assert location.db_identifier == NAMES.rds_identifier
    assert location.derived == ("ecs_service", "log_group", "db_endpoint")
    assert troubleshoot.locate(None, NAMES, default_region="us-east-1").from_state is False


def _task(task_id: str, **raw: Any) -> troubleshoot.Task:
    return troubleshoot.task({"taskArn": f"arn:aws:ecs:us-east-1:1:task/c/{task_id}", **raw})


def _service(**raw: Any) -> troubleshoot.Service:
    base = {"serviceName": "svc", "status": "ACTIVE", "desiredCount": 1, "runningCount": 0, "pendingCount": 1}
    return troubleshoot.service({**base, **raw})


def _status(**parts: Any) -> troubleshoot.Status:
    location = troubleshoot.locate(None, NAMES, default_region="us-east-1")
    status = troubleshoot.Status(location=location, **{"service": _service(), **parts})
    return troubleshoot.Status(**{**status.__dict__, "hints": diagnose(status)})


@pytest.mark.parametrize(
    ("stopped", "hint"),
    [
        (
            {"stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s)"},
            "ECS cannot pull the image: check that it exists (ECR) and that the task's execution role "
            "may pull it",
        ),
        (
            {"stoppedReason": "ResourceInitializationError: unable to pull secrets or registry auth"},
            "the task could not start: it cannot read its secrets or reach AWS (execution role permissions, "
            "or no route to Secrets Manager / ECR from the subnets)",
        ),
        (
            {"stopCode": "EssentialContainerExited", "containers": [{"name": "app", "exitCode": 137}]},
            "container app was killed (exit 137): out of memory, or it ignored SIGTERM",
        ),
        (
            {
                "containers": [
                    {"name": "app", "exitCode": 137, "reason": "OutOfMemoryError: Container killed"}
                ]
            },
            "the container ran out of memory: raise the task's memory",
        ),
        (
            {"stopCode": "EssentialContainerExited", "containers": [{"name": "app", "exitCode": 2}]},
            "container app exited with code 2: read `prenv logs 7 --since 1h`",
        ),
    ],
)
def test_stopped_tasks_give_hints(stopped: dict[str, Any], hint: str) -> None:
    status = _status(stopped=(_task("t1", lastStatus="STOPPED", **stopped),))
    assert hint in status.hints


def test_rollout_targets_database_and_counts_give_hints() -> None:
    failed = _service(
        deployments=[
            {"status": "PRIMARY", "rolloutState": "FAILED", "rolloutStateReason": "tasks failed to start."}
        ]
    )
    unhealthy = troubleshoot.target_health(
        {
            "Target": {"Id": "10.0.1.5", "Port": 8080},
            "TargetHealth": {
                "State": "unhealthy",
                "Reason": "Target.ResponseCodeMismatch",
                "Description": "Health checks failed with these codes: [503]",
            },
        }
    )
    creating = troubleshoot.database({"DBInstanceIdentifier": "db", "DBInstanceStatus": "creating"})
    status = _status(service=failed, targets=(unhealthy,), database=creating)
    assert status.hints == (
        "the deployment failed (tasks failed to start.); see the stopped tasks",
        "target 10.0.1.5 is unhealthy: Target.ResponseCodeMismatch "
        "Health checks failed with these codes: [503]",
        "the database is creating: /healthz answers 503 until it is available",
    )
    assert _status().hints == ("the tasks are still starting (pending): check again in a minute",)
    assert _status(service=_service(desiredCount=0, pendingCount=0)).hints == (
        "the service wants 0 tasks: nothing runs (scaled down?)",
    )


def test_the_rollout_state_is_derived_when_ecs_gives_none() -> None:
    assert _service(runningCount=1, pendingCount=0).rollout_state == "COMPLETED"
    two = [{"status": "PRIMARY", "id": "a"}, {"status": "ACTIVE", "id": "b"}]
    assert _service(runningCount=1, deployments=two).rollout_state == "IN_PROGRESS"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (119, "119s"), (180, "3m"), (7500, "2h5m"), (3 * 86400 + 5, "3d")],
)
def test_ages_read_like_kubectl(seconds: int, text: str) -> None:
    assert describe.ago(NOW - timedelta(seconds=seconds), NOW) == text
    assert describe.ago((NOW - timedelta(seconds=seconds)).replace(tzinfo=None), NOW) == text  # naive is UTC


def test_the_status_text_of_a_failing_preview() -> None:
    location = troubleshoot.Location(
        pr=7,
        workspace="pr-7",
        region="us-east-1",
        cluster="previews",
        service="svc",
        log_group="/prenv/x/pr7",
        url="https://pr-7.example.com/",
        db_identifier="db7",
    )
    service = troubleshoot.service(
        {
            "serviceName": "svc",
            "status": "ACTIVE",
            "desiredCount": 1,
            "runningCount": 0,
            "pendingCount": 0,
            "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/app:3",
            "enableExecuteCommand": True,
            "deployments": [
                {
                    "status": "PRIMARY",
                    "rolloutState": "FAILED",
                    "rolloutStateReason": "circuit breaker",
                    "taskDefinition": "arn:td/app:3",
                    "desiredCount": 1,
                    "failedTasks": 3,
                }
            ],
            "events": [
                {"createdAt": NOW - timedelta(seconds=30), "message": "(service svc) was unable to start"},
                {"createdAt": NOW - timedelta(hours=3), "message": "(service svc) reached a steady state."},
            ],
        },
        events=1,
    )
    stopped = _task(
        "abc",
        lastStatus="STOPPED",
        stopCode="TaskFailedToStart",
        stoppedAt=NOW - timedelta(minutes=2),
        stoppedReason="CannotPullContainerError: not found",
        taskDefinitionArn="arn:td/app:3",
        containers=[{"name": "app", "lastStatus": "STOPPED"}],
    )
    status = troubleshoot.Status(
        location=location,
        service=service,
        stopped=(stopped,),
        targets=(),
        database=troubleshoot.database(
            {
                "DBInstanceIdentifier": "db7",
                "DBInstanceStatus": "available",
                "Engine": "postgres",
                "EngineVersion": "16.4",
                "Endpoint": {"Address": "db7.x", "Port": 5432},
            }
        ),
    )
    status = troubleshoot.Status(**{**status.__dict__, "hints": diagnose(status)})
    assert describe.render_status(status, NOW) == (
        "Preview:         PR 7 (workspace pr-7)\n"
        "URL:             https://pr-7.example.com/\n"
        "Region:          us-east-1\n"
        "Cluster:         previews\n"
        "Service:         svc (ACTIVE)\n"
        "Tasks:           desired 1, running 0, pending 0\n"
        "Rollout:         FAILED: circuit breaker\n"
        "Task definition: app:3\n"
        "ECS Exec:        on\n"
        "Database:        db7: available (postgres 16.4) db7.x:5432\n"
        "Logs:            /prenv/x/pr7 (prenv logs 7)\n"
        "Shell:           prenv exec 7\n"
        "\n"
        "Deployments:\n"
        "  STATUS   ROLLOUT  TASK DEF  DESIRED  RUNNING  PENDING  FAILED\n"
        "  PRIMARY  FAILED   app:3     1        0        0        3\n"
        "\n"
        "Running tasks:\n"
        "  none\n"
        "\n"
        "Stopped tasks (newest first):\n"
        "  abc  stopped 2m ago  app:3  TaskFailedToStart: CannotPullContainerError: not found\n"
        "    app: exit code -\n"
        "\n"
        "Targets:\n"
        "  none registered\n"
        "\n"
        "Events (newest first):\n"
        "    30s ago  (service svc) was unable to start\n"
        "\n"
        "Hints:\n"
        "  - the deployment failed (circuit breaker); see the stopped tasks\n"
        "  - ECS cannot pull the image: check that it exists (ECR) and that the task's execution role "
        "may pull it\n"
    )
    document = describe.status_document(status)
    assert document["service"]["events"] == [
        {"at": "2025-03-01T11:59:30Z", "message": "(service svc) was unable to start"}
    ]
    assert document["stopped_tasks"][0]["stopped_at"] == "2025-03-01T11:58:00Z"
    assert document["names_from"] == "terraform-outputs"


def test_status_shows_each_tasks_init_steps() -> None:
    location = troubleshoot.locate(None, NAMES, default_region="us-east-1")
    steps = [
        {"name": "migrate", "lastStatus": "STOPPED", "exitCode": 0},
        {"name": "seed", "lastStatus": "RUNNING"},
        {"name": "app", "lastStatus": "PENDING"},
    ]
    running = _task(
        "t1", lastStatus="PENDING", startedAt=NOW, taskDefinitionArn="arn:td/app:4", containers=steps
    )
    plain = _task("t2", lastStatus="RUNNING", startedAt=NOW, taskDefinitionArn="arn:td/app:4")
    status = troubleshoot.Status(location=location, service=_service(), running=(running, plain))
    text = describe.render_status(status, NOW)
    section = text.split("Running tasks:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert section[1:] == [
        "  t1    PENDING  -       app:4     0s ago",
        "  t2    RUNNING  -       app:4     0s ago",
        "  t1 init steps: migrate: exited 0, seed: RUNNING",
    ]
    document = describe.status_document(status)
    assert [t["init_steps"] for t in document["running_tasks"]] == [
        ["migrate: exited 0", "seed: RUNNING"],
        [],
    ]


def test_the_exec_task_prefers_a_running_exec_agent() -> None:
    agent = [{"name": "app", "managedAgents": [{"name": "ExecuteCommandAgent", "lastStatus": "RUNNING"}]}]
    older_with_agent = _task(
        "old", lastStatus="RUNNING", startedAt=NOW - timedelta(hours=1), containers=agent
    )
    newer = _task("new", lastStatus="RUNNING", startedAt=NOW)
    pending = _task("pend", lastStatus="PENDING", startedAt=NOW)
    assert troubleshoot.running_task_for_exec([newer, older_with_agent, pending]) == older_with_agent
    assert troubleshoot.running_task_for_exec([pending, newer]) == newer
    assert troubleshoot.running_task_for_exec([pending]) is None


def test_log_lines_carry_time_task_and_message() -> None:
    record = describe.log_record(
        {
            "logStreamName": "app/app/0123456789abcdef",
            "timestamp": 1740830400123,
            "message": "hello\n",
            "eventId": "1",
        }
    )
    assert describe.render_log(record) == "2025-03-01T12:00:00.123Z [01234567] hello"
    assert describe.log_json(record) == (
        '{"time": "2025-03-01T12:00:00.123000Z", "task": "0123456789abcdef", '
        '"stream": "app/app/0123456789abcdef", "message": "hello"}'
    )


def test_tail_sorts_across_streams_looks_back_and_never_repeats() -> None:
    start = 1_000_000
    store: list[dict[str, Any]] = [
        {"logStreamName": "a", "eventId": "1", "timestamp": start + 2000, "message": "a1"},
        {
            "logStreamName": "b",
            "eventId": "1",
            "timestamp": start + 1000,
            "message": "b1",
        },  # same id, other stream
    ]
    asked: list[int] = []

    def fetch(since: int) -> list[dict[str, Any]]:
        asked.append(since)
        return [event for event in store if event["timestamp"] >= since]

    shown: list[str] = []
    polls = 0

    def sleep(seconds: float) -> None:
        nonlocal polls
        polls += 1
        if polls == 1:  # a late event, older than the newest one shown, inside the look-back window
            store.append({"logStreamName": "b", "eventId": "2", "timestamp": start + 1500, "message": "late"})
            store.append(
                {"logStreamName": "a", "eventId": "2", "timestamp": start + 60_000, "message": "far"}
            )
        if polls == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tail(fetch, start, lambda r: shown.append(r.message), follow=True, sleep=sleep)
    assert shown == ["b1", "a1", "late", "far"]
    # From the start while newest - look-back is before it, then from the newest minus the look-back.
    assert asked == [start, start, start + 60_000 - LOOKBACK_MS]

    once: list[str] = []
    tail(fetch, start + 1600, lambda r: once.append(r.message), follow=False, sleep=sleep)
    assert once == ["a1", "far"]
