"""Resources tagged by prenv, listed with the Resource Groups Tagging API, and how to delete orphans.

Every resource of a preview carries `prenv:repository` and `prenv:workspace` (the roots' default_tags).
A resource whose workspace has no state object is an orphan (`prenv.core.cleanup.find_orphans`).
Orphans are reported with their ARNs; `prenv cleanup --delete-orphans` deletes the kinds below, the
others are listed for a human. (IAM roles and policies are not in the Tagging API: look for
`prenv-<hash>-*` roles by name.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prenv.aws.client import Aws
from prenv.core.cleanup import REPOSITORY_TAG, WORKSPACE_TAG


def tagged_resources(aws: Aws, repository: str, workspace: str = "") -> list[dict[str, Any]]:
    """Every resource tagged with this repository (and `workspace`, when given), in this region
    (paginated)."""
    filters = [{"Key": REPOSITORY_TAG, "Values": [repository]}]
    if workspace:
        filters.append({"Key": WORKSPACE_TAG, "Values": [workspace]})
    pages = aws.pages(
        "Resource Groups Tagging GetResources",
        "resourcegroupstaggingapi",
        "get_resources",
        TagFilters=filters,
    )
    return [item for page in pages for item in page.get("ResourceTagMappingList", [])]


def workspace_resources(aws: Aws, repository: str, workspace: str) -> list[str]:
    """The ARNs of the resources still tagged for `workspace` of this repository, in this region (what a
    destroy must leave none of, whatever its state says: a killed run can leave resources outside it)."""
    arns = [str(item["ResourceARN"]) for item in tagged_resources(aws, repository, workspace)]
    return sorted(arn for arn in arns if not gone(aws, arn))


def gone(aws: Aws, arn: str) -> bool:
    """True for resources AWS keeps listing, tags and all, after they were deleted: ECS services and
    task definitions stay visible as INACTIVE. They are not orphans (and cannot be deleted again)."""
    service, resource = _parts(arn)
    if service != "ecs":
        return False
    if resource.startswith("task-definition/"):
        described = aws.call(
            "ECS DescribeTaskDefinition", "ecs", "describe_task_definition", taskDefinition=arn
        )
        found = described["taskDefinition"]
        return str(found.get("status", "")).upper() != "ACTIVE"
    if resource.startswith("service/"):
        _, cluster, name = resource.split("/", 2)
        answer = aws.call(
            "ECS DescribeServices", "ecs", "describe_services", cluster=cluster, services=[name]
        )
        services = answer.get("services", [])
        return not services or str(services[0].get("status", "")).upper() == "INACTIVE"
    return False


def _parts(arn: str) -> tuple[str, str]:
    """(service, resource) of an ARN: `arn:aws:logs:r:a:log-group:/x` -> ("logs", "log-group:/x")."""
    pieces = arn.split(":", 5)
    return (pieces[2], pieces[5]) if len(pieces) == 6 else ("", "")


def _delete_log_group(aws: Aws, resource: str) -> None:
    name = resource.removeprefix("log-group:").removesuffix(":*")
    aws.call("CloudWatch Logs DeleteLogGroup", "logs", "delete_log_group", logGroupName=name)


def _delete_security_group(aws: Aws, resource: str) -> None:
    group = resource.removeprefix("security-group/")
    aws.call("EC2 DeleteSecurityGroup", "ec2", "delete_security_group", GroupId=group)


def _delete_parameter(aws: Aws, resource: str) -> None:
    name = "/" + resource.removeprefix("parameter/").lstrip("/")
    aws.call("SSM DeleteParameter", "ssm", "delete_parameter", Name=name)


def _delete_secret(aws: Aws, resource: str) -> None:
    aws.call(
        "Secrets Manager DeleteSecret",
        "secretsmanager",
        "delete_secret",
        SecretId=resource.removeprefix("secret:"),
        ForceDeleteWithoutRecovery=True,
    )


def _delete_bucket(aws: Aws, resource: str) -> None:
    # Refused by S3 while it holds objects: nothing is lost.
    aws.call("S3 DeleteBucket", "s3", "delete_bucket", Bucket=resource)


def _delete_db(aws: Aws, resource: str) -> None:
    aws.call(
        "RDS DeleteDBInstance",
        "rds",
        "delete_db_instance",
        DBInstanceIdentifier=resource.removeprefix("db:"),
        SkipFinalSnapshot=True,
        DeleteAutomatedBackups=True,
    )


def _delete_target_group(aws: Aws, arn: str) -> None:
    aws.call("ELB DeleteTargetGroup", "elbv2", "delete_target_group", TargetGroupArn=arn)


def _delete_listener_rule(aws: Aws, arn: str) -> None:
    aws.call("ELB DeleteRule", "elbv2", "delete_rule", RuleArn=arn)


def _delete_ecs_service(aws: Aws, resource: str) -> None:
    _, cluster, service = resource.split("/", 2)
    aws.call("ECS DeleteService", "ecs", "delete_service", cluster=cluster, service=service, force=True)


def _delete_task_definition(aws: Aws, resource: str) -> None:
    definition = resource.removeprefix("task-definition/")
    aws.call("ECS DeregisterTaskDefinition", "ecs", "deregister_task_definition", taskDefinition=definition)


Deleter = Callable[[Aws, str], None]
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


def deleter_for(arn: str) -> Callable[[Aws], None] | None:
    """How to delete the resource `arn`, or None for kinds prenv does not delete."""
    service, resource = _parts(arn)
    if service == "s3" and resource and "/" not in resource:
        return lambda aws: _delete_bucket(aws, resource)
    for (svc, prefix), delete in _BY_RESOURCE.items():
        if service == svc and resource.startswith(prefix):
            return lambda aws, d=delete: d(aws, resource)  # type: ignore[misc]
    for (svc, prefix), delete in _BY_ARN.items():
        if service == svc and resource.startswith(prefix):
            return lambda aws, d=delete: d(aws, arn)  # type: ignore[misc]
    return None
