"""A preview's AWS parts planted in the emulator: through boto3 where AWS has an API, else in moto's model.

ECS writes some things itself and no API sets them: service events, container exit codes, when a task
started or stopped, the ECS Exec agent's state. Those are written into moto's in-process model (the
emulator runs in the test process), so that what prenv reads back over HTTP is what ECS would show.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # moto's default account


@dataclass
class Planted:
    cluster: str
    service: str
    region: str
    target_group_arn: str
    running: list[str] = field(default_factory=list)  # task ids
    stopped: list[str] = field(default_factory=list)
    db_address: str = ""


def _backend(region: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][region]


def _task_model(region: str, cluster: str, task_id: str) -> Any:
    tasks = _backend(region).tasks[cluster]
    return next(task for arn, task in tasks.items() if arn.endswith(task_id))


def plant_preview(
    boto: Callable[[str], Any],
    *,
    cluster: str,
    service: str,
    target_group: str,
    db_identifier: str = "",
    region: str = "us-east-1",
    running: int = 1,
    exec_enabled: bool = True,
) -> Planted:
    """A cluster, a task definition, a service behind a target group, `running` tasks, and a database."""
    ecs, ec2, elbv2 = boto("ecs"), boto("ec2"), boto("elbv2")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=service,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "example/app:1", "essential": True, "memory": 512}],
    )
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"][0]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group["GroupId"]]}}
    arn = elbv2.create_target_group(
        Name=target_group, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip", HealthCheckPath="/healthz"
    )["TargetGroups"][0]["TargetGroupArn"]
    # Created with no tasks, so the emulator's ECS (prenv/sandbox/moto_compat.py) starts none and
    # registers no target: the tasks and targets below are planted one by one.
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=service,
        desiredCount=0,
        launchType="FARGATE",
        networkConfiguration=network,
        loadBalancers=[{"targetGroupArn": arn, "containerName": "app", "containerPort": 8080}],
    )
    model = next(s for s in _backend(region).services.values() if s.name == service)
    model.enable_execute_command = exec_enabled
    model.desired_count = model.running_count = running
    planted = Planted(cluster=cluster, service=service, region=region, target_group_arn=arn)
    for index in range(running):
        started = ecs.run_task(
            cluster=cluster,
            taskDefinition=service,
            launchType="FARGATE",
            group=f"service:{service}",
            startedBy="ecs-svc/1234567890",
            networkConfiguration=network,
        )["tasks"][0]
        task_id = started["taskArn"].rsplit("/", 1)[-1]
        planted.running.append(task_id)
        task = _task_model(region, cluster, task_id)
        task.started_at = datetime.now(UTC) - timedelta(minutes=5 + index)
        task.containers[0].last_status = "RUNNING"
        task.containers[0].managed_agents = [{"name": "ExecuteCommandAgent", "lastStatus": "RUNNING"}]
    if db_identifier:
        planted.db_address = boto("rds").create_db_instance(
            DBInstanceIdentifier=db_identifier,
            Engine="postgres",
            EngineVersion="16.4",
            DBInstanceClass="db.t4g.micro",
            MasterUsername="app",
            ManageMasterUserPassword=True,
            AllocatedStorage=20,
        )["DBInstance"]["Endpoint"]["Address"]
    return planted


def plant_stopped_task(
    boto: Callable[[str], Any],
    planted: Planted,
    *,
    reason: str,
    stop_code: str,
    exit_code: int | None,
    container_reason: str = "",
    minutes_ago: int = 2,
) -> str:
    """A task of the service that ran and stopped (StopTask), with what ECS records about why."""
    ecs = boto("ecs")
    service = ecs.describe_services(cluster=planted.cluster, services=[planted.service])["services"][0]
    network = service["networkConfiguration"]
    arn = ecs.run_task(
        cluster=planted.cluster,
        taskDefinition=planted.service,
        launchType="FARGATE",
        group=f"service:{planted.service}",
        networkConfiguration=network,
    )["tasks"][0]["taskArn"]
    ecs.stop_task(cluster=planted.cluster, task=arn, reason=reason)
    task_id = arn.rsplit("/", 1)[-1]
    task = _task_model(planted.region, planted.cluster, task_id)
    task.started_at = datetime.now(UTC) - timedelta(minutes=minutes_ago + 1)
    task.stopped_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    task.stop_code = stop_code
    container = task.containers[0]
    container.last_status = "STOPPED"
    container.exitCode = exit_code
    container.reason = container_reason
    planted.stopped.append(task_id)
    return task_id


def plant_events(planted: Planted, messages: Sequence[tuple[int, str]]) -> None:
    """Service events: (minutes ago, message)."""
    model = next(s for s in _backend(planted.region).services.values() if s.name == planted.service)
    model.events = [
        {"id": f"event-{index}", "createdAt": datetime.now(UTC) - timedelta(minutes=ago), "message": message}
        for index, (ago, message) in enumerate(messages)
    ]


def plant_counts(planted: Planted, *, running: int, pending: int, rollout: str, reason: str) -> None:
    model = next(s for s in _backend(planted.region).services.values() if s.name == planted.service)
    model.running_count, model.pending_count = running, pending
    deployment = model.deployments[0]
    deployment.update(
        runningCount=running, pendingCount=pending, rolloutState=rollout, rolloutStateReason=reason
    )


def register_target(boto: Callable[[str], Any], planted: Planted, ip: str) -> None:
    boto("elbv2").register_targets(
        TargetGroupArn=planted.target_group_arn, Targets=[{"Id": ip, "Port": 8080}]
    )


def plant_logs(
    boto: Callable[[str], Any], group: str, stream: str, lines: Sequence[tuple[float, str]]
) -> None:
    """Log events: (minutes ago, message), into `group`/`stream` (created when missing)."""
    logs = boto("logs")
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    if not logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=stream)["logStreams"]:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now_ms = int(time.time() * 1000)
    events = sorted(
        ({"timestamp": now_ms - int(ago * 60_000), "message": text} for ago, text in lines),
        key=lambda e: e["timestamp"],
    )
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def outputs_root(directory: Path, outputs: dict[str, str]) -> Path:
    """A Terraform root with no resources whose outputs are `outputs`: the state `prenv status` reads."""
    directory.mkdir(parents=True, exist_ok=True)
    blocks = "".join(f'output "{name}" {{\n  value = "{value}"\n}}\n\n' for name, value in outputs.items())
    (directory / "main.tf").write_text(
        'terraform {\n  required_version = ">= 1.11"\n  backend "s3" {}\n}\n\n' + blocks, encoding="utf-8"
    )
    return directory


def keep_tasks_running() -> Iterator[None]:
    """moto moves a task towards STOPPED at every DescribeTasks; ECS does not. Hold them still."""
    from moto.moto_api import state_manager

    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    try:
        yield
    finally:
        state_manager.unset_transition("ecs::task")
