"""Hand-written cases evaluated next to the recorded calls.

- NEGATIVE: dangerous calls on resources that are not prenv's (or not this preview's); every one must be
  denied: to the bootstrap role by its identity policies, to a preview role by the permissions boundary
  (with an inline policy that allows everything: a pull request writes the preview roles' policies).
- WORKFLOW: the calls of .github/workflows/preview.yml's image step (aws ecr ..., docker push), which no
  test makes against the emulator; each must be allowed.
- UNRECORDED: calls of paths the full-stack tests do not take (a base with a domain: host rules on the
  shared listener; Terraform updating tags in place when the default tags change); each must be allowed.
- preview_role_requests(): what ECS does with a preview's roles (pull the image, write the logs, read
  the database secret; ECS Exec's channel), from a recorded RegisterTaskDefinition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.iam.policies import ACCOUNT, EXAMPLE_BUCKET, EXAMPLE_HASH, EXAMPLE_REPOSITORY, PARTITION, REGION
from tests.iam.recorder import Call
from tests.iam.simulator import Request
from tests.iam.table import Registry, request_tags, resource_tags

NAME = f"prenv-{EXAMPLE_HASH}"
ARN = f"{PARTITION}:%s:{REGION}:{ACCOUNT}"
ELB = f"arn:{ARN % 'elasticloadbalancing'}"
BASE_LISTENER = f"{ELB}:listener/app/{NAME}/50dc6c495c0c9188/f2f7dc8efc522ab2"
BASE_TAGS = {"prenv:repository": EXAMPLE_REPOSITORY, "prenv:component": "base", "prenv:managed-by": "prenv"}
PREVIEW_TAGS = {
    "prenv:repository": EXAMPLE_REPOSITORY,
    "prenv:pr": "101",
    "prenv:workspace": "pr-101",
    "prenv:managed-by": "prenv",
}
ROLE = f"arn:{PARTITION}:iam::{ACCOUNT}:role"
OTHER_DB = f"arn:{ARN % 'rds'}:db:orders-prod"
OTHER_DB_SECRET = f"arn:{ARN % 'secretsmanager'}:secret:rds!db-3f2a6c1e-7b4d-4e8a-9c1f-2d5e6a7b8c9d-Ab12Cd"
PR102_SECRET = f"arn:{ARN % 'secretsmanager'}:secret:rds!db-9a8b7c6d-1e2f-4a3b-8c9d-0e1f2a3b4c5d-Zy98Xw"
PR101_SECRET = f"arn:{ARN % 'secretsmanager'}:secret:rds!db-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-Qw12Er"
BOUNDARY = f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{NAME}-preview-boundary"


def _secret_of(db: str) -> dict[str, str | list[str]]:
    return dict(resource_tags({"aws:rds:primaryDBInstanceArn": db}))


@dataclass(frozen=True)
class Case:
    """A call that must be denied. `role`: "bootstrap" (the workflows' role) or "preview" (a preview
    role of PR 101: a permissive inline policy under the permissions boundary)."""

    what: str
    request: Request
    role: str = "bootstrap"
    principal_tags: Mapping[str, str] = field(default_factory=lambda: dict(PREVIEW_TAGS))


NEGATIVE: list[Case] = [
    # The grants the issue named: RDS-managed secrets of databases that are not prenv's
    Case(
        "delete another database's RDS-managed master secret",
        Request("secretsmanager:DeleteSecret", OTHER_DB_SECRET, _secret_of(OTHER_DB)),
    ),
    Case(
        "rotate another database's RDS-managed master secret",
        Request("secretsmanager:RotateSecret", OTHER_DB_SECRET, _secret_of(OTHER_DB)),
    ),
    Case(
        "overwrite another database's RDS-managed master secret",
        Request("secretsmanager:UpdateSecret", OTHER_DB_SECRET, _secret_of(OTHER_DB)),
    ),
    Case(
        "read another database's master password",
        Request("secretsmanager:GetSecretValue", OTHER_DB_SECRET, _secret_of(OTHER_DB)),
    ),
    Case(
        "a preview's task role reads another database's master password",
        Request("secretsmanager:GetSecretValue", OTHER_DB_SECRET, _secret_of(OTHER_DB)),
        role="preview",
    ),
    Case(
        "PR 101's roles read PR 102's database password",
        Request(
            "secretsmanager:GetSecretValue", PR102_SECRET, _secret_of(f"arn:{ARN % 'rds'}:db:{NAME}-pr102-db")
        ),
        role="preview",
    ),
    Case(
        "a preview role reads a secret that is not RDS's",
        Request("secretsmanager:GetSecretValue", f"arn:{ARN % 'secretsmanager'}:secret:prod/api-key-AbCdEf"),
        role="preview",
    ),
    Case(
        "a preview role reads a preview database secret of another region",
        Request(
            "secretsmanager:GetSecretValue",
            PR101_SECRET.replace(REGION, "eu-west-1"),
            _secret_of(f"arn:{PARTITION}:rds:eu-west-1:{ACCOUNT}:db:{NAME}-pr101-db"),
        ),
        role="preview",
    ),
    Case(
        "a preview role reads the Terraform state",
        Request("s3:GetObject", f"arn:{PARTITION}:s3:::{EXAMPLE_BUCKET}/prenv/pr-101/preview.tfstate"),
        role="preview",
    ),
    Case(
        "create a secret named like RDS's directly (not through RDS)",
        Request(
            "secretsmanager:CreateSecret",
            PR101_SECRET,
            request_tags({"aws:rds:primaryDBInstanceArn": f"arn:{ARN % 'rds'}:db:{NAME}-pr101-db"}),
        ),
    ),
    # database.mode shared: the shared server, its master secret, the pull requests' secrets
    Case(
        "run SQL through the Data API on a cluster that is not prenv's",
        Request("rds-data:ExecuteStatement", f"arn:{ARN % 'rds'}:cluster:orders-prod"),
    ),
    Case(
        "read another cluster's master password",
        Request(
            "secretsmanager:GetSecretValue",
            f"arn:{ARN % 'secretsmanager'}:secret:rds!cluster-3f2a6c1e-7b4d-4e8a-9c1f-2d5e6a7b8c9d-Ab12Cd",
            dict(resource_tags({"aws:rds:primaryDBClusterArn": f"arn:{ARN % 'rds'}:cluster:orders-prod"})),
        ),
    ),
    Case(
        "a preview role reads the shared server's master password",
        Request(
            "secretsmanager:GetSecretValue",
            f"arn:{ARN % 'secretsmanager'}:secret:rds!cluster-3f2a6c1e-7b4d-4e8a-9c1f-2d5e6a7b8c9d-Ab12Cd",
            dict(resource_tags({"aws:rds:primaryDBClusterArn": f"arn:{ARN % 'rds'}:cluster:{NAME}-shared"})),
        ),
        role="preview",
    ),
    Case(
        "PR 101's roles read PR 102's shared-database password",
        Request(
            "secretsmanager:GetSecretValue",
            f"arn:{ARN % 'secretsmanager'}:secret:prenv/{EXAMPLE_HASH}/pr102/database-Zy98Xw",
        ),
        role="preview",
    ),
    Case(
        "overwrite another repository's pull request database secret",
        Request(
            "secretsmanager:PutSecretValue",
            f"arn:{ARN % 'secretsmanager'}:secret:prenv/000000/pr101/database-AbCdEf",
        ),
    ),
    Case(
        "create a pull request database secret without the repository's tag",
        Request(
            "secretsmanager:CreateSecret",
            f"arn:{ARN % 'secretsmanager'}:secret:prenv/{EXAMPLE_HASH}/pr101/database-AbCdEf",
            request_tags({"prenv:repository": "someone/else"}),
        ),
    ),
    Case(
        "delete the shared database server",
        Request("rds:DeleteDBCluster", f"arn:{ARN % 'rds'}:cluster:{NAME}-shared"),
    ),
    # Databases
    Case("delete another team's RDS instance", Request("rds:DeleteDBInstance", OTHER_DB)),
    Case("modify another team's RDS instance", Request("rds:ModifyDBInstance", OTHER_DB)),
    # The base's shared listeners and load balancer
    Case(
        "delete the base's shared listener",
        Request(
            "elasticloadbalancing:DeleteListener",
            BASE_LISTENER,
            resource_tags(BASE_TAGS, "elasticloadbalancing"),
        ),
    ),
    Case(
        "modify the base's shared listener",
        Request(
            "elasticloadbalancing:ModifyListener",
            BASE_LISTENER,
            resource_tags(BASE_TAGS, "elasticloadbalancing"),
        ),
    ),
    Case(
        "delete another team's listener",
        Request(
            "elasticloadbalancing:DeleteListener",
            f"{ELB}:listener/app/orders/6d0ecf831eec9f09/4d0b11e0bf6a3e5f",
        ),
    ),
    Case(
        "delete the shared load balancer",
        Request("elasticloadbalancing:DeleteLoadBalancer", f"{ELB}:loadbalancer/app/{NAME}/50dc6c495c0c9188"),
    ),
    # Roles: trust policies, boundaries, other roles, users and keys
    Case(
        "rewrite a preview role's trust policy",
        Request("iam:UpdateAssumeRolePolicy", f"{ROLE}/{NAME}-pr101-task"),
    ),
    Case("put an inline policy on another team's role", Request("iam:PutRolePolicy", f"{ROLE}/deploy-admin")),
    Case(
        "create a role without the boundary",
        Request("iam:CreateRole", f"{ROLE}/{NAME}-pr101-exec", request_tags(PREVIEW_TAGS)),
    ),
    Case(
        "create PR 102's role tagged as PR 101's",
        Request(
            "iam:CreateRole",
            f"{ROLE}/{NAME}-pr102-exec",
            {**request_tags(PREVIEW_TAGS), "iam:PermissionsBoundary": BOUNDARY},
        ),
    ),
    Case(
        "retag a preview role as another PR's",
        Request("iam:TagRole", f"{ROLE}/{NAME}-pr101-exec", request_tags({"prenv:pr": "102"})),
    ),
    Case(
        "remove a preview role's PR tag",
        Request("iam:UntagRole", f"{ROLE}/{NAME}-pr101-exec", {"aws:TagKeys": ["prenv:pr"]}),
    ),
    Case(
        "remove a preview role's boundary",
        Request("iam:DeleteRolePermissionsBoundary", f"{ROLE}/{NAME}-pr101-exec"),
    ),
    Case(
        "attach AdministratorAccess to a preview role",
        Request(
            "iam:AttachRolePolicy",
            f"{ROLE}/{NAME}-pr101-task",
            {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ),
    ),
    Case("change the permissions boundary itself", Request("iam:CreatePolicyVersion", BOUNDARY)),
    Case(
        "pass a role without the boundary to ECS",
        Request("iam:PassRole", f"{ROLE}/admin", {"iam:PassedToService": "ecs-tasks.amazonaws.com"}),
    ),
    Case(
        "pass a preview role to EC2",
        Request("iam:PassRole", f"{ROLE}/{NAME}-pr101-task", {"iam:PassedToService": "ec2.amazonaws.com"}),
    ),
    Case("create an IAM user", Request("iam:CreateUser", f"arn:{PARTITION}:iam::{ACCOUNT}:user/{NAME}-ci")),
    Case(
        "create an access key", Request("iam:CreateAccessKey", f"arn:{PARTITION}:iam::{ACCOUNT}:user/deploy")
    ),
    # State
    Case(
        "overwrite the base's state key",
        Request("s3:PutObject", f"arn:{PARTITION}:s3:::{EXAMPLE_BUCKET}/base.tfstate"),
    ),
    Case(
        "read another team's state",
        Request("s3:GetObject", f"arn:{PARTITION}:s3:::orders-tfstate/prod/terraform.tfstate"),
    ),
    Case(
        "delete the default workspace's state",
        Request("s3:DeleteObject", f"arn:{PARTITION}:s3:::{EXAMPLE_BUCKET}/preview.tfstate"),
    ),
    Case(
        "replace the state bucket's policy",
        Request("s3:PutBucketPolicy", f"arn:{PARTITION}:s3:::{EXAMPLE_BUCKET}"),
    ),
    # Images, services, networks, logs
    Case(
        "push to another ECR repository", Request("ecr:PutImage", f"arn:{ARN % 'ecr'}:repository/orders-api")
    ),
    Case(
        "delete images of the app repository",
        Request("ecr:BatchDeleteImage", f"arn:{ARN % 'ecr'}:repository/{NAME}"),
    ),
    Case(
        "register a task definition of another family",
        Request("ecs:RegisterTaskDefinition", f"arn:{ARN % 'ecs'}:task-definition/orders-api:7"),
    ),
    Case(
        "run a task of another family in the shared cluster",
        Request(
            "ecs:RunTask",
            f"arn:{ARN % 'ecs'}:task-definition/orders-api:7",
            {"ecs:cluster": f"arn:{ARN % 'ecs'}:cluster/{NAME}"},
        ),
    ),
    Case(
        "run a preview's task in another cluster",
        Request(
            "ecs:RunTask",
            f"arn:{ARN % 'ecs'}:task-definition/{NAME}-pr101-app:1",
            {"ecs:cluster": f"arn:{ARN % 'ecs'}:cluster/orders"},
        ),
    ),
    Case(
        "stop another cluster's task",
        Request(
            "ecs:StopTask",
            f"arn:{ARN % 'ecs'}:task/orders/0123456789abcdef0123456789abcdef",
            {"ecs:cluster": f"arn:{ARN % 'ecs'}:cluster/orders"},
        ),
    ),
    Case(
        "delete another cluster's service",
        Request(
            "ecs:DeleteService",
            f"arn:{ARN % 'ecs'}:service/orders/orders-api",
            {"ecs:cluster": f"arn:{ARN % 'ecs'}:cluster/orders"},
        ),
    ),
    Case(
        "open the base's ALB security group",
        Request(
            "ec2:AuthorizeSecurityGroupIngress",
            f"arn:{ARN % 'ec2'}:security-group/sg-0a1b2c3d4e5f60718",
            resource_tags(BASE_TAGS, "ec2"),
        ),
    ),
    Case(
        "open another team's security group",
        Request(
            "ec2:AuthorizeSecurityGroupIngress",
            f"arn:{ARN % 'ec2'}:security-group/sg-0badc0ffee0ddf00d",
            resource_tags({"team": "orders"}, "ec2"),
        ),
    ),
    Case(
        "delete the base's VPC flow log group",
        Request("logs:DeleteLogGroup", f"arn:{ARN % 'logs'}:log-group:/prenv/{EXAMPLE_HASH}/vpc-flow"),
    ),
    Case(
        "decrypt with a KMS key directly",
        Request("kms:Decrypt", f"arn:{ARN % 'kms'}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ),
]


def _call(operation: str, **params: str) -> Call:
    return Call(service="ecr", operation=operation, params=dict(params), region=REGION, actor="workflow")


def _tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


# .github/workflows/preview.yml, step "image": `aws ecr describe-images`, `aws ecr get-login-password`,
# `docker push` (layer upload, then the manifest); ECS later pulls with the execution role.
WORKFLOW: list[Call] = [
    _call("DescribeImages", repositoryName=NAME),
    _call("GetAuthorizationToken"),
    _call("BatchCheckLayerAvailability", repositoryName=NAME),
    _call("InitiateLayerUpload", repositoryName=NAME),
    _call("UploadLayerPart", repositoryName=NAME),
    _call("CompleteLayerUpload", repositoryName=NAME),
    _call("PutImage", repositoryName=NAME),
    _call("BatchGetImage", repositoryName=NAME),
    _call("GetDownloadUrlForLayer", repositoryName=NAME),
]


PREVIEW_RULE = f"{ELB}:listener-rule/app/{NAME}/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
PREVIEW_LISTENER = f"{ELB}:listener/app/{NAME}/50dc6c495c0c9188/0467ef3c8400ae65"
PREVIEW_EXEC_ROLE = f"{NAME}-pr101-exec"

UNRECORDED: list[Call] = [
    # With a domain, terraform/preview adds a host rule to the base's listener (aws_lb_listener_rule.host).
    Call(
        service="elbv2",
        operation="CreateRule",
        params={"ListenerArn": BASE_LISTENER, "Priority": 101, "Tags": _tags(PREVIEW_TAGS)},
        region=REGION,
        actor="provider",
        status=200,
        response={"Rules": [{"RuleArn": PREVIEW_RULE}]},
    ),
    Call(
        service="elbv2",
        operation="DeleteRule",
        params={"RuleArn": PREVIEW_RULE},
        region=REGION,
        actor="provider",
    ),
    # Default tags changed (a new prenv version): Terraform retags what exists, never prenv:pr.
    Call(
        service="elbv2",
        operation="CreateListener",
        params={
            "LoadBalancerArn": f"{ELB}:loadbalancer/app/{NAME}/50dc6c495c0c9188",
            "Tags": _tags(PREVIEW_TAGS),
        },
        region=REGION,
        actor="provider",
        status=200,
        response={"Listeners": [{"ListenerArn": PREVIEW_LISTENER}]},
    ),
    Call(
        service="elbv2",
        operation="AddTags",
        params={"ResourceArns": [PREVIEW_LISTENER], "Tags": _tags({"prenv:managed-by": "prenv"})},
        region=REGION,
        actor="provider",
    ),
    Call(
        service="iam",
        operation="TagRole",
        params={"RoleName": PREVIEW_EXEC_ROLE, "Tags": _tags({"prenv:managed-by": "prenv"})},
        region=REGION,
        actor="provider",
    ),
    Call(
        service="iam",
        operation="UntagRole",
        params={"RoleName": PREVIEW_EXEC_ROLE, "TagKeys": ["prenv:old-tag"]},
        region=REGION,
        actor="provider",
    ),
]


def preview_role_requests(call: Call, reg: Registry) -> list[tuple[str, Request]]:
    """(role ARN, request) for what ECS does with a registered task definition's roles:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html and
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-required-iam-permissions"""
    params, region = call.params, call.region
    found: list[tuple[str, Request]] = []
    execution, task = params.get("executionRoleArn"), params.get("taskRoleArn")
    for container in params.get("containerDefinitions", []):
        if execution:
            image = container.get("image", "")
            if ".dkr.ecr." in image:
                repository = image.split("/", 1)[1].split(":", 1)[0].split("@", 1)[0]
                found.append((execution, Request("ecr:GetAuthorizationToken", "*")))
                for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
                    found.append(
                        (
                            execution,
                            Request(
                                action, f"arn:{PARTITION}:ecr:{region}:{ACCOUNT}:repository/{repository}"
                            ),
                        )
                    )
            options = (container.get("logConfiguration") or {}).get("options", {})
            if options.get("awslogs-group"):
                group = f"arn:{PARTITION}:logs:{region}:{ACCOUNT}:log-group:{options['awslogs-group']}"
                stream = f"{group}:log-stream:app/app/0"
                found += [
                    (execution, Request(a, stream)) for a in ("logs:CreateLogStream", "logs:PutLogEvents")
                ]
            for secret in container.get("secrets", []):
                arn = ":".join(secret["valueFrom"].split(":")[:7])
                db = reg.secrets.get(arn, "")
                context = _secret_of(db) if db else {}
                found.append(
                    (
                        execution,
                        Request("secretsmanager:GetSecretValue", arn, context, why="ECS reads the secret"),
                    )
                )
    if task:
        for action in (
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ):
            found.append((task, Request(action, "*", why="ECS Exec")))
    return found
