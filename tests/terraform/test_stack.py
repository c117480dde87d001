"""The whole stack against moto with the real provider: base once, two PRs' previews through prenv.

One module-scoped run (a few minutes, mostly the provider's own waits): apply terraform/base the way
`prenv sandbox` does (default workspace, only `repository`), then `prenv deploy` two PRs at once,
check what AWS (moto) holds with boto3, redeploy (the plan must be empty), and destroy both at once.

moto quirks handled explicitly, not hidden in the roots:
- prenv/sandbox/moto_compat.py gives each RDS instance its own resource id (moto 5.2 reuses one), and
  makes moto keep the ECS service settings and rule descriptions it drops; without them the redeploy
  below would plan changes (a replacement of the ECS service).
- moto keeps a deleted ECS service as INACTIVE, and deregistered task definitions as INACTIVE, both
  still tagged (as AWS does for task definitions); the leftovers check accepts exactly those.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from prenv.core import contract
from prenv.core.naming import Names, names_for
from tests.helpers import CliResult, run_cli, write_config
from tests.roots_support.tf import copy_root, init_s3, terraform
from tests.terraform.conftest import Client, unique_repository

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

PRS = (101, 102)
SHA = "89abcdef0123456789abcdef0123456789abcdef"
TAGS = ("prenv:repository", "prenv:pr", "prenv:workspace", "prenv:managed-by")


@dataclass
class Stack:
    repository: str
    work: Path
    env: dict[str, str]
    bucket: str
    base: dict[str, Any]
    deployed: dict[int, CliResult] = field(default_factory=dict)

    def names(self, pr: int) -> Names:
        return names_for(pr, self.repository)

    def cli(self, *argv: str) -> CliResult:
        return run_cli(list(argv), env=self.env, cwd=self.work)

    def outputs(self, pr: int) -> dict[str, Any]:
        """`terraform output` of PR `pr`'s workspace, in the data directory prenv's engine uses (which
        selects no workspace: prenv names it with TF_WORKSPACE)."""
        root = self.work / "terraform" / "preview"
        data_dir = root / ".terraform" / "prenv" / f"pr-{pr}"
        env = {**self.env, "TF_DATA_DIR": str(data_dir), "TF_WORKSPACE": self.names(pr).workspace}
        document = json.loads(terraform(["output", "-json"], root, env).stdout)
        return {name: entry["value"] for name, entry in document.items()}


def _both(action: Callable[[int], CliResult]) -> dict[int, CliResult]:
    with ThreadPoolExecutor(max_workers=len(PRS)) as pool:
        return dict(zip(PRS, pool.map(action, PRS), strict=True))


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], new_bucket: Callable[[], str]
) -> Stack:
    repository = unique_repository("stack")
    bucket = new_bucket()
    work = tmp_path_factory.mktemp("stack")
    (work / "terraform").mkdir()
    base_root = copy_root("base", work / "terraform")
    copy_root("preview", work / "terraform")

    # The base as `prenv sandbox` applies it: default workspace, `repository` as the only variable.
    init_s3(base_root, tf_env, bucket, key="base.tfstate")
    (work / "base.tfvars.json").write_text(json.dumps({"repository": repository}), encoding="utf-8")
    terraform(
        ["apply", "-no-color", "-input=false", "-auto-approve", f"-var-file={work / 'base.tfvars.json'}"],
        base_root,
        tf_env,
    )
    base = {
        k: v["value"] for k, v in json.loads(terraform(["output", "-json"], base_root, tf_env).stdout).items()
    }

    write_config(
        work,
        {
            "backend": {"bucket": bucket, "region": tf_env["AWS_REGION"]},
            "terraform": {"root": "terraform/preview", "lock_timeout": "60s"},
            "repository": repository,
        },
    )
    found = Stack(repository=repository, work=work, env=tf_env, bucket=bucket, base=base)
    found.deployed = _both(lambda pr: found.cli("deploy", "--pr", str(pr), "--sha", SHA))
    return found


def test_both_previews_deploy_at_once(stack: Stack) -> None:
    for pr, result in stack.deployed.items():
        assert result.exit_code == 0, result.stderr
        url = f"http://{stack.base['alb_dns_name']}:{10000 + pr}/"
        assert f"Preview URL: {url}" in result.stdout
        assert stack.outputs(pr)["url"] == url
        # Ready from AWS: the emulator's ECS ran the task and registered it (prenv/sandbox/moto_compat.py).
        family = stack.names(pr).ecs_service
        assert f"Ready: 1 task of {family}:1 running, 1 healthy target\n" in result.stdout


def test_outputs_are_the_contract(stack: Stack, session_boto: Client) -> None:
    for pr in PRS:
        names, outputs = stack.names(pr), stack.outputs(pr)
        assert outputs["ecs_cluster"] == stack.base["ecs_cluster_name"]
        assert outputs["ecs_service"] == names.ecs_service
        assert outputs["log_group"] == names.log_group
        assert outputs["region"] == stack.env["AWS_REGION"]
        assert outputs["db_identifier"] == names.rds_identifier
        assert outputs["db_endpoint"].startswith(names.rds_identifier + ".")
        db = session_boto("rds").describe_db_instances(DBInstanceIdentifier=names.rds_identifier)[
            "DBInstances"
        ][0]
        assert outputs["db_secret_arn"] == db["MasterUserSecret"]["SecretArn"]
        assert outputs["db_secret_arn"].startswith("arn:aws:secretsmanager:")


def test_previews_do_not_collide(stack: Stack, session_boto: Client) -> None:
    elbv2 = session_boto("elbv2")
    listeners = elbv2.describe_listeners(LoadBalancerArn=stack.base["alb_arn"])["Listeners"]
    ports = sorted(listener["Port"] for listener in listeners)
    assert ports == [80, *(10000 + pr for pr in PRS)]
    groups = {
        g["TargetGroupName"]: g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]
    }
    for pr in PRS:
        (listener,) = [entry for entry in listeners if entry["Port"] == 10000 + pr]
        forwarded = listener["DefaultActions"][0]["TargetGroupArn"]
        assert forwarded == groups[stack.names(pr).target_group]
    identifiers = {
        d["DBInstanceIdentifier"] for d in session_boto("rds").describe_db_instances()["DBInstances"]
    }
    assert {stack.names(pr).rds_identifier for pr in PRS} <= identifiers
    resource_ids = {
        session_boto("rds").describe_db_instances(DBInstanceIdentifier=stack.names(pr).rds_identifier)[
            "DBInstances"
        ][0]["DbiResourceId"]
        for pr in PRS
    }
    assert len(resource_ids) == len(PRS)


def test_ecs_service_runs_with_exec_and_circuit_breaker(stack: Stack, session_boto: Client) -> None:
    ecs = session_boto("ecs")
    for pr in PRS:
        names = stack.names(pr)
        (service,) = ecs.describe_services(
            cluster=stack.base["ecs_cluster_name"], services=[names.ecs_service]
        )["services"]
        assert service["desiredCount"] == 1
        assert service["enableExecuteCommand"] is True
        breaker = service["deploymentConfiguration"]["deploymentCircuitBreaker"]
        assert breaker == {"enable": True, "rollback": True}
        assert service["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
        network = service["networkConfiguration"]["awsvpcConfiguration"]
        assert network["assignPublicIp"] == "DISABLED"
        assert sorted(network["subnets"]) == sorted(stack.base["private_subnet_ids"])


def test_task_definition_gets_the_password_only_by_reference(stack: Stack, session_boto: Client) -> None:
    ecs, secrets = session_boto("ecs"), session_boto("secretsmanager")
    for pr in PRS:
        names, outputs = stack.names(pr), stack.outputs(pr)
        (service,) = ecs.describe_services(cluster=outputs["ecs_cluster"], services=[names.ecs_service])[
            "services"
        ]
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        (container,) = task["containerDefinitions"]
        secret_arn = outputs["db_secret_arn"]
        assert container["secrets"] == [{"name": "PGPASSWORD", "valueFrom": f"{secret_arn}:password::"}]
        environment = {entry["name"]: entry["value"] for entry in container["environment"]}
        assert not [name for name in environment if "PASSWORD" in name.upper()]
        plain = set(contract.DATABASE_VARIABLE_NAMES) - set(contract.SECRET_VARIABLE_NAMES)
        assert set(environment) & set(contract.DATABASE_VARIABLE_NAMES) == plain
        assert environment["PGHOST"] == outputs["db_endpoint"]
        assert environment["DATABASE_URL"] == contract.database_url(
            user="app", host=outputs["db_endpoint"], port=5432, database="app"
        )
        assert environment["PRENV_HEAD_SHA"] == SHA
        password = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])["password"]
        assert password
        assert password not in json.dumps(task)
        assert container["readonlyRootFilesystem"] is True
        assert container["user"] == contract.USER
        assert container["logConfiguration"]["options"]["awslogs-group"] == names.log_group
        assert task["executionRoleArn"].endswith(f"/{names.execution_role}")
        assert task["taskRoleArn"].endswith(f"/{names.task_role}")


def test_execution_role_may_read_only_its_own_secret(stack: Stack, session_boto: Client) -> None:
    iam = session_boto("iam")
    for pr in PRS:
        names, outputs = stack.names(pr), stack.outputs(pr)
        document = iam.get_role_policy(RoleName=names.execution_role, PolicyName="execution")[
            "PolicyDocument"
        ]
        reads = [
            s for s in document["Statement"] if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])
        ]
        assert reads == [
            {
                "Sid": "ReadThisDatabaseSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": outputs["db_secret_arn"],
            }
        ]
        role = iam.get_role(RoleName=names.execution_role)["Role"]
        assert (
            role["PermissionsBoundary"]["PermissionsBoundaryArn"]
            == stack.base["preview_permissions_boundary_arn"]
        )


def test_database_is_encrypted_private_and_reachable_only_from_the_service(
    stack: Stack, session_boto: Client
) -> None:
    rds, ec2 = session_boto("rds"), session_boto("ec2")
    for pr in PRS:
        names = stack.names(pr)
        (db,) = rds.describe_db_instances(DBInstanceIdentifier=names.rds_identifier)["DBInstances"]
        assert db["StorageEncrypted"] is True
        assert db["PubliclyAccessible"] is False
        assert db["DeletionProtection"] is False
        assert (db["Engine"], db["EngineVersion"].split(".")[0]) == ("postgres", "16")
        assert db["MasterUserSecret"]["SecretStatus"] == "active"
        assert db["DBSubnetGroup"]["DBSubnetGroupName"] == stack.base["db_subnet_group_name"]
        (group_id,) = [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]]
        (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
        assert group["GroupName"] == names.db_security_group
        (rule,) = group["IpPermissions"]
        service_group = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [names.service_security_group]}]
        )["SecurityGroups"][0]["GroupId"]
        assert (rule["FromPort"], rule["ToPort"], rule["IpRanges"]) == (5432, 5432, [])
        assert [pair["GroupId"] for pair in rule["UserIdGroupPairs"]] == [service_group]


def test_every_resource_of_a_preview_is_tagged(stack: Stack, session_boto: Client) -> None:
    tagging = session_boto("resourcegroupstaggingapi")
    for pr in PRS:
        mapping = tagging.get_resources(TagFilters=[{"Key": "prenv:pr", "Values": [str(pr)]}])[
            "ResourceTagMappingList"
        ]
        services = {arn.split(":")[2] for arn in (m["ResourceARN"] for m in mapping)}
        assert {"ecs", "rds", "elasticloadbalancing", "logs"} <= services
        for entry in mapping:
            tags = {t["Key"]: t["Value"] for t in entry["Tags"]}
            assert [tags.get(k) for k in TAGS] == [stack.repository, str(pr), f"pr-{pr}", "prenv"], entry
    names = stack.names(PRS[0])
    (db,) = session_boto("rds").describe_db_instances(DBInstanceIdentifier=names.rds_identifier)[
        "DBInstances"
    ]
    assert {t["Key"]: t["Value"] for t in db["TagList"]}["prenv:workspace"] == f"pr-{PRS[0]}"
    role_tags = session_boto("iam").list_role_tags(RoleName=names.task_role)["Tags"]
    assert {t["Key"]: t["Value"] for t in role_tags}["prenv:pr"] == str(PRS[0])


def test_redeploy_plans_no_changes(stack: Stack) -> None:
    again = _both(lambda pr: stack.cli("deploy", "--pr", str(pr), "--sha", SHA))
    for result in again.values():
        assert result.exit_code == 0, result.stderr
        assert "No changes: nothing was applied." in result.stdout
        # Issue 17: its own $0.77/day (tests/core/test_cost.py) + the running base's $1.98/day (its ALB
        # in 2 zones, its NAT gateway and that gateway's address, as found in AWS) / 2 live previews.
        assert "Cost: about $1.76/day while running ($0.77/day own + $0.99/day share of the base)" in (
            result.stdout
        )


def test_destroy_both_leaves_nothing_of_theirs(stack: Stack, session_boto: Client) -> None:
    secret_arns = {pr: stack.outputs(pr)["db_secret_arn"] for pr in PRS}
    gone = _both(lambda pr: stack.cli("destroy", "--pr", str(pr)))
    for pr, result in gone.items():
        assert result.exit_code == 0, result.stderr
        assert f"workspace pr-{pr} deleted." in result.stdout

    tagging, ecs = session_boto("resourcegroupstaggingapi"), session_boto("ecs")
    for pr in PRS:
        names = stack.names(pr)
        left = tagging.get_resources(TagFilters=[{"Key": "prenv:pr", "Values": [str(pr)]}])[
            "ResourceTagMappingList"
        ]
        for arn in (entry["ResourceARN"] for entry in left):
            # moto quirk (see the module docstring): deleted services and task definitions stay INACTIVE.
            if ":service/" in arn:
                (service,) = ecs.describe_services(cluster=stack.base["ecs_cluster_name"], services=[arn])[
                    "services"
                ]
                assert service["status"] == "INACTIVE", arn
            elif ":task-definition/" in arn:
                assert (
                    ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == "INACTIVE"
                )
            else:
                pytest.fail(f"left after destroy: {arn}")
        assert (
            session_boto("rds").describe_db_instances(
                Filters=[{"Name": "db-instance-id", "Values": [names.rds_identifier]}]
            )["DBInstances"]
            == []
        )
        assert session_boto("logs").describe_log_groups(logGroupNamePrefix=names.log_group)["logGroups"] == []
        roles = {r["RoleName"] for r in session_boto("iam").list_roles()["Roles"]}
        assert not {names.execution_role, names.task_role} & roles
        groups = session_boto("ec2").describe_security_groups(
            Filters=[
                {"Name": "group-name", "Values": [names.service_security_group, names.db_security_group]}
            ]
        )["SecurityGroups"]
        assert groups == []
    arns = {
        s["ARN"]
        for s in session_boto("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
    }
    assert not set(secret_arns.values()) & arns
    listeners = session_boto("elbv2").describe_listeners(LoadBalancerArn=stack.base["alb_arn"])["Listeners"]
    assert [listener["Port"] for listener in listeners] == [80]
    for pr in PRS:
        state = session_boto("s3").list_objects_v2(Bucket=stack.bucket, Prefix=f"prenv/pr-{pr}/")
        assert state.get("Contents", []) == []
