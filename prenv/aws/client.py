"""The AWS adapter: boto3 clients from the settings read at the entry, and every call prenv makes.

Thin on purpose: each method is one AWS call (or one paginated listing) and returns the response's plain
dicts; what they mean is decided in pure modules (`prenv.core`). Clients are injected (tests) or made
lazily from `AwsSettings`, which the entry (`prenv.commands.wiring`) reads from the environment prenv
was given: the credential chain, `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`, the SDK's retry
variables. boto3 loads only here, and only when a client is first needed.

Every call goes through `classified`: AWS's answers become `AwsError` (a PrenvError) with the AWS error
code (`aws-request-failed`), so callers can treat "not found" as an answer rather than a failure; no
credentials, no region or no connection is `aws-unavailable`. A request botocore refuses to send
(invalid parameters) is a bug in prenv and stays an unexpected error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from prenv import USER_AGENT
from prenv.core.errors import FailureReason, PrenvError

ClientFactory = Callable[[str], Any]  # service name ("ecs", "logs", ...) -> boto3 client

# The service part of AWS_ENDPOINT_URL_<SERVICE> (botocore's service ids, upper case, "_" for " ").
_ENDPOINT_NAMES = {
    "ecs": "ECS",
    "logs": "CLOUDWATCH_LOGS",
    "elbv2": "ELASTIC_LOAD_BALANCING_V2",
    "rds": "RDS",
    "rds-data": "RDS_DATA",
    "secretsmanager": "SECRETS_MANAGER",
    "s3": "S3",
    "resourcegroupstaggingapi": "RESOURCE_GROUPS_TAGGING_API",
}
_DENIED_HINT = "the credentials lack a read permission prenv needs (see docs/local.md, troubleshooting)"


@dataclass(frozen=True)
class AwsSettings:
    """How to reach AWS: what the SDK would read from the environment, read from prenv's own."""

    profile: str = ""  # AWS_PROFILE
    credentials: Mapping[str, str] = field(default_factory=dict)  # boto3 Session keyword -> value
    endpoint: str = ""  # AWS_ENDPOINT_URL
    endpoints: Mapping[str, str] = field(default_factory=dict)  # <SERVICE> -> AWS_ENDPOINT_URL_<SERVICE>
    max_attempts: int = 4  # AWS_MAX_ATTEMPTS
    retry_mode: str = "standard"  # AWS_RETRY_MODE
    region: str = ""  # AWS_REGION, else AWS_DEFAULT_REGION

    def endpoint_for(self, service: str) -> str:
        """The endpoint of `service` ('' for AWS's own)."""
        return self.endpoints.get(_ENDPOINT_NAMES.get(service, service.upper()), "") or self.endpoint

    @property
    def custom_s3_endpoint(self) -> bool:
        """S3 is an S3-compatible endpoint (an emulator, MinIO): path-style addressing by default."""
        return bool(self.endpoint_for("s3"))


class AwsError(PrenvError):
    """An AWS call failed; `code` is AWS's error code ("" when AWS could not be reached)."""

    def __init__(self, message: str, *, code: str = "", reason: FailureReason, hint: str = "") -> None:
        super().__init__(message, reason=reason, hint=hint)
        self.code = code


def make_client(settings: AwsSettings, region: str, service: str, **options: Any) -> Any:
    """A boto3 client for `region`, configured from `settings` (not from this process's environment).

    `options` are extra botocore `Config` settings, such as `s3={"addressing_style": "path"}`.
    """
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        region_name=region, profile_name=settings.profile or None, **settings.credentials
    )
    retries = {"max_attempts": settings.max_attempts, "mode": settings.retry_mode}
    # prenv's calls carry its name in the User-Agent, so CloudTrail (and the tests' recorder) tell them apart.
    options.setdefault("user_agent_extra", USER_AGENT)
    config = Config(retries=retries, connect_timeout=10, read_timeout=30, **options)
    return session.client(service, endpoint_url=settings.endpoint_for(service) or None, config=config)


def client_factory(settings: AwsSettings, region: str, **options: Any) -> ClientFactory:
    """Clients for `region`, configured from `settings` (and `options`, see `make_client`)."""
    return partial(make_client, settings, region, **options)


@contextmanager
def classified(what: str, *, hint: str = "") -> Iterator[None]:
    """AWS calls made inside fail as AwsError with one clear line (`what` names the call); `hint`
    replaces the default advice of a refused call."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
    )

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")) or str(exc)
        denied = "AccessDenied" in code or code in {"UnauthorizedOperation", "UnrecognizedClientException"}
        raise AwsError(
            f"AWS {what} failed: {code}: {message}",
            code=code,
            reason=FailureReason.AWS_REQUEST_FAILED,
            hint=hint or (_DENIED_HINT if denied else "check the region and the names above"),
        ) from None
    except (NoCredentialsError, NoRegionError) as exc:
        raise AwsError(
            f"AWS {what}: {exc}",
            reason=FailureReason.AWS_UNAVAILABLE,
            hint="configure AWS credentials and a region (AWS_PROFILE or AWS_ACCESS_KEY_ID..., AWS_REGION)",
        ) from None
    except ParamValidationError:
        raise  # a request prenv built wrong: a bug, reported as unexpected
    except BotoCoreError as exc:
        raise AwsError(
            f"cannot reach AWS for {what}: {exc}",
            reason=FailureReason.AWS_UNAVAILABLE,
            hint="check the network, AWS_REGION and AWS_ENDPOINT_URL",
        ) from None


def _call(what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    """One AWS call; failures become AwsError with one clear line."""
    with classified(what):
        return method(**kwargs)


class Aws:
    """The AWS calls prenv makes. `factory` makes clients; `clients` injects some."""

    def __init__(self, factory: ClientFactory | None = None, **clients: Any) -> None:
        self._factory = factory
        self._clients: dict[str, Any] = dict(clients)
        # Threads share the adapter (a deploy reads S3 beside terraform init): one client per service,
        # made once (a boto3 client takes tenths of a second to set up; made clients are thread-safe).
        self._making = threading.Lock()

    def client(self, service: str) -> Any:
        with self._making:
            if service not in self._clients:
                if self._factory is None:
                    raise RuntimeError(f"no {service} client was given and no factory to make one")
                self._clients[service] = self._factory(service)
            return self._clients[service]

    def call(self, what: str, service: str, operation: str, /, *, hint: str = "", **kwargs: Any) -> Any:
        """One call of `service` (`operation` as boto3 names it), classified."""
        with classified(what, hint=hint):
            return getattr(self.client(service), operation)(**kwargs)

    def pages(
        self, what: str, service: str, operation: str, /, *, hint: str = "", **kwargs: Any
    ) -> Iterator[Any]:
        """Every page of a paginated listing, classified (page requests are sent as they are read)."""
        with classified(what, hint=hint):
            yield from self.client(service).get_paginator(operation).paginate(**kwargs)

    # --- ECS -----------------------------------------------------------------------------------

    def ecs_service(self, cluster: str, service: str) -> dict[str, Any] | None:
        """The service as DescribeServices returns it, or None when the cluster has no such service."""
        ecs = self.client("ecs")
        try:
            reply = _call("ECS DescribeServices", ecs.describe_services, cluster=cluster, services=[service])
        except AwsError as exc:
            if exc.code == "ClusterNotFoundException":
                return None
            raise
        found: list[dict[str, Any]] = reply.get("services", [])
        return found[0] if found else None

    def ecs_clusters(self) -> list[str]:
        """The ARNs of every ECS cluster of the account and region."""
        ecs = self.client("ecs")
        arns: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"nextToken": token} if token else {}
            reply = _call("ECS ListClusters", ecs.list_clusters, **kwargs)
            arns += reply.get("clusterArns", [])
            token = reply.get("nextToken")
            if not token:
                return arns

    def ecs_tasks(self, cluster: str, service: str, desired_status: str) -> list[dict[str, Any]]:
        """The service's tasks with that desired status (RUNNING or STOPPED), described."""
        ecs = self.client("ecs")
        arns: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"nextToken": token} if token else {}
            reply = _call(
                "ECS ListTasks",
                ecs.list_tasks,
                cluster=cluster,
                serviceName=service,
                desiredStatus=desired_status,
                **kwargs,
            )
            arns += reply.get("taskArns", [])
            token = reply.get("nextToken")
            if not token:
                break
        tasks: list[dict[str, Any]] = []
        for start in range(0, len(arns), 100):
            reply = _call(
                "ECS DescribeTasks", ecs.describe_tasks, cluster=cluster, tasks=arns[start : start + 100]
            )
            tasks += reply.get("tasks", [])
        # A service's tasks are in the group "service:<name>" (also where ListTasks ignores serviceName).
        return [task for task in tasks if task.get("group") in (None, f"service:{service}")]

    def ecs_task_definition(self, task_definition: str) -> dict[str, Any]:
        """The task definition (family:revision or ARN) as DescribeTaskDefinition returns it."""
        reply = self.call(
            "ECS DescribeTaskDefinition", "ecs", "describe_task_definition", taskDefinition=task_definition
        )
        found: dict[str, Any] = reply.get("taskDefinition", {})
        return found

    def ecs_describe_tasks(self, cluster: str, arns: list[str]) -> list[dict[str, Any]]:
        """These tasks (at most 100), described."""
        reply = self.call("ECS DescribeTasks", "ecs", "describe_tasks", cluster=cluster, tasks=arns)
        found: list[dict[str, Any]] = reply.get("tasks", [])
        return found

    def ecs_run_task(self, **request: Any) -> dict[str, Any]:
        """RunTask of one task; a task ECS could not place is an error naming ECS's reason."""
        reply = self.call("ECS RunTask", "ecs", "run_task", count=1, **request)
        tasks: list[dict[str, Any]] = reply.get("tasks", [])
        if tasks:
            return tasks[0]
        failures = "; ".join(
            f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip()
            for f in reply.get("failures", [])
        )
        raise AwsError(
            f"ECS RunTask started no task: {failures or 'no reason given'}",
            code="RunTaskFailure",
            reason=FailureReason.RUN_FAILED,
            hint="check the cluster's capacity providers and the task's network (`prenv status` shows them)",
        )

    def ecs_stop_task(self, cluster: str, task: str, reason: str) -> None:
        self.call("ECS StopTask", "ecs", "stop_task", cluster=cluster, task=task, reason=reason[:255])

    # --- load balancing, RDS -------------------------------------------------------------------

    def target_health(self, target_group_arn: str) -> list[dict[str, Any]]:
        elbv2 = self.client("elbv2")
        reply = _call(
            "ELB DescribeTargetHealth", elbv2.describe_target_health, TargetGroupArn=target_group_arn
        )
        found: list[dict[str, Any]] = reply.get("TargetHealthDescriptions", [])
        return found

    def db_instance(self, identifier: str) -> dict[str, Any] | None:
        rds = self.client("rds")
        try:
            reply = _call(
                "RDS DescribeDBInstances", rds.describe_db_instances, DBInstanceIdentifier=identifier
            )
        except AwsError as exc:
            if exc.code == "DBInstanceNotFound":
                return None
            raise
        found: list[dict[str, Any]] = reply.get("DBInstances", [])
        return found[0] if found else None

    # --- CloudWatch Logs -----------------------------------------------------------------------

    def log_stream_page(
        self, group: str, stream: str, *, from_head: bool, token: str = "", limit: int = 0
    ) -> tuple[list[dict[str, Any]], str]:
        """One GetLogEvents page of one stream: its events (oldest first) and the token to read on
        from (the forward token from the head, else the backward one); the same token back means no more."""
        request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": from_head}
        if token:
            request["nextToken"] = token
        if limit:
            request["limit"] = limit
        reply = self.call("CloudWatch Logs GetLogEvents", "logs", "get_log_events", **request)
        events: list[dict[str, Any]] = reply.get("events", [])
        following = reply.get("nextForwardToken" if from_head else "nextBackwardToken") or ""
        return events, str(following)

    def log_events(self, group: str, *, start_ms: int, end_ms: int | None = None) -> Iterator[dict[str, Any]]:
        """The group's events from `start_ms` (milliseconds since the epoch), oldest first, all pages."""
        logs = self.client("logs")
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
            if end_ms is not None:
                kwargs["endTime"] = end_ms
            if token:
                kwargs["nextToken"] = token
            reply = _call("CloudWatch Logs FilterLogEvents", logs.filter_log_events, **kwargs)
            yield from reply.get("events", [])
            next_token = reply.get("nextToken")
            if not next_token or next_token == token:
                return
            token = next_token
