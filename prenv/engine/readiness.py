"""Wait until a deployed preview is ready, asking AWS (ECS and the target group), never the preview.

Each poll reads the service, its tasks and its targets' health (`prenv.aws`), and `prenv.core.readiness`
decides: ready, failed, or waiting for something it names. Every change of what it waits for is
reported (the log and the PR comment show it). A preview that fails, or is still not ready when the
timeout passes, is a known failure whose detail holds what ECS says (tasks pending, targets unhealthy
and why, stopped tasks with their reasons and exit codes) and the last log lines of the container that
failed: `migrate-failed` or `seed-failed` for an init step that exited non-zero, else `not-ready`.
Everything in that detail is masked with `scrub` before it leaves this module.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prenv.aws.client import Aws
from prenv.aws.tasks import LogLine, last_lines, log_location
from prenv.core import readiness, troubleshoot
from prenv.core.contract import APP_CONTAINER, MIGRATE_STEP, SEED_STEP
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.readiness import ReadyPhase, ReadyProgress, Snapshot
from prenv.core.troubleshoot import Location

LOG_LINES = 50  # the last lines of the failed container shown with a failure
_STEP_REASONS = {MIGRATE_STEP: FailureReason.MIGRATE_FAILED, SEED_STEP: FailureReason.SEED_FAILED}
_FIRST_DELAY, _MAX_DELAY = 3.0, 15.0


@dataclass(frozen=True)
class Watch:
    """The deployed preview's parts that say whether it is ready (from its Terraform outputs)."""

    pr: int
    cluster: str
    service: str
    target_group_arn: str  # "": the service's load balancer's, if it has one


def watch(location: Location) -> Watch | None:
    """What to watch, or None when the outputs do not name an ECS cluster and service (a custom root)."""
    if not location.from_state or not location.cluster or "ecs_service" in location.derived:
        return None
    return Watch(location.pr, location.cluster, location.service, location.target_group_arn)


def snapshot(aws: Aws, where: Watch) -> tuple[Snapshot, dict[str, Any]]:
    """What AWS says now, and the service as DescribeServices returned it."""
    raw = aws.ecs_service(where.cluster, where.service)
    if raw is None or raw.get("status") != "ACTIVE":
        raise PrenvError(
            f"the ECS service {where.service} is not in cluster {where.cluster} after the apply",
            reason=FailureReason.NOT_READY,
            hint="check the Terraform root's ecs_cluster and ecs_service outputs",
        )
    group = where.target_group_arn or next(
        (str(lb["targetGroupArn"]) for lb in raw.get("loadBalancers") or [] if lb.get("targetGroupArn")), ""
    )
    running = tuple(troubleshoot.task(t) for t in aws.ecs_tasks(where.cluster, where.service, "RUNNING"))
    stopped = tuple(troubleshoot.task(t) for t in aws.ecs_tasks(where.cluster, where.service, "STOPPED"))
    targets = tuple(troubleshoot.target_health(t) for t in aws.target_health(group)) if group else None
    return (
        Snapshot(
            service=troubleshoot.service(raw, events=0),
            running=running,
            stopped=troubleshoot.newest_first(stopped, stopped=True),
            targets=targets,
        ),
        raw,
    )


@dataclass
class Waiter:
    """Polls until ready; `report` gets each new progress, `scrub` masks what a failure shows."""

    aws: Aws
    where: Watch
    timeout: timedelta
    report: Callable[[ReadyProgress], None]
    scrub: Callable[[str], str] = str
    commands: Mapping[str, Sequence[str]] | None = None  # init step -> its command (for the hints)
    # Called once for each init step as soon as ECS says it exited 0 in a task of the new version, even
    # if the deploy fails afterwards (the seed did its work: it is not to run again).
    step_succeeded: Callable[[str], None] = lambda step: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _succeeded: set[str] = field(default_factory=set, init=False)

    def wait(self) -> ReadyProgress:
        deadline = self.clock() + self.timeout.total_seconds()
        delay, shown = _FIRST_DELAY, ""
        while True:
            current, raw = snapshot(self.aws, self.where)
            for step in sorted(readiness.steps_succeeded(current) - self._succeeded):
                self._succeeded.add(step)
                self.step_succeeded(step)
            progress = readiness.assess(current)
            if progress.text() != shown:
                shown = progress.text()
                self.report(progress)
            if progress.phase is ReadyPhase.READY:
                return progress
            left = deadline - self.clock()
            if progress.phase is ReadyPhase.FAILED or left <= 0:
                raise self._failure(progress, raw, timed_out=progress.phase is not ReadyPhase.FAILED)
            self.sleep(min(delay, left))
            delay = min(delay * 1.5, _MAX_DELAY)

    # --- what a failure says -------------------------------------------------------------------

    def _lines(self, raw: Mapping[str, Any], container: str, task: str) -> tuple[str, list[LogLine]]:
        """The stream of `container` in `task`, and its last lines (none without CloudWatch logs)."""
        definition = self.aws.ecs_task_definition(str(raw.get("taskDefinition", "")))
        location = log_location(definition, container)
        if location is None:
            return "", []
        return f"{location.group} {location.stream(task)}", last_lines(self.aws, location, task, LOG_LINES)

    def _log_detail(self, raw: Mapping[str, Any], container: str, task: str) -> list[str]:
        if not task:
            return []
        where, lines = self._lines(raw, container, task)
        if not where:
            return [f"({container} does not log to CloudWatch: no log lines to show)"]
        if not lines:
            return [f"(no log lines in {where})"]
        # Each line is prefixed, so no line of the app's output can act as a workflow command in the log.
        return [
            f"The last {len(lines)} log lines of {container} ({where}):",
            *(f"| {line.message}" for line in lines),
        ]

    def _failure(self, progress: ReadyProgress, raw: Mapping[str, Any], *, timed_out: bool) -> PrenvError:
        pr = self.where.pr
        step = progress.step_failure
        if step is not None:
            command = (self.commands or {}).get(step.step)
            retry = f"`prenv run {pr} -- {shlex.join(command)}`" if command else f"`prenv run {pr} -- ...`"
            detail = [
                f"{step.step} (task {step.task}) exited with code {step.exit_code}"
                + (f": {step.reason}" if step.reason else ""),
                *progress.details,
                "",
                *self._log_detail(raw, step.step, step.task),
            ]
            return PrenvError(
                f"the {step.step} step exited with code {step.exit_code}, so the new version did not start",
                reason=_STEP_REASONS.get(step.step, FailureReason.NOT_READY),
                hint=f"read its last log lines below or with `prenv logs {pr}`, fix it and push; "
                f"run it by hand with {retry}",
                detail=self.scrub("\n".join(detail)),
            )
        newest = progress.stopped[0].id if progress.stopped else self._newest_running(raw)
        message = (
            f"the preview did not become ready within {int(self.timeout.total_seconds())}s"
            if timed_out
            else "the preview cannot become ready"
        )
        detail = [progress.summary, *progress.details, "", *self._log_detail(raw, APP_CONTAINER, newest)]
        return PrenvError(
            f"{message}: {progress.summary}",
            reason=FailureReason.NOT_READY,
            hint=f"see why with `prenv status {pr}` and `prenv logs {pr}`; "
            "readiness.timeout in the config sets how long prenv waits",
            detail=self.scrub("\n".join(detail).strip("\n")),
        )

    def _newest_running(self, raw: Mapping[str, Any]) -> str:
        """The id of a running task of the new version (whose app log may say why it is unhealthy)."""
        version = troubleshoot.service(raw, events=0).task_definition
        tasks = (
            troubleshoot.task(t)
            for t in self.aws.ecs_tasks(self.where.cluster, self.where.service, "RUNNING")
        )
        return next((t.id for t in tasks if t.task_definition == version), "")
