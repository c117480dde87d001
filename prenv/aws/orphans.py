"""Resources tagged by prenv whose workspace has no state: found with the Resource Groups Tagging API.

Every resource of a preview carries `prenv:repository` and `prenv:workspace` (the roots' default_tags).
A resource whose workspace has no state object is an orphan: a destroy that lost its state, a resource
created by hand with copied tags, or a run killed between create and state write. Orphans are reported
with their ARNs; `prenv cleanup --delete-orphans` deletes the kinds below, the others are listed for a
human. (IAM roles and policies are not in the Tagging API: look for `prenv-<hash>-*` roles by name.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prenv.aws.client import ClientFactory

REPOSITORY_TAG = "prenv:repository"
WORKSPACE_TAG = "prenv:workspace"


@dataclass(frozen=True)
class Orphan:
    arn: str
    workspace: str
    pr: str


def find(resources: Iterable[dict[str, Any]], *, live_workspaces: set[str]) -> list[Orphan]:
    """Pure: tagged resources (Tagging API mappings) whose `prenv:workspace` has no state."""
    orphans = []
    for item in resources:
        tags = {tag["Key"]: tag["Value"] for tag in item.get("Tags", [])}
        workspace = tags.get(WORKSPACE_TAG, "")
        if workspace and workspace not in live_workspaces:
            orphans.append(Orphan(arn=item["ResourceARN"], workspace=workspace, pr=tags.get("prenv:pr", "")))
    return sorted(orphans, key=lambda o: (o.workspace, o.arn))


def tagged_resources(clients: ClientFactory, repository: str) -> list[dict[str, Any]]:
    """Every resource tagged with this repository, in this region (paginated)."""
    pages = (
        clients("resourcegroupstaggingapi")
        .get_paginator("get_resources")
        .paginate(TagFilters=[{"Key": REPOSITORY_TAG, "Values": [repository]}])
    )
    return [item for page in pages for item in page.get("ResourceTagMappingList", [])]


def gone(clients: ClientFactory, arn: str) -> bool:
    """True for resources AWS keeps listing, tags and all, after they were deleted: ECS services and
    task definitions stay visible as INACTIVE. They are not orphans (and cannot be deleted again)."""
    service, resource = _parts(arn)
    if service != "ecs":
        return False
    if resource.startswith("task-definition/"):
        found = clients("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
        return str(found.get("status", "")).upper() != "ACTIVE"
    if resource.startswith("service/"):
        _, cluster, name = resource.split("/", 2)
        services = clients("ecs").describe_services(cluster=cluster, services=[name]).get("services", [])
        return not services or str(services[0].get("status", "")).upper() == "INACTIVE"
    return False


def _parts(arn: str) -> tuple[str, str]:
    """(service, resource) of an ARN: `arn:aws:logs:r:a:log-group:/x` -> ("logs", "log-group:/x")."""
    pieces = arn.split(":", 5)
    return (pieces[2], pieces[5]) if len(pieces) == 6 else ("", "")


def _delete_log_group(clients: ClientFactory, resource: str) -> None:
    clients("logs").delete_log_group(logGroupName=resource.removeprefix("log-group:").removesuffix(":*"))


def _delete_security_group(clients: ClientFactory, resource: str) -> None:
    clients("ec2").delete_security_group(GroupId=resource.removeprefix("security-group/"))


def _delete_parameter(clients: ClientFactory, resource: str) -> None:
    clients("ssm").delete_parameter(Name="/" + resource.removeprefix("parameter/").lstrip("/"))


def _delete_secret(clients: ClientFactory, resource: str) -> None:
    arn_suffix = resource.removeprefix("secret:")
    clients("secretsmanager").delete_secret(SecretId=arn_suffix, ForceDeleteWithoutRecovery=True)


def _delete_bucket(clients: ClientFactory, resource: str) -> None:
    clients("s3").delete_bucket(Bucket=resource)  # refused by S3 while it holds objects: nothing is lost


def _delete_db(clients: ClientFactory, resource: str) -> None:
    clients("rds").delete_db_instance(
        DBInstanceIdentifier=resource.removeprefix("db:"), SkipFinalSnapshot=True, DeleteAutomatedBackups=True
    )


def _delete_target_group(clients: ClientFactory, arn: str) -> None:
    clients("elbv2").delete_target_group(TargetGroupArn=arn)


def _delete_listener_rule(clients: ClientFactory, arn: str) -> None:
    clients("elbv2").delete_rule(RuleArn=arn)


def _delete_ecs_service(clients: ClientFactory, resource: str) -> None:
    _, cluster, service = resource.split("/", 2)
    clients("ecs").delete_service(cluster=cluster, service=service, force=True)


def _delete_task_definition(clients: ClientFactory, resource: str) -> None:
    clients("ecs").deregister_task_definition(taskDefinition=resource.removeprefix("task-definition/"))


Deleter = Callable[[ClientFactory, str], None]
# (service, resource prefix) -> deleter, given the resource part of the ARN (or the whole ARN for ELB).
_BY_RESOURCE: dict[tuple[str, str], Deleter] = {
    ("logs", "log-group:"): _delete_log_group,
    ("ec2", "security-group/"): _delete_security_group,
    ("ssm", "parameter/"): _delete_parameter,
    ("secretsmanager", "secret:"): _delete_secret,
    ("rds", "db:"): _delete_db,
    ("ecs", "service/"): _delete_ecs_service,
    ("ecs", "task-definition/"): _delete_task_definition,
}
_BY_ARN: dict[tuple[str, str], Deleter] = {
    ("elasticloadbalancing", "targetgroup/"): _delete_target_group,
    ("elasticloadbalancing", "listener-rule/"): _delete_listener_rule,
}


def deleter_for(arn: str) -> Callable[[ClientFactory], None] | None:
    """How to delete the resource `arn`, or None for kinds prenv does not delete."""
    service, resource = _parts(arn)
    if service == "s3" and resource and "/" not in resource:
        return lambda clients: _delete_bucket(clients, resource)
    for (svc, prefix), delete in _BY_RESOURCE.items():
        if service == svc and resource.startswith(prefix):
            return lambda clients, d=delete: d(clients, resource)  # type: ignore[misc]
    for (svc, prefix), delete in _BY_ARN.items():
        if service == svc and resource.startswith(prefix):
            return lambda clients, d=delete: d(clients, arn)  # type: ignore[misc]
    return None
