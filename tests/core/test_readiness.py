"""Readiness from what AWS says (pure): ready, waiting for what, failed and why."""

from __future__ import annotations

from typing import Any

import pytest

from prenv.core import troubleshoot
from prenv.core.readiness import (
    ReadyPhase,
    Snapshot,
    assess,
    init_step_states,
    steps_succeeded,
    stopped_line,
    target_line,
)

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/prenv-abc123-pr7-app:4"
OLD_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/prenv-abc123-pr7-app:3"


def service(*, desired: int = 1, deployments: list[dict[str, Any]] | None = None) -> troubleshoot.Service:
    primary = {
        "status": "PRIMARY",
        "taskDefinition": TD,
        "rolloutState": "COMPLETED",
        "desiredCount": desired,
    }
    return troubleshoot.service(
        {
            "serviceName": "prenv-abc123-pr7-app",
            "status": "ACTIVE",
            "desiredCount": desired,
            "taskDefinition": TD,
            "deployments": deployments if deployments is not None else [primary],
        }
    )


def task(
    task_id: str,
    *,
    status: str = "RUNNING",
    td: str = TD,
    ip: str = "10.0.1.5",
    containers: list[dict[str, Any]] | None = None,
    **raw: Any,
) -> troubleshoot.Task:
    return troubleshoot.task(
        {
            "taskArn": f"arn:aws:ecs:us-east-1:123456789012:task/c/{task_id}",
            "lastStatus": status,
            "taskDefinitionArn": td,
            "attachments": [
                {"type": "ElasticNetworkInterface", "details": [{"name": "privateIPv4Address", "value": ip}]}
            ],
            "containers": containers or [{"name": "app", "lastStatus": status}],
            **raw,
        }
    )


def target(ip: str = "10.0.1.5", state: str = "healthy", reason: str = "", description: str = "") -> Any:
    health = {"State": state, "Reason": reason, "Description": description}
    return troubleshoot.target_health({"Target": {"Id": ip, "Port": 8080}, "TargetHealth": health})


def snap(
    svc: troubleshoot.Service | None = None,
    running: tuple[troubleshoot.Task, ...] = (),
    stopped: tuple[troubleshoot.Task, ...] = (),
    targets: tuple[Any, ...] | None = (),
) -> Snapshot:
    return Snapshot(service=svc or service(), running=running, stopped=stopped, targets=targets)


def test_ready_when_the_new_version_runs_and_its_target_is_healthy() -> None:
    progress = assess(snap(running=(task("a1"),), targets=(target(),)))
    assert progress.phase is ReadyPhase.READY
    assert progress.summary == "ready: 1 task of prenv-abc123-pr7-app:4 running, 1 healthy target"
    assert progress.details == ()


def test_a_service_without_a_load_balancer_is_ready_when_its_tasks_run() -> None:
    progress = assess(snap(running=(task("a1"),), targets=None))
    assert (progress.phase, progress.summary) == (
        ReadyPhase.READY,
        "ready: 1 task of prenv-abc123-pr7-app:4 running",
    )


def test_a_service_scaled_to_zero_is_ready_at_once() -> None:
    progress = assess(snap(service(desired=0), targets=()))
    assert progress.phase is ReadyPhase.READY
    assert "0 tasks" in progress.summary


def test_waiting_for_a_pending_task_says_so() -> None:
    progress = assess(snap(running=(task("a1", status="PROVISIONING"),), targets=()))
    assert progress.phase is ReadyPhase.WAITING
    assert progress.summary == (
        "waiting for 1 task of prenv-abc123-pr7-app:4 to run; 1 target to be healthy in the target group"
    )
    assert progress.details == (
        "0 of 1 running, 1 starting (PROVISIONING)",
        "no target is registered in the target group yet",
    )


def test_an_unhealthy_target_is_shown_with_the_reason_elb_gives() -> None:
    unhealthy = target(
        state="unhealthy",
        reason="Target.ResponseCodeMismatch",
        description="Health checks failed with these codes: [503]",
    )
    progress = assess(snap(running=(task("a1"),), targets=(unhealthy,)))
    assert progress.phase is ReadyPhase.WAITING
    assert progress.summary == "waiting for 1 target to be healthy in the target group"
    assert progress.details == (
        "target 10.0.1.5:8080 unhealthy: Target.ResponseCodeMismatch "
        "Health checks failed with these codes: [503]",
    )


def test_only_the_new_versions_targets_count() -> None:
    """The old task's healthy target (draining soon) does not make the new version ready."""
    old = task("o1", td=OLD_TD, ip="10.0.1.9")
    new = task("n1", ip="10.0.1.5")
    initial = target("10.0.1.5", state="initial", reason="Elb.RegistrationInProgress")
    progress = assess(snap(running=(old, new), targets=(target("10.0.1.9"), initial)))
    assert progress.phase is ReadyPhase.WAITING
    assert progress.details == ("target 10.0.1.5:8080 initial: Elb.RegistrationInProgress",)


def test_an_older_deployment_still_running_keeps_it_waiting() -> None:
    deployments = [
        {"status": "PRIMARY", "taskDefinition": TD, "rolloutState": "IN_PROGRESS"},
        {"status": "ACTIVE", "taskDefinition": OLD_TD, "runningCount": 1},
    ]
    progress = assess(snap(service(deployments=deployments), running=(task("n1"),), targets=(target(),)))
    assert progress.phase is ReadyPhase.WAITING
    assert progress.summary == "waiting for the older version to be replaced"
    assert progress.details == ("deployment of prenv-abc123-pr7-app:3 still has 1 running",)


def test_a_stopped_task_is_shown_with_its_reason_and_exit_codes_while_waiting() -> None:
    stopped = task(
        "s1",
        status="STOPPED",
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
        containers=[{"name": "app", "lastStatus": "STOPPED", "exitCode": 1}],
    )
    progress = assess(snap(stopped=(stopped,), targets=()))
    assert progress.phase is ReadyPhase.WAITING
    assert progress.details[-1] == (
        "task s1 stopped: EssentialContainerExited: Essential container in task exited; app exit 1"
    )
    assert progress.stopped == (stopped,)


def test_stopped_tasks_of_an_older_version_are_not_this_deploys_problem() -> None:
    old = task("s0", status="STOPPED", td=OLD_TD, stoppedReason="Scaling activity initiated by deployment")
    progress = assess(snap(running=(task("a1"),), stopped=(old,), targets=(target(),)))
    assert progress.phase is ReadyPhase.READY


def test_three_stopped_tasks_of_the_new_version_fail_at_once() -> None:
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    stopped = tuple(task(f"s{i}", status="STOPPED", stoppedReason=reason) for i in range(3))
    progress = assess(snap(stopped=stopped, targets=()))
    assert progress.phase is ReadyPhase.FAILED
    assert progress.summary == "3 tasks of prenv-abc123-pr7-app:4 stopped before the service was ready"
    assert progress.details == tuple(f"task s{i} stopped: {reason}" for i in range(3))


def test_a_failed_rollout_fails_at_once() -> None:
    deployments = [
        {
            "status": "PRIMARY",
            "taskDefinition": TD,
            "rolloutState": "FAILED",
            "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
        }
    ]
    progress = assess(snap(service(deployments=deployments), targets=()))
    assert progress.phase is ReadyPhase.FAILED
    assert progress.summary == (
        "ECS failed the deployment of prenv-abc123-pr7-app:4: "
        "ECS deployment circuit breaker: tasks failed to start."
    )


@pytest.mark.parametrize("step", ["migrate", "seed"])
def test_an_init_step_that_exited_non_zero_fails_with_its_name_and_exit_code(step: str) -> None:
    containers = [
        {"name": "migrate", "lastStatus": "STOPPED", "exitCode": 0 if step == "seed" else 3},
        {"name": "seed", "lastStatus": "STOPPED", "exitCode": 3} if step == "seed" else {"name": "seed"},
        {"name": "app", "lastStatus": "PENDING"},
    ]
    failing = task("s1", status="STOPPED", containers=containers, stoppedReason="Essential container exited")
    progress = assess(snap(stopped=(failing,), targets=()))
    assert progress.phase is ReadyPhase.FAILED
    assert progress.step_failure is not None
    assert (progress.step_failure.step, progress.step_failure.task, progress.step_failure.exit_code) == (
        step,
        "s1",
        3,
    )
    assert progress.summary == f"the {step} step of task s1 exited with code 3"


def test_the_lines_and_init_step_states() -> None:
    t = task(
        "t1",
        containers=[
            {"name": "migrate", "lastStatus": "STOPPED", "exitCode": 0},
            {"name": "seed", "lastStatus": "RUNNING"},
            {"name": "app", "lastStatus": "PENDING"},
        ],
    )
    assert init_step_states(t) == ["migrate: exited 0", "seed: RUNNING"]
    assert init_step_states(task("t2")) == []
    assert stopped_line(task("t3", status="STOPPED")) == "task t3 stopped: no reason given"
    assert target_line(target(state="draining")) == "target 10.0.1.5:8080 draining"


def test_ready_wins_over_an_earlier_failure_of_the_same_version() -> None:
    """ECS retried: a task whose migrate step failed, then one that runs and is healthy."""
    failed = task(
        "s1",
        status="STOPPED",
        containers=[{"name": "migrate", "lastStatus": "STOPPED", "exitCode": 1}, {"name": "app"}],
    )
    progress = assess(snap(running=(task("a1"),), stopped=(failed,), targets=(target(),)))
    assert progress.phase is ReadyPhase.READY


def test_the_steps_that_succeeded_in_a_task_of_the_new_version() -> None:
    """What tells the deploy that the seed did its work, even when the app then fails."""
    seeded = task(
        "s1",
        status="STOPPED",
        containers=[
            {"name": "migrate", "lastStatus": "STOPPED", "exitCode": 0},
            {"name": "seed", "lastStatus": "STOPPED", "exitCode": 0},
            {"name": "app", "lastStatus": "STOPPED", "exitCode": 1},
        ],
    )
    migrating = task(
        "r1",
        status="PENDING",
        containers=[{"name": "migrate", "lastStatus": "STOPPED", "exitCode": 0}, {"name": "seed"}],
    )
    failed_seed = task(
        "s2", status="STOPPED", containers=[{"name": "seed", "lastStatus": "STOPPED", "exitCode": 2}]
    )
    older = task("s3", status="STOPPED", td=OLD_TD, containers=[{"name": "seed", "exitCode": 0}])
    assert steps_succeeded(snap(stopped=(seeded,))) == {"migrate", "seed"}
    assert steps_succeeded(snap(running=(migrating,), stopped=(failed_seed,))) == {"migrate"}
    assert steps_succeeded(snap(stopped=(older,))) == set()  # another version's seed is not this one's
    assert steps_succeeded(snap(running=(task("a1"),))) == set()  # the app's exit codes are not steps
