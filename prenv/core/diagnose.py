"""Hints from a preview's status: what a reviewer should look at, in words, without the AWS console."""

from __future__ import annotations

from prenv.core.troubleshoot import Status

_STOP_HINTS = (
    ("CannotPullContainerError", "ECS cannot pull the image: check that it exists (ECR) and that the task's "
     "execution role may pull it"),
    ("ResourceInitializationError", "the task could not start: it cannot read its secrets or reach AWS "
     "(execution role permissions, or no route to Secrets Manager / ECR from the subnets)"),
    ("ELB health checks", "the load balancer's health checks failed: the app's /healthz must answer 200, "
     "and it answers 503 while the database does not answer"),
    ("OutOfMemory", "the container ran out of memory: raise the task's memory"),
)  # fmt: skip


def _task_hints(status: Status) -> list[str]:
    hints: list[str] = []
    for stopped in status.stopped[:3]:
        text = " ".join([stopped.stopped_reason, stopped.stop_code, *(c.reason for c in stopped.containers)])
        hints += [hint for needle, hint in _STOP_HINTS if needle in text]
        for c in stopped.containers:
            if (
                c.exit_code == 137
                and stopped.stop_code == "EssentialContainerExited"
                and "OutOfMemory" not in text
            ):
                hints.append(
                    f"container {c.name} was killed (exit 137): out of memory, or it ignored SIGTERM"
                )
            elif c.exit_code not in (None, 0, 137):
                pr = status.location.pr
                hints.append(
                    f"container {c.name} exited with code {c.exit_code}: read `prenv logs {pr} --since 1h`"
                )
    return hints


def diagnose(status: Status) -> tuple[str, ...]:
    """What the state suggests a reviewer should look at, most telling first."""
    if status.asleep is not None:  # no task and a stopped database are what sleep means
        pr = status.location.pr
        return (
            f"the preview is asleep (idle): wake it with `prenv wake {pr}`, a `/prenv wake` comment on the "
            "PR, or a push",
        )
    hints: list[str] = []
    svc = status.service
    if svc is not None and svc.rollout_state == "FAILED":
        hints.append(
            f"the deployment failed ({svc.rollout_reason or 'circuit breaker'}); see the stopped tasks"
        )
    hints += _task_hints(status)
    hints += [
        f"target {t.id} is unhealthy: {t.reason} {t.description}".strip()
        for t in status.targets or ()
        if t.state == "unhealthy"
    ]
    db = status.database
    if db is not None and db.status != "available":
        hints.append(f"the database is {db.status}: /healthz answers 503 until it is available")
    elif db is None and "db_endpoint" not in status.location.derived:
        hints.append(f"the database {status.location.db_identifier} was not found")
    if svc is not None and svc.desired == 0:
        hints.append("the service wants 0 tasks: nothing runs (scaled down?)")
    elif svc is not None and svc.running == 0 and svc.pending and svc.rollout_state != "FAILED":
        hints.append("the tasks are still starting (pending): check again in a minute")
    return tuple(dict.fromkeys(hints))
