"""Is a deployed preview ready? Decided from what AWS says, never by reaching the preview (pure).

A preview is ready when its ECS service runs the task definition the deploy gave it, as many tasks of
it as it wants, no older deployment is left, and (with a load balancer) that many of its targets are
healthy in the target group. Until then `assess` says what it is waiting for (tasks pending, targets
unhealthy and why, tasks that stopped and why), so the log and the PR comment can show it. It gives up
at once when it cannot get better: an init step (migrate, seed) exited non-zero, the deployment circuit
breaker failed the rollout, or `STOP_LIMIT` tasks of the new version stopped (ECS's own circuit breaker
threshold for a small service).

`prenv.engine.readiness` polls AWS and feeds `assess` the `Snapshot`s; the values here are plain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from prenv.core.contract import INIT_STEPS
from prenv.core.troubleshoot import Service, TargetHealth, Task

# Stopped tasks of the new version after which waiting longer is pointless (the deployment circuit
# breaker's lowest failure threshold).
STOP_LIMIT = 3
_STARTING = ("PROVISIONING", "PENDING", "ACTIVATING")


class ReadyPhase(StrEnum):
    WAITING = "waiting"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class StepFailure:
    """An init step (a container named in `INIT_STEPS`) that exited non-zero."""

    step: str
    task: str  # the task's id
    exit_code: int
    reason: str  # the container's reason ("" when ECS gave none)


@dataclass(frozen=True)
class Snapshot:
    """What AWS says about the preview at one moment."""

    service: Service
    running: tuple[Task, ...]  # the service's tasks ECS wants running (whatever their last status)
    stopped: tuple[Task, ...]  # its stopped tasks, newest first
    targets: tuple[TargetHealth, ...] | None  # None: the service has no load balancer


@dataclass(frozen=True)
class ReadyProgress:
    phase: ReadyPhase
    summary: str  # one line
    details: tuple[str, ...] = ()  # what is pending, unhealthy or stopped, and why
    step_failure: StepFailure | None = None
    stopped: tuple[Task, ...] = ()  # stopped tasks of the new version, newest first

    def text(self) -> str:
        """The whole progress as lines (what changes between two reports)."""
        return "\n".join([self.summary, *self.details])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def stopped_line(task: Task) -> str:
    """`task abc stopped: EssentialContainerExited: Essential container in task exited; app exit 1`."""
    why = ": ".join(part for part in (task.stop_code, task.stopped_reason) if part) or "no reason given"
    codes = [
        f"{c.name} exit {c.exit_code}" + (f" ({c.reason})" if c.reason else "")
        for c in task.containers
        if c.exit_code is not None or c.reason
    ]
    return f"task {task.id} stopped: {why}" + (f"; {', '.join(codes)}" if codes else "")


def target_line(target: TargetHealth) -> str:
    where = f"{target.id}:{target.port}" if target.port else target.id
    why = " ".join(part for part in (target.reason, target.description) if part)
    return f"target {where} {target.state or 'unknown'}" + (f": {why}" if why else "")


def step_failure(tasks: Sequence[Task], steps: Sequence[str] = INIT_STEPS) -> StepFailure | None:
    """The first init step that exited non-zero in `tasks` (newest first), if any."""
    for task in tasks:
        for container in task.containers:
            code = container.exit_code
            if container.name in steps and code is not None and code != 0:
                return StepFailure(container.name, task.id, code, container.reason)
    return None


def steps_succeeded(snapshot: Snapshot, steps: Sequence[str] = INIT_STEPS) -> frozenset[str]:
    """The init steps that exited 0 in some task of the service's task definition (running or stopped):
    a step that succeeded did its work, whatever happens to the app container after it."""
    version = snapshot.service.task_definition
    return frozenset(
        container.name
        for task in (*snapshot.running, *snapshot.stopped)
        if task.task_definition == version
        for container in task.containers
        if container.name in steps and container.exit_code == 0
    )


def init_step_states(task: Task, steps: Sequence[str] = INIT_STEPS) -> list[str]:
    """`migrate: exited 0`, `seed: RUNNING`, ... for the init steps of one task (for `prenv status`)."""
    found = []
    for container in task.containers:
        if container.name not in steps:
            continue
        if container.exit_code is not None:
            state = f"exited {container.exit_code}"
        else:
            state = container.last_status or "unknown"
        found.append(f"{container.name}: {state}" + (f" ({container.reason})" if container.reason else ""))
    return found


def _healthy_targets(snapshot: Snapshot, tasks: Sequence[Task]) -> tuple[int, list[TargetHealth]]:
    """Healthy targets of the new version's tasks (by address when ECS gave the tasks theirs), and the
    targets that are not healthy (draining ones of older tasks are left out: they are on their way)."""
    targets = snapshot.targets or ()
    addresses = {t.ip for t in tasks if t.ip}
    mine = [t for t in targets if t.id in addresses] if addresses else list(targets)
    healthy = sum(1 for t in mine if t.state == "healthy")
    others = [t for t in mine if t.state != "healthy"]
    return healthy, others


def assess(
    snapshot: Snapshot, *, steps: Sequence[str] = INIT_STEPS, stop_limit: int = STOP_LIMIT
) -> ReadyProgress:
    """Ready, failed, or what it is still waiting for. Ready wins: tasks that failed before a later
    one of the same version got healthy (a retry ECS made) do not fail the deploy."""
    service = snapshot.service
    version = service.task_definition
    running = [t for t in snapshot.running if t.task_definition == version]
    stopped = tuple(t for t in snapshot.stopped if t.task_definition == version)
    stopped_lines = tuple(stopped_line(t) for t in stopped[:stop_limit])
    primary = next((d for d in service.deployments if d.status == "PRIMARY"), None)

    desired = service.desired
    up = [t for t in running if t.last_status == "RUNNING"]
    starting = [t for t in running if t.last_status in _STARTING or not t.last_status]
    details: list[str] = []
    waiting: list[str] = []
    if primary is not None and primary.task_definition and primary.task_definition != version:
        waiting.append(f"ECS to start deploying {version}")
    if len(up) < desired:
        waiting.append(f"{_plural(desired - len(up), 'task')} of {version} to run")
        states = sorted({t.last_status for t in starting if t.last_status})
        details.append(
            f"{len(up)} of {desired} running, {len(starting)} starting"
            + (f" ({', '.join(states)})" if states else "")
        )
    older = [d for d in service.deployments if d.status != "PRIMARY"]
    if older:
        waiting.append("the older version to be replaced")
        details += [f"deployment of {d.task_definition} still has {d.running} running" for d in older]
    if snapshot.targets is not None and desired > 0:
        healthy, others = _healthy_targets(snapshot, up)
        if healthy < desired:
            waiting.append(f"{_plural(desired - healthy, 'target')} to be healthy in the target group")
            details += [target_line(t) for t in others]
            if not snapshot.targets:
                details.append("no target is registered in the target group yet")
    if not waiting:
        if desired == 0:
            return ReadyProgress(
                ReadyPhase.READY, f"ready: the service runs {version} with 0 tasks (scaled to zero)"
            )
        targets = "" if snapshot.targets is None else f", {_plural(desired, 'healthy target')}"
        return ReadyProgress(
            ReadyPhase.READY, f"ready: {_plural(len(up), 'task')} of {version} running{targets}"
        )

    failure = step_failure([*stopped, *running], steps)
    if failure is not None:
        return ReadyProgress(
            ReadyPhase.FAILED,
            f"the {failure.step} step of task {failure.task} exited with code {failure.exit_code}",
            stopped_lines,
            step_failure=failure,
            stopped=stopped,
        )
    if primary is not None and primary.rollout_state == "FAILED":
        reason = f": {primary.rollout_reason}" if primary.rollout_reason else ""
        summary = f"ECS failed the deployment of {version}{reason}"
        return ReadyProgress(ReadyPhase.FAILED, summary, stopped_lines, stopped=stopped)
    if len(stopped) >= stop_limit:
        return ReadyProgress(
            ReadyPhase.FAILED,
            f"{_plural(len(stopped), 'task')} of {version} stopped before the service was ready",
            stopped_lines,
            stopped=stopped,
        )
    details += list(stopped_lines)
    return ReadyProgress(
        ReadyPhase.WAITING, "waiting for " + "; ".join(waiting), tuple(details), stopped=stopped
    )
