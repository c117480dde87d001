"""The preview root's plan, made by prenv's engine against a stand-in base in moto (seconds, not minutes).

Checks what the plan itself must show: the names prenv/core/naming.py computes, tags on every taggable
resource, no password anywhere, the health-check figures, routing with and without a domain, and
checkov over the plan JSON. tests/terraform/test_stack.py applies the real base and previews.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import names_for
from tests.roots_support.checkov import scan_plan
from tests.roots_support.engine import preview_engine
from tests.roots_support.fake_base import FakeBase, create_fake_base
from tests.roots_support.skips import ALLOWED
from tests.roots_support.tf import copy_root, planned, resource_changes, terraform
from tests.terraform.conftest import Client, unique_repository

pytestmark = pytest.mark.terraform

PR = 7
SHA = "0123456789abcdef0123456789abcdef01234567"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:" + SHA
TAG_KEYS = {"prenv:repository", "prenv:pr", "prenv:workspace", "prenv:managed-by"}


class Planned:
    def __init__(self, repository: str, base: FakeBase, document: dict[str, Any], path: Path) -> None:
        self.repository = repository
        self.base = base
        self.document = document
        self.path = path


def _plan(
    tmp: Path,
    env: dict[str, str],
    bucket: str,
    repository: str,
    base: FakeBase,
    pr: int = PR,
    database_mode: str = "dedicated",
) -> Planned:
    root = copy_root("preview", tmp)
    with preview_engine(
        root,
        env,
        repository=repository,
        pr=pr,
        bucket=bucket,
        head_sha=SHA,
        image=IMAGE,
        database_mode=database_mode,
    ) as engine:
        _, plan_file, changed = engine.plan()
        assert changed
        document = engine.tf.show_json(plan_file)
    path = tmp / "preview.plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return Planned(repository, base, document, path)


@pytest.fixture(scope="module")
def plan(
    tmp_path_factory: pytest.TempPathFactory,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
) -> Planned:
    repository = unique_repository("plan")
    base = create_fake_base(session_boto, repository)
    return _plan(tmp_path_factory.mktemp("plan"), tf_env, new_bucket(), repository, base)


@pytest.fixture(scope="module")
def domain_plan(
    tmp_path_factory: pytest.TempPathFactory,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
) -> Planned:
    repository = unique_repository("domain")
    base = create_fake_base(session_boto, repository, domain="preview.example.com")
    return _plan(tmp_path_factory.mktemp("domain"), tf_env, new_bucket(), repository, base, pr=4321)


# What prenv writes before a shared-mode plan (prenv/engine/shared_db.py): the PR's secret. Planted
# with a known password, which must appear nowhere in the plan.
PLANTED_PASSWORD = "planted-password-never-in-the-plan-7f3a"


@pytest.fixture(scope="module")
def shared_plan(
    tmp_path_factory: pytest.TempPathFactory,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
) -> Planned:
    repository = unique_repository("shared")
    base = create_fake_base(session_boto, repository, shared_database=True)
    names = names_for(PR, repository)
    session_boto("secretsmanager").create_secret(
        Name=names.database_secret,
        SecretString=json.dumps({"username": names.pr_database, "password": PLANTED_PASSWORD}),
        Tags=[{"Key": "prenv:repository", "Value": repository}],
    )
    tmp = tmp_path_factory.mktemp("shared")
    return _plan(tmp, tf_env, new_bucket(), repository, base, database_mode="shared")


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}" if path else key, item
            yield from _walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def test_names_equal_prenv_naming(plan: Planned) -> None:
    names = names_for(PR, plan.repository)
    doc = plan.document
    assert planned(doc, "aws_lb_target_group.this")["name"] == names.target_group
    assert planned(doc, "aws_db_instance.this[0]")["identifier"] == names.rds_identifier
    assert planned(doc, "aws_db_instance.this[0]")["db_name"] == names.db_name
    assert planned(doc, "aws_ecs_service.app")["name"] == names.ecs_service
    assert planned(doc, "aws_cloudwatch_log_group.app")["name"] == names.log_group
    assert planned(doc, "aws_iam_role.execution")["name"] == names.execution_role
    assert planned(doc, "aws_iam_role.task")["name"] == names.task_role
    assert planned(doc, "aws_security_group.service")["name"] == names.service_security_group
    assert planned(doc, "aws_security_group.db[0]")["name"] == names.db_security_group
    outputs = doc["planned_values"]["outputs"]
    assert outputs["name_prefix"]["value"] == names.name_prefix
    assert outputs["log_group"]["value"] == names.log_group


def test_every_taggable_resource_carries_the_prenv_tags(plan: Planned) -> None:
    expected = {
        "prenv:repository": plan.repository,
        "prenv:pr": str(PR),
        "prenv:workspace": f"pr-{PR}",
        "prenv:managed-by": "prenv",
    }
    taggable = [c for c in resource_changes(plan.document) if "tags_all" in c["change"]["after"]]
    assert len(taggable) >= 12
    for change in taggable:
        tags = change["change"]["after"]["tags_all"]
        assert {k: tags.get(k) for k in TAG_KEYS} == expected, change["address"]
    # And the provider is what puts them there, so resources added later get them too.
    provider = plan.document["configuration"]["provider_config"]["aws"]["expressions"]
    assert set(provider["default_tags"][0]["tags"]["references"]) >= {
        "local.repository",
        "var.pr_number",
        "local.workspace",
    }


def test_no_password_is_set_anywhere(plan: Planned) -> None:
    for change in resource_changes(plan.document):
        for path, value in _walk(change["change"]["after"]):
            leaf = path.rsplit(".", 1)[-1]
            if "password" in leaf.lower() and leaf != "manage_master_user_password":
                assert value in (None, False, [], ""), f"{change['address']}: {path} = {value!r}"
    db = planned(plan.document, "aws_db_instance.this[0]")
    assert db["manage_master_user_password"] is True
    assert db["password"] is None
    text = plan.path.read_text(encoding="utf-8")
    assert not re.search(r'"(master_)?password"\s*:\s*"', text)


def test_task_definition_waits_for_the_database_secret(plan: Planned) -> None:
    # The container definitions reference the database (address, secret ARN), so they are known only
    # after apply; test_stack.py reads them back with boto3 (secrets by valueFrom, no password).
    change = next(c for c in resource_changes(plan.document) if c["address"] == "aws_ecs_task_definition.app")
    assert change["change"]["after_unknown"]["container_definitions"] is True
    task = change["change"]["after"]
    assert (task["requires_compatibilities"], task["network_mode"]) == (["FARGATE"], "awsvpc")


def test_target_group_health_check_is_fast(plan: Planned) -> None:
    group = planned(plan.document, "aws_lb_target_group.this")
    assert group["target_type"] == "ip"
    assert int(group["deregistration_delay"]) <= 30
    (check,) = group["health_check"]
    assert check["interval"] <= 10
    assert check["healthy_threshold"] == 2


def test_service_database_and_logs_settings(plan: Planned) -> None:
    service = planned(plan.document, "aws_ecs_service.app")
    assert service["enable_execute_command"] is True
    assert service["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    assert service["network_configuration"][0]["assign_public_ip"] is False
    db = planned(plan.document, "aws_db_instance.this[0]")
    assert (db["engine"], db["engine_version"]) == ("postgres", "16")
    assert db["storage_encrypted"] is True
    assert db["publicly_accessible"] is False
    assert db["skip_final_snapshot"] is True
    assert db["deletion_protection"] is False
    assert db["instance_class"] == "db.t4g.micro"
    assert planned(plan.document, "aws_cloudwatch_log_group.app")["retention_in_days"] == 7
    ingress = planned(plan.document, "aws_vpc_security_group_ingress_rule.db_from_service[0]")
    assert (ingress["from_port"], ingress["to_port"], ingress["cidr_ipv4"]) == (5432, 5432, None)


def test_without_a_domain_the_pr_gets_its_own_port(plan: Planned) -> None:
    listener = planned(plan.document, "aws_lb_listener.port[0]")
    assert (listener["port"], listener["protocol"]) == (10000 + PR, "HTTP")
    assert not any(c["address"].startswith("aws_lb_listener_rule.") for c in resource_changes(plan.document))
    url = plan.document["planned_values"]["outputs"]["url"]["value"]
    assert url == f"http://{plan.base.alb_dns_name}:{10000 + PR}/"


def test_a_preview_of_an_open_base_says_it_is_public(plan: Planned) -> None:
    access = plan.document["planned_values"]["outputs"]["access"]["value"]
    assert access == {"public": True, "ip_restricted": False, "sign_in": ""}
    (forward,) = planned(plan.document, "aws_lb_listener.port[0]")["default_action"]
    assert forward["type"] == "forward"


def test_with_a_domain_the_pr_gets_a_host_rule(domain_plan: Planned) -> None:
    rule = planned(domain_plan.document, "aws_lb_listener_rule.host[0]")
    assert rule["priority"] == 4321
    assert rule["listener_arn"] == domain_plan.base.listener_arn
    assert rule["condition"][0]["host_header"][0]["values"] == ["pr-4321.preview.example.com"]
    assert not any(
        c["address"].startswith("aws_lb_listener.") for c in resource_changes(domain_plan.document)
    )
    assert (
        domain_plan.document["planned_values"]["outputs"]["url"]["value"]
        == "http://pr-4321.preview.example.com/"
    )


def test_checkov_passes_on_the_plan_json(plan: Planned) -> None:
    result = scan_plan(plan.path, plan.path.parent / "preview")
    assert [str(f) for f in result.failed] == []
    assert result.passed > 20
    # The plan's findings are suppressed by the same inline skips, all of them allow-listed.
    allowed = {check for (file, _, check) in ALLOWED if file.startswith("preview/")}
    assert result.skipped
    assert {f.check_id for f in result.skipped} <= allowed


@pytest.mark.parametrize(
    ("override", "messages"),
    [
        (
            {
                "pr_number": 50001,
                "container_user": "0",
                "cpu": 300,
                "environment": {"DB_PASSWORD": "x"},
                "health_check_path": "healthz",
            },
            [
                "pr_number must be a whole number from 1 to 50000: it maps to listener port 10000 + N",
                "previews never run as root",
                "cpu must be one of the Fargate sizes",
                "none may look like a secret",
                "health_check_path must be an absolute URL path",
            ],
        ),
        (
            {"pr_number": 0, "repository": "not a repository"},
            [
                "pr_number must be a whole number from 1 to 50000",
                "repository must be the GitHub repository as owner/name",
            ],
        ),
        (
            {"name_prefix": "prenv-000000-pr7"},
            ["name_prefix must equal prenv-<first 6 hex of sha256(lowercase repository)>-pr<pr_number>"],
        ),
    ],
    ids=["too-big-and-unsafe", "zero-and-malformed", "foreign-name-prefix"],
)
def test_bad_values_fail_at_plan_with_clear_messages(
    plan: Planned, tf_env: dict[str, str], tmp_path: Path, override: dict[str, Any], messages: list[str]
) -> None:
    """Variable validations stop a bad value before anything reaches AWS (all of them reported at once)."""
    root = plan.path.parent / "preview"
    values = {
        "pr_number": PR,
        "workspace": f"pr-{PR}",
        "name_prefix": names_for(PR, plan.repository).name_prefix,
        "repository": plan.repository,
        **override,
    }
    var_file = tmp_path / "bad.tfvars.json"
    var_file.write_text(json.dumps(values), encoding="utf-8")
    env = {**tf_env, "TF_DATA_DIR": str(root / ".terraform" / "prenv" / f"pr-{PR}")}
    run = terraform(
        ["plan", "-no-color", "-input=false", "-lock=false", f"-var-file={var_file}"], root, env, check=False
    )
    assert run.returncode == 1
    errors = " ".join(run.stderr.split())
    for message in messages:
        assert message in errors
    assert "Creating..." not in run.stdout


def test_shared_mode_plans_no_database_server(shared_plan: Planned) -> None:
    types = {c["type"] for c in resource_changes(shared_plan.document)}
    assert not types & {"aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance"}
    addresses = {c["address"] for c in resource_changes(shared_plan.document)}
    assert not {
        a for a in addresses if a.startswith(("aws_security_group.db", "aws_cloudwatch_log_group.db"))
    }
    assert "aws_ecs_service.app" in addresses


def test_shared_mode_gives_the_task_its_database_by_reference(
    shared_plan: Planned, session_boto: Client
) -> None:
    """In shared mode the container definitions are known at plan time: the server's endpoint, the PR's
    database and role, and its secret by ARN; the password is nowhere in the plan."""
    names = names_for(PR, shared_plan.repository)
    secret = session_boto("secretsmanager").describe_secret(SecretId=names.database_secret)["ARN"]
    cluster = session_boto("rds").describe_db_clusters(
        DBClusterIdentifier=f"prenv-{names.repository_hash}-shared"
    )["DBClusters"][0]
    task = planned(shared_plan.document, "aws_ecs_task_definition.app")
    (container,) = json.loads(task["container_definitions"])
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert {k: environment[k] for k in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER")} == {
        "PGHOST": cluster["Endpoint"],
        "PGPORT": "5432",
        "PGDATABASE": "prenv_pr7",
        "PGUSER": "prenv_pr7",
    }
    assert environment["DATABASE_URL"] == f"postgresql://prenv_pr7@{cluster['Endpoint']}:5432/prenv_pr7"
    assert container["secrets"] == [{"name": "PGPASSWORD", "valueFrom": f"{secret}:password::"}]
    policy = json.loads(planned(shared_plan.document, "aws_iam_role_policy.execution")["policy"])
    (read,) = [st for st in policy["Statement"] if st.get("Sid") == "ReadThisDatabaseSecret"]
    assert read["Resource"] == secret
    outputs = shared_plan.document["planned_values"]["outputs"]
    assert outputs["db_secret_arn"]["value"] == secret
    assert (outputs["database_mode"]["value"], outputs["db_name"]["value"]) == ("shared", "prenv_pr7")
    assert PLANTED_PASSWORD not in shared_plan.path.read_text(encoding="utf-8")


def test_checkov_passes_on_the_shared_mode_plan(shared_plan: Planned) -> None:
    result = scan_plan(shared_plan.path, shared_plan.path.parent / "preview")
    assert [str(f) for f in result.failed] == []
    allowed = {check for (file, _, check) in ALLOWED if file.startswith("preview/")}
    assert {f.check_id for f in result.skipped} <= allowed


@pytest.fixture(scope="module")
def no_database_plan(
    tmp_path_factory: pytest.TempPathFactory,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
) -> Planned:
    repository = unique_repository("nodb")
    base = create_fake_base(session_boto, repository)
    tmp = tmp_path_factory.mktemp("nodb")
    return _plan(tmp, tf_env, new_bucket(), repository, base, database_mode="none")


def test_without_a_database_the_task_gets_no_database_settings(no_database_plan: Planned) -> None:
    types = {c["type"] for c in resource_changes(no_database_plan.document)}
    assert not types & {"aws_db_instance", "aws_rds_cluster"}
    addresses = {c["address"] for c in resource_changes(no_database_plan.document)}
    assert "aws_cloudwatch_log_group.db[0]" not in addresses
    assert not {a for a in addresses if a.startswith("aws_security_group.db")}
    (container,) = json.loads(
        planned(no_database_plan.document, "aws_ecs_task_definition.app")["container_definitions"]
    )
    names = {e["name"] for e in container["environment"]}
    assert not names & {"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "DATABASE_URL"}
    assert container.get("secrets", []) == []
    policy = json.loads(planned(no_database_plan.document, "aws_iam_role_policy.execution")["policy"])
    assert [st.get("Sid") for st in policy["Statement"]] == ["EcrLogin", "PullImage", "WriteLogs"]
    outputs = no_database_plan.document["planned_values"]["outputs"]
    assert {k: outputs[k]["value"] for k in ("database_mode", "db_endpoint", "db_secret_arn", "db_name")} == {
        "database_mode": "none",
        "db_endpoint": "",
        "db_secret_arn": "",
        "db_name": "",
    }
