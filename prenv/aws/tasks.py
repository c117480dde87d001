"""One-off ECS tasks: start a task like a service's, with one container's command replaced, stream that
container's log lines as CloudWatch receives them, wait until it stops (or a timeout stops it), and say
how it ended. `prenv run`, the pre_destroy hook, and whatever else needs "run this once inside the
preview's network" use this one runner.

Where a container's log lines are: its task definition's `awslogs` settings say the group and the
stream prefix; the stream is `<prefix>/<container>/<task id>` (the awslogs driver's naming).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prenv.aws.client import Aws, AwsError

LineSink = Callable[["LogLine"], None]
_NOT_YET = "ResourceNotFoundException"  # the stream (or group) does not exist yet
_PAGE_LIMIT = 50  # pages read per poll: bounds one poll's work when a task logs a flood


@dataclass(frozen=True)
class LogLine:
    at: datetime
    message: str


@dataclass(frozen=True)
class LogLocation:
    """Where one container of a task definition logs (the awslogs driver), and its stream for a task."""

    group: str
    prefix: str
    container: str

    def stream(self, task_id: str) -> str:
        return f"{self.prefix}/{self.container}/{task_id}"


def log_location(task_definition: Mapping[str, Any], container: str) -> LogLocation | None:
    """The container's awslogs group and stream prefix, or None when it does not log to CloudWatch."""
    for definition in task_definition.get("containerDefinitions") or []:
        if definition.get("name") != container:
            continue
        logging = definition.get("logConfiguration") or {}
        options = logging.get("options") or {}
        if logging.get("logDriver") == "awslogs" and options.get("awslogs-group"):
            return LogLocation(
                str(options["awslogs-group"]), str(options.get("awslogs-stream-prefix", "")), container
            )
    return None


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _line(event: Mapping[str, Any]) -> LogLine:
    at = datetime.fromtimestamp(int(event.get("timestamp", 0)) / 1000, tz=UTC)
    return LogLine(at, str(event.get("message", "")).rstrip("\n"))


def last_lines(aws: Aws, location: LogLocation, task: str, count: int) -> list[LogLine]:
    """The last `count` lines of the container's stream for `task` (none when the stream is missing)."""
    try:
        events, _ = aws.log_stream_page(location.group, location.stream(task), from_head=False, limit=count)
    except AwsError as exc:
        if exc.code == _NOT_YET:
            return []
        raise
    return [_line(event) for event in events[-count:]]


@dataclass
class LogFollower:
    """Reads a stream forward from its head, each line once, across polls."""

    aws: Aws
    group: str
    stream: str
    _token: str = ""

    def poll(self, sink: LineSink) -> int:
        """Hand every line that arrived since the last poll to `sink`; returns how many."""
        count = 0
        for _ in range(_PAGE_LIMIT):
            try:
                events, token = self.aws.log_stream_page(
                    self.group, self.stream, from_head=True, token=self._token
                )
            except AwsError as exc:
                if exc.code == _NOT_YET:
                    return count
                raise
            for event in events:
                sink(_line(event))
            count += len(events)
            if not token or token == self._token:
                return count
            self._token = token
        return count


@dataclass(frozen=True)
class Launch:
    """How to start a task like a service's: the same cluster, task definition, network and capacity."""

    cluster: str
    task_definition: str
    network: Mapping[str, Any]
    capacity: tuple[Mapping[str, Any], ...] = ()
    launch_type: str = ""
    platform_version: str = ""


def launch_like(service: Mapping[str, Any], cluster: str) -> Launch:
    """A `Launch` from a service as DescribeServices returns it (its current task definition)."""
    return Launch(
        cluster=cluster,
        task_definition=str(service.get("taskDefinition", "")),
        network=service.get("networkConfiguration") or {},
        capacity=tuple(service.get("capacityProviderStrategy") or ()),
        launch_type="" if service.get("capacityProviderStrategy") else str(service.get("launchType") or ""),
        platform_version=str(service.get("platformVersion") or ""),
    )


@dataclass(frozen=True)
class Outcome:
    """How a one-off task ended."""

    task_id: str
    container: str
    exit_code: int | None  # the container's; None when it never ran (see the reasons) or did not finish
    stopped_reason: str
    stop_code: str
    container_reason: str
    timed_out: bool = False
    lines: tuple[LogLine, ...] = ()  # the last lines seen (at most `keep`)

    @property
    def succeeded(self) -> bool:
        return not self.timed_out and self.exit_code == 0

    def why(self) -> str:
        """Why it ended, in one line."""
        if self.timed_out:
            return f"it did not finish in time and was stopped ({self.stopped_reason})"
        if self.exit_code is not None:
            return f"{self.container} exited with code {self.exit_code}"
        parts = [p for p in (self.stop_code, self.stopped_reason, self.container_reason) if p]
        return f"{self.container} never ran: " + (": ".join(parts) or "ECS gave no reason")


@dataclass
class OneOffTask:
    """One task started like `launch`, with `container`'s command replaced by `command`."""

    aws: Aws
    launch: Launch
    container: str
    command: Sequence[str]
    started_by: str = "prenv"
    keep: int = 50  # log lines kept for the outcome (the rest only go to the sink)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    interval: float = 2.0
    settle: float = 2.0  # after the task stopped: CloudWatch may still be receiving its last lines
    arn: str = field(default="", init=False)

    def start(self) -> str:
        """RunTask; returns the task's ARN."""
        launch = self.launch
        request: dict[str, Any] = {
            "cluster": launch.cluster,
            "taskDefinition": launch.task_definition,
            "startedBy": self.started_by[:36],
            "overrides": {"containerOverrides": [{"name": self.container, "command": list(self.command)}]},
        }
        if launch.network:
            request["networkConfiguration"] = dict(launch.network)
        if launch.capacity:
            request["capacityProviderStrategy"] = [dict(item) for item in launch.capacity]
        elif launch.launch_type:
            request["launchType"] = launch.launch_type
        if launch.platform_version:
            request["platformVersion"] = launch.platform_version
        self.arn = str(self.aws.ecs_run_task(**request)["taskArn"])
        return self.arn

    def _describe(self) -> dict[str, Any]:
        found = self.aws.ecs_describe_tasks(self.launch.cluster, [self.arn])
        return found[0] if found else {}

    def _outcome(self, task: Mapping[str, Any], lines: deque[LogLine], *, timed_out: bool) -> Outcome:
        containers: list[dict[str, Any]] = task.get("containers") or []
        mine = next((c for c in containers if c.get("name") == self.container), {})
        code = mine.get("exitCode")
        return Outcome(
            task_id=task_id(self.arn),
            container=self.container,
            exit_code=code if isinstance(code, int) and not timed_out else None,
            stopped_reason=str(task.get("stoppedReason") or ""),
            stop_code=str(task.get("stopCode") or ""),
            container_reason=str(mine.get("reason") or ""),
            timed_out=timed_out,
            lines=tuple(lines),
        )

    def wait(self, timeout: timedelta, sink: LineSink | None = None) -> Outcome:
        """Until the task stops or `timeout` passes (then it is stopped); its lines go to `sink` as they
        arrive. The task definition says where they are; without awslogs, no lines are read."""
        if not self.arn:
            raise RuntimeError("start() the task first")
        definition = self.aws.ecs_task_definition(self.launch.task_definition)
        location = log_location(definition, self.container)
        follower = (
            LogFollower(self.aws, location.group, location.stream(task_id(self.arn))) if location else None
        )
        kept: deque[LogLine] = deque(maxlen=self.keep)

        def take(line: LogLine) -> None:
            kept.append(line)
            if sink is not None:
                sink(line)

        deadline = self.clock() + timeout.total_seconds()
        while True:
            task = self._describe()
            stopped = task.get("lastStatus") == "STOPPED"
            if follower is not None:
                follower.poll(take)
            if stopped:
                if follower is not None:
                    self.sleep(self.settle)
                    follower.poll(take)  # what CloudWatch received since
                return self._outcome(task, kept, timed_out=False)
            left = deadline - self.clock()
            if left <= 0:
                reason = f"prenv: did not finish within {int(timeout.total_seconds())}s"
                self.aws.ecs_stop_task(self.launch.cluster, self.arn, reason)
                return self._outcome({**task, "stoppedReason": reason}, kept, timed_out=True)
            self.sleep(min(self.interval, left))
