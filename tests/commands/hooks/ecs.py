"""A preview's ECS side in the emulator, as terraform/preview makes it, and what ECS does with it.

The service, its task definition (the app and its init steps, logging to CloudWatch like
terraform/preview's) and its target group are created through boto3. The emulator's ECS
(prenv/sandbox/moto_compat.py) then starts the service's task and registers its address in the target
group, as ECS does. What only ECS, the load balancer or the awslogs driver write (a task stopped with
exit codes and a reason, a target failing its health checks, a container's log lines, a one-off task
running its command) is planted into moto's in-process models here: the emulator runs in the test
process. Nothing in prenv is replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from prenv.core.naming import Names

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
Boto = Callable[[str], Any]


def _ecs() -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][REGION]


def _logs() -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[ACCOUNT][REGION]


def plant_log_lines(group: str, stream: str, lines: Sequence[str]) -> None:
    """What the awslogs driver sends: `lines` into `group`/`stream` (created when missing)."""
    backend = _logs()
    backend.ensure_log_stream(group, stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now - len(lines) + index, "message": line} for index, line in enumerate(lines)]
    if events:
        backend.put_log_events(group, stream, events)


@dataclass
class Preview:
    """A preview planted in the emulator: its names and where its parts are."""

    names: Names
    cluster: str
    service: str
    log_group: str
    target_group_arn: str
    task_definition: str
    url: str = "http://preview.invalid/"
    extra_outputs: dict[str, str] = field(default_factory=dict)

    def outputs(self) -> dict[str, str]:
        """The Terraform outputs terraform/preview would give this preview."""
        return {
            "url": self.url,
            "region": REGION,
            "ecs_cluster": self.cluster,
            "ecs_service": self.service,
            "log_group": self.log_group,
            "target_group_arn": self.target_group_arn,
            **self.extra_outputs,
        }

    # --- what ECS says about the service's tasks ----------------------------------------------

    def tasks(self, *, running: bool = True) -> list[Any]:
        group = f"service:{self.service}"
        return [
            task
            for task in _ecs().tasks.get(self.cluster, {}).values()
            if task.group == group and (task.desired_status == "RUNNING") == running
        ]

    def stop_task(
        self,
        *,
        reason: str,
        stop_code: str = "EssentialContainerExited",
        exits: dict[str, tuple[int | None, str]] | None = None,
        logs: dict[str, Sequence[str]] | None = None,
        started_ago: float = 60.0,
    ) -> str:
        """Stop the service's running task as ECS would: the reason, each container's exit code and
        reason (`exits`: name -> (code, reason)), its target deregistered, its containers' log lines."""
        (task,) = self.tasks()[:1]
        backend = _ecs()
        for group in _target_groups(self.target_group_arn):
            group.targets.clear()
        backend.stop_task(self.cluster, task.task_arn, reason)
        task.stop_code = stop_code
        task.started_at = datetime.fromtimestamp(time.time() - started_ago, tz=UTC)
        task.stopped_at = datetime.now(UTC)
        for container in task.containers:
            code, why = (exits or {}).get(container.name, (None, ""))
            container.last_status = "STOPPED"
            container.exitCode = code
            container.reason = why
        for container_name, lines in (logs or {}).items():
            plant_log_lines(self.log_group, f"app/{container_name}/{task.id}", lines)
        return str(task.id)

    def task_logs(self, container: str, lines: Sequence[str]) -> None:
        """Log lines of `container` in the service's running task."""
        (task,) = self.tasks()[:1]
        plant_log_lines(self.log_group, f"app/{container}/{task.id}", lines)

    def targets_fail(self, monkeypatch: pytest.MonkeyPatch, *, reason: str, description: str) -> None:
        """The target group's health checks fail for every target (the load balancer's verdict)."""
        from moto.elbv2.models import FakeHealthStatus

        for group in _target_groups(self.target_group_arn):

            def unhealthy(target: dict[str, Any], ec2: Any, group: Any = group) -> Any:
                port = group.targets.get(target["Id"], {}).get("Port", group.port)
                return FakeHealthStatus(
                    target["Id"], port, group.health_check_port, "unhealthy", reason, description
                )

            monkeypatch.setattr(group, "health_for", unhealthy)


def _target_groups(arn: str) -> list[Any]:
    from moto.elbv2.models import elbv2_backends

    found = elbv2_backends[ACCOUNT][REGION].target_groups.get(arn)
    return [found] if found is not None else []


def container(name: str, log_group: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
        "essential": name == "app",  # task-level memory only, as terraform/preview sets it
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group, "awslogs-region": REGION, "awslogs-stream-prefix": "app"},
        },
        **extra,
    }


def plant_preview(boto: Boto, names: Names, *, steps: Sequence[str] = (), desired: int = 1) -> Preview:
    """Cluster, log group, task definition (`steps` then the app), target group, and a service that the
    emulator's ECS then runs (`desired` tasks, their targets registered)."""
    ecs, ec2, elbv2 = boto("ecs"), boto("ec2"), boto("elbv2")
    cluster = f"prenv-{names.repository_hash}"
    ecs.create_cluster(clusterName=cluster)
    boto("logs").create_log_group(logGroupName=names.log_group)
    containers = [
        container(step, names.log_group, command=["python", "app.py", step])
        | ({"dependsOn": [{"containerName": steps[index - 1], "condition": "SUCCESS"}]} if index else {})
        for index, step in enumerate(steps)
    ]
    app_depends = (
        {"dependsOn": [{"containerName": s, "condition": "SUCCESS"} for s in steps]} if steps else {}
    )
    containers.append(
        container(
            "app", names.log_group, portMappings=[{"containerPort": 8080, "protocol": "tcp"}], **app_depends
        )
    )
    definition = ecs.register_task_definition(
        family=names.ecs_service,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=containers,
    )["taskDefinition"]["taskDefinitionArn"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"][0]
    target_group = elbv2.create_target_group(
        Name=names.target_group,
        Protocol="HTTP",
        Port=8080,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/healthz",
    )["TargetGroups"][0]["TargetGroupArn"]
    ecs.create_service(
        cluster=cluster,
        serviceName=names.ecs_service,
        taskDefinition=definition,
        desiredCount=desired,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group["GroupId"]],
                "assignPublicIp": "DISABLED",
            }
        },
        loadBalancers=[{"targetGroupArn": target_group, "containerName": "app", "containerPort": 8080}],
    )
    return Preview(
        names=names,
        cluster=cluster,
        service=names.ecs_service,
        log_group=names.log_group,
        target_group_arn=target_group,
        task_definition=definition,
    )


# --- one-off tasks: the part of ECS that runs the container's command -----------------------------


@dataclass
class Script:
    """What a one-off task's command does: its log lines (one more each time the task is described),
    then it exits with `exit_code`; `exit_code` None: it runs until stopped."""

    lines: Sequence[str] = ()
    exit_code: int | None = 0


@dataclass
class Started:
    task: Any  # moto's model
    script: Script
    described: int = 0


@dataclass
class EcsAgent:
    """Plays the ECS agent for one-off tasks (started by prenv, not by a service): each describe of
    such a task shows one more of its script's log lines, then the task stops with the script's exit
    code. `started` records each RunTask as ECS received it."""

    script: Script = field(default_factory=Script)
    started: list[Started] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run_task(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def run_task(backend: Any, *args: Any, **kwargs: Any) -> Any:
            tasks = original(backend, *args, **kwargs)
            for task in tasks:
                if task.started_by.startswith("prenv"):
                    with self._lock:
                        self.started.append(Started(task, self.script))
            return tasks

        return run_task

    def _describe_tasks(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def describe_tasks(backend: Any, *args: Any, **kwargs: Any) -> Any:
            tasks = original(backend, *args, **kwargs)
            with self._lock:
                for started in self.started:
                    if started.task in tasks and started.task.desired_status == "RUNNING":
                        self._advance(backend, started)
            return tasks

        return describe_tasks

    def _advance(self, backend: Any, started: Started) -> None:
        task, script = started.task, started.script
        definition = backend.describe_task_definition(task.task_definition_arn)
        overridden = task.overrides["containerOverrides"][0]["name"]
        spec = next(c for c in definition.container_definitions if c["name"] == overridden)
        options = spec["logConfiguration"]["options"]
        stream = f"{options['awslogs-stream-prefix']}/{overridden}/{task.id}"
        if started.described < len(script.lines):
            plant_log_lines(options["awslogs-group"], stream, [script.lines[started.described]])
        else:
            _logs().ensure_log_stream(options["awslogs-group"], stream)
        started.described += 1
        task.containers[0].name = overridden
        task.containers[0].last_status = "RUNNING"
        task.containers[0].exitCode = None
        if started.described > len(script.lines) and script.exit_code is not None:
            backend.stop_task(task.cluster_name, task.task_arn, "Essential container in task exited")
            task.stop_code = "EssentialContainerExited"
            task.containers[0].last_status = "STOPPED"
            task.containers[0].exitCode = script.exit_code


@pytest.fixture
def ecs_agent(monkeypatch: pytest.MonkeyPatch, moto_server: object) -> EcsAgent:
    from moto.ecs.models import EC2ContainerServiceBackend

    agent = EcsAgent()
    monkeypatch.setattr(
        EC2ContainerServiceBackend, "run_task", agent._run_task(EC2ContainerServiceBackend.run_task)
    )
    monkeypatch.setattr(
        EC2ContainerServiceBackend,
        "describe_tasks",
        agent._describe_tasks(EC2ContainerServiceBackend.describe_tasks),
    )
    return agent
