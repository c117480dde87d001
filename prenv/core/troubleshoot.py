"""What `prenv status`, `logs` and `exec` know about a preview, as plain values (no AWS calls here).

`Location` says where the preview's parts are (from the Terraform outputs, else from prenv's names);
`Status` is the state of those parts, built from the AWS responses' plain dicts; `diagnose` turns a
status into hints (`prenv.core.diagnose`). Rendering is in `prenv.render.describe`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prenv.core.contract import APP_CONTAINER
from prenv.core.naming import Names
from prenv.core.sleep import SleepRecord

CONTAINER = APP_CONTAINER  # the app container's name in terraform/preview's task definition


@dataclass(frozen=True)
class Location:
    pr: int
    workspace: str
    region: str
    cluster: str  # "" when it must be found (no `ecs_cluster` output)
    service: str
    log_group: str
    url: str = ""
    db_identifier: str = ""
    target_group_arn: str = ""
    from_state: bool = True  # False: no Terraform state; names derived by prenv
    derived: tuple[str, ...] = ()  # the outputs that were missing, replaced by derived names


def _text(outputs: Mapping[str, Any], name: str) -> str:
    entry = outputs.get(name)
    if not isinstance(entry, Mapping) or entry.get("sensitive"):
        return ""
    value = entry.get("value")
    return value.strip() if isinstance(value, str) else ""


def locate(outputs: Mapping[str, Any] | None, names: Names, *, default_region: str) -> Location:
    """The preview's parts from `terraform output -json` (None: no workspace), else from `names`."""
    found = outputs or {}
    derived: list[str] = []

    def pick(output: str, fallback: str) -> str:
        value = _text(found, output)
        if not value and fallback:
            derived.append(output)
        return value or fallback

    service = pick("ecs_service", names.ecs_service)
    log_group = pick("log_group", names.log_group)
    endpoint = _text(found, "db_endpoint")
    db_identifier = _text(found, "db_identifier") or (endpoint.split(".")[0] if endpoint else "")
    if not db_identifier:
        derived.append("db_endpoint")
    return Location(
        pr=names.pr_number,
        workspace=names.workspace,
        region=_text(found, "region") or default_region,
        cluster=_text(found, "ecs_cluster"),
        service=service,
        log_group=log_group,
        url=_text(found, "url"),
        db_identifier=db_identifier or names.rds_identifier,
        target_group_arn=_text(found, "target_group_arn"),
        from_state=outputs is not None,
        derived=tuple(derived),
    )


# --- the state of the parts --------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: datetime | None
    message: str


@dataclass(frozen=True)
class EcsDeployment:
    id: str
    status: str  # PRIMARY (the newest) or ACTIVE (being replaced)
    rollout_state: str  # IN_PROGRESS, COMPLETED, FAILED
    rollout_reason: str
    task_definition: str
    desired: int
    running: int
    pending: int
    failed: int


@dataclass(frozen=True)
class Service:
    name: str
    status: str
    desired: int
    running: int
    pending: int
    task_definition: str
    exec_enabled: bool
    deployments: tuple[EcsDeployment, ...]
    events: tuple[Event, ...]

    @property
    def rollout_state(self) -> str:
        primary = next((d for d in self.deployments if d.status == "PRIMARY"), None)
        if primary is not None and primary.rollout_state:
            return primary.rollout_state
        steady = len(self.deployments) <= 1 and self.running == self.desired
        return "COMPLETED" if steady else "IN_PROGRESS"

    @property
    def rollout_reason(self) -> str:
        primary = next((d for d in self.deployments if d.status == "PRIMARY"), None)
        return primary.rollout_reason if primary is not None else ""


@dataclass(frozen=True)
class Container:
    name: str
    last_status: str
    exit_code: int | None
    reason: str
    health: str


@dataclass(frozen=True)
class Task:
    id: str
    last_status: str
    desired_status: str
    health: str
    task_definition: str
    started_at: datetime | None
    stopped_at: datetime | None
    stop_code: str
    stopped_reason: str
    containers: tuple[Container, ...]
    exec_agent: str  # the ECS Exec agent's status in the app container ("" when unknown)
    ip: str = ""  # the private IPv4 address of its network interface (awsvpc): its target's id


@dataclass(frozen=True)
class TargetHealth:
    id: str
    port: int | None
    state: str
    reason: str
    description: str


@dataclass(frozen=True)
class Database:
    identifier: str
    status: str
    engine: str
    version: str
    endpoint: str


@dataclass(frozen=True)
class Status:
    location: Location
    service: Service | None
    running: tuple[Task, ...] = ()
    stopped: tuple[Task, ...] = ()
    targets: tuple[TargetHealth, ...] | None = None  # None: no target group known
    database: Database | None = None
    hints: tuple[str, ...] = field(default=())
    asleep: SleepRecord | None = None  # put to sleep by cleanup (`cleanup.sleep_after`)


def _short(arn: str) -> str:
    """`arn:...:task/cluster/abc` -> `abc`; `arn:...:task-definition/app:3` -> `app:3`."""
    return arn.rsplit("/", 1)[-1] if arn else ""


def service(raw: Mapping[str, Any], *, events: int = 10) -> Service:
    deployments = tuple(
        EcsDeployment(
            id=str(d.get("id", "")),
            status=str(d.get("status", "")),
            rollout_state=str(d.get("rolloutState") or ""),
            rollout_reason=str(d.get("rolloutStateReason") or ""),
            task_definition=_short(str(d.get("taskDefinition") or "")),
            desired=int(d.get("desiredCount") or 0),
            running=int(d.get("runningCount") or 0),
            pending=int(d.get("pendingCount") or 0),
            failed=int(d.get("failedTasks") or 0),
        )
        for d in raw.get("deployments") or []
    )
    newest = sorted(raw.get("events") or [], key=lambda e: e.get("createdAt") or datetime.min, reverse=True)
    return Service(
        name=str(raw.get("serviceName", "")),
        status=str(raw.get("status", "")),
        desired=int(raw.get("desiredCount") or 0),
        running=int(raw.get("runningCount") or 0),
        pending=int(raw.get("pendingCount") or 0),
        task_definition=_short(str(raw.get("taskDefinition") or "")),
        exec_enabled=bool(raw.get("enableExecuteCommand")),
        deployments=deployments,
        events=tuple(Event(e.get("createdAt"), str(e.get("message", ""))) for e in newest[:events]),
    )


def task(raw: Mapping[str, Any]) -> Task:
    containers = tuple(
        Container(
            name=str(c.get("name", "")),
            last_status=str(c.get("lastStatus", "")),
            exit_code=c.get("exitCode") if isinstance(c.get("exitCode"), int) else None,
            reason=str(c.get("reason") or ""),
            health=str(c.get("healthStatus") or ""),
        )
        for c in raw.get("containers") or []
    )
    agents = [
        str(agent.get("lastStatus", ""))
        for c in raw.get("containers") or []
        if c.get("name") == CONTAINER
        for agent in c.get("managedAgents") or []
        if agent.get("name") == "ExecuteCommandAgent"
    ]
    addresses = [
        str(detail.get("value", ""))
        for attachment in raw.get("attachments") or []
        if attachment.get("type") == "ElasticNetworkInterface"
        for detail in attachment.get("details") or []
        if detail.get("name") == "privateIPv4Address"
    ]
    return Task(
        id=_short(str(raw.get("taskArn", ""))),
        last_status=str(raw.get("lastStatus", "")),
        desired_status=str(raw.get("desiredStatus", "")),
        health=str(raw.get("healthStatus") or ""),
        task_definition=_short(str(raw.get("taskDefinitionArn") or "")),
        started_at=raw.get("startedAt"),
        stopped_at=raw.get("stoppedAt"),
        stop_code=str(raw.get("stopCode") or ""),
        stopped_reason=str(raw.get("stoppedReason") or ""),
        containers=containers,
        exec_agent=agents[0] if agents else "",
        ip=addresses[0] if addresses else "",
    )


def newest_first(tasks: Sequence[Task], *, stopped: bool) -> tuple[Task, ...]:
    def when(t: Task) -> float:
        moment = t.stopped_at if stopped else t.started_at
        return moment.timestamp() if moment else 0.0

    return tuple(sorted(tasks, key=when, reverse=True))


def target_health(raw: Mapping[str, Any]) -> TargetHealth:
    health = raw.get("TargetHealth") or {}
    where = raw.get("Target") or {}
    port = where.get("Port")
    return TargetHealth(
        id=str(where.get("Id", "")),
        port=int(port) if isinstance(port, int | str) and str(port).isdigit() else None,
        state=str(health.get("State", "")),
        reason=str(health.get("Reason") or ""),
        description=str(health.get("Description") or ""),
    )


def database(raw: Mapping[str, Any]) -> Database:
    endpoint = raw.get("Endpoint") or {}
    address = str(endpoint.get("Address") or "")
    return Database(
        identifier=str(raw.get("DBInstanceIdentifier", "")),
        status=str(raw.get("DBInstanceStatus", "")),
        engine=str(raw.get("Engine", "")),
        version=str(raw.get("EngineVersion", "")),
        endpoint=f"{address}:{endpoint.get('Port')}" if address and endpoint.get("Port") else address,
    )


def running_task_for_exec(tasks: Sequence[Task]) -> Task | None:
    """The task to open a shell in: a RUNNING one, preferring a running ECS Exec agent, newest first."""
    running = [t for t in newest_first(tasks, stopped=False) if t.last_status == "RUNNING"]
    ready = [t for t in running if t.exec_agent == "RUNNING"]
    if ready:
        return ready[0]
    return running[0] if running else None


def exec_argv(location: Location, cluster: str, task_id: str, *, container: str, command: str) -> list[str]:
    """The `aws ecs execute-command` that opens `command` in the task's container."""
    return [
        "aws", "ecs", "execute-command",
        "--region", location.region,
        "--cluster", cluster,
        "--task", task_id,
        "--container", container,
        "--interactive",
        "--command", command,
    ]  # fmt: skip
