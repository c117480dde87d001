"""terraform/base's plan (seconds): the network, the ALB in both routing modes, cluster, registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import repository_hash
from tests.roots_support.tf import copy_root, init_s3, plan_json, planned, resource_changes, terraform
from tests.terraform.conftest import unique_repository

pytestmark = pytest.mark.terraform

ZONE = "Z0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def base_root(
    tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], new_bucket: Callable[[], str]
) -> Path:
    root = copy_root("base", tmp_path_factory.mktemp("base"))
    init_s3(root, tf_env, new_bucket(), key="base.tfstate")
    return root


def _plan(root: Path, env: dict[str, str], name: str, values: dict[str, Any]) -> dict[str, Any]:
    var_file = root / f"{name}.tfvars.json"
    var_file.write_text(json.dumps(values), encoding="utf-8")
    return plan_json(root, env, var_file, root / f"{name}.tfplan")


@pytest.fixture(scope="module")
def repository() -> str:
    return unique_repository("base")


@pytest.fixture(scope="module")
def plain(base_root: Path, tf_env: dict[str, str], repository: str) -> dict[str, Any]:
    return _plan(base_root, tf_env, "plain", {"repository": repository})


@pytest.fixture(scope="module")
def with_domain(base_root: Path, tf_env: dict[str, str], repository: str) -> dict[str, Any]:
    values = {
        "repository": repository,
        "domain": "preview.example.com",
        "route53_zone_id": ZONE,
        "ingress_cidrs": ["203.0.113.0/24"],  # previews reachable from one office only: not public
    }
    return _plan(base_root, tf_env, "domain", values)


@pytest.fixture(scope="module")
def shared(base_root: Path, tf_env: dict[str, str], repository: str) -> dict[str, Any]:
    return _plan(base_root, tf_env, "shared", {"repository": repository, "shared_database": True})


def _addresses(plan: dict[str, Any]) -> set[str]:
    return {c["address"] for c in resource_changes(plan)}


def test_everything_is_named_after_the_repository_hash(plain: dict[str, Any], repository: str) -> None:
    name = f"prenv-{repository_hash(repository)}"
    assert planned(plain, "aws_vpc.this")["tags"]["Name"] == name
    assert planned(plain, "aws_lb.this")["name"] == name
    assert planned(plain, "aws_ecs_cluster.this")["name"] == name
    assert planned(plain, "aws_db_subnet_group.this")["name"] == name
    assert planned(plain, "aws_security_group.alb")["name"] == f"{name}-alb"
    assert planned(plain, "aws_ecr_repository.app")["name"] == name
    assert planned(plain, "aws_iam_policy.preview_boundary")["name"] == f"{name}-preview-boundary"
    tags = planned(plain, "aws_vpc.this")["tags_all"]
    assert tags["prenv:repository"] == repository
    assert "prenv:pr" not in tags  # the base belongs to no preview: cleanup never takes it for an orphan
    assert "prenv:workspace" not in tags


def test_network_spans_two_zones_with_public_and_private_subnets(plain: dict[str, Any]) -> None:
    public = [planned(plain, f"aws_subnet.public[{i}]") for i in range(2)]
    private = [planned(plain, f"aws_subnet.private[{i}]") for i in range(2)]
    assert len({s["availability_zone"] for s in public}) == 2
    assert {s["availability_zone"] for s in public} == {s["availability_zone"] for s in private}
    assert all(s["tags"]["prenv:tier"] == "private" for s in private)
    assert not any(s["map_public_ip_on_launch"] for s in public)
    assert "aws_nat_gateway.this" in _addresses(plain)
    assert planned(plain, "aws_flow_log.this")["traffic_type"] == "REJECT"


def test_without_a_domain_http_answers_404_and_preview_ports_open(plain: dict[str, Any]) -> None:
    alb = planned(plain, "aws_lb.this")
    assert alb["drop_invalid_header_fields"] is True
    assert alb["internal"] is False
    assert alb["tags"] == {"prenv:https": "false", "prenv:public": "true"}
    http = planned(plain, "aws_lb_listener.http[0]")
    assert (http["port"], http["protocol"]) == (80, "HTTP")
    action = http["default_action"][0]
    assert (action["type"], action["fixed_response"][0]["status_code"]) == ("fixed-response", "404")
    ports = planned(plain, 'aws_vpc_security_group_ingress_rule.alb_preview_ports["0.0.0.0/0"]')
    assert (ports["from_port"], ports["to_port"]) == (10001, 60000)
    assert not {a for a in _addresses(plain) if "https" in a or "certificate" in a or "route53" in a}


def test_with_a_domain_https_tls12_redirect_certificate_and_wildcard(with_domain: dict[str, Any]) -> None:
    alb = planned(with_domain, "aws_lb.this")
    assert alb["tags"] == {
        "prenv:https": "true",
        "prenv:public": "false",
        "prenv:domain": "preview.example.com",
    }
    (https_ingress,) = [
        c["change"]["after"]
        for c in resource_changes(with_domain)
        if c["address"].startswith("aws_vpc_security_group_ingress_rule.alb_https")
    ]
    assert https_ingress["cidr_ipv4"] == "203.0.113.0/24"
    https = planned(with_domain, "aws_lb_listener.https[0]")
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    redirect = planned(with_domain, "aws_lb_listener.http_redirect[0]")["default_action"][0]
    assert redirect["type"] == "redirect"
    assert (redirect["redirect"][0]["protocol"], redirect["redirect"][0]["port"]) == ("HTTPS", "443")
    assert planned(with_domain, "aws_acm_certificate.wildcard[0]")["domain_name"] == "*.preview.example.com"
    record = planned(with_domain, "aws_route53_record.wildcard[0]")
    assert (record["name"], record["zone_id"], record["type"]) == ("*.preview.example.com", ZONE, "A")
    addresses = _addresses(with_domain)
    assert "aws_lb_listener.http[0]" not in addresses
    assert not [a for a in addresses if a.startswith("aws_vpc_security_group_ingress_rule.alb_preview_ports")]


def test_cluster_registry_and_database_subnets(plain: dict[str, Any]) -> None:
    cluster = planned(plain, "aws_ecs_cluster.this")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    providers = planned(plain, "aws_ecs_cluster_capacity_providers.this")
    assert sorted(providers["capacity_providers"]) == ["FARGATE", "FARGATE_SPOT"]
    registry = planned(plain, "aws_ecr_repository.app")
    assert registry["image_scanning_configuration"] == [{"scan_on_push": True}]
    assert registry["image_tag_mutability"] == "IMMUTABLE"


def test_without_shared_database_there_is_no_server(plain: dict[str, Any]) -> None:
    types = {c["type"] for c in resource_changes(plain)}
    assert not types & {"aws_rds_cluster", "aws_rds_cluster_instance", "aws_db_instance"}


def test_shared_database_is_exactly_one_aurora_server_that_pauses(
    shared: dict[str, Any], repository: str
) -> None:
    changes = list(resource_changes(shared))
    servers = [c["address"] for c in changes if c["type"] in ("aws_rds_cluster", "aws_db_instance")]
    assert servers == ["aws_rds_cluster.shared[0]"]
    assert [c["address"] for c in changes if c["type"] == "aws_rds_cluster_instance"] == [
        "aws_rds_cluster_instance.shared[0]"
    ]
    name = f"prenv-{repository_hash(repository)}"
    cluster = planned(shared, "aws_rds_cluster.shared[0]")
    assert cluster["cluster_identifier"] == f"{name}-shared"
    assert (cluster["engine"], cluster["engine_mode"], cluster["engine_version"]) == (
        "aurora-postgresql",
        "provisioned",
        "16.6",
    )
    assert cluster["serverlessv2_scaling_configuration"] == [
        {"min_capacity": 0, "max_capacity": 2, "seconds_until_auto_pause": 300}
    ]
    assert cluster["manage_master_user_password"] is True
    assert cluster["master_password"] is None
    assert cluster["enable_http_endpoint"] is True
    assert cluster["storage_encrypted"] is True
    assert cluster["deletion_protection"] is True
    assert cluster["db_subnet_group_name"] == name  # the private subnets of every zone
    instance = planned(shared, "aws_rds_cluster_instance.shared[0]")
    assert (instance["instance_class"], instance["publicly_accessible"]) == ("db.serverless", False)
    ingress = planned(shared, "aws_vpc_security_group_ingress_rule.db_from_clients[0]")
    assert (ingress["from_port"], ingress["to_port"], ingress["cidr_ipv4"]) == (5432, 5432, None)
    assert planned(shared, "aws_security_group.db_clients[0]")["name"] == f"{name}-db-clients"
    outputs = shared["planned_values"]["outputs"]
    assert outputs["shared_database_cluster"]["value"] == f"{name}-shared"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"az_count": 1},
            "az_count must be 2, 3 or 4: RDS needs subnets in at least two availability zones.",
        ),
        (
            {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f"},
            "certificate_arn needs domain",
        ),
        ({"ingress_cidrs": []}, "ingress_cidrs must hold at least one IPv4 CIDR block"),
        (
            {"shared_database_engine_version": "16.2"},
            "shared_database_engine_version must be Aurora PostgreSQL 16.3 or later 16.x",
        ),
        (
            {"shared_database_auto_pause_seconds": 60},
            "shared_database_auto_pause_seconds must be a whole number from 300 to 86400",
        ),
    ],
)
def test_bad_values_are_refused(
    base_root: Path, tf_env: dict[str, str], repository: str, values: dict[str, Any], message: str
) -> None:
    var_file = base_root / "bad.tfvars.json"
    var_file.write_text(json.dumps({"repository": repository, **values}), encoding="utf-8")
    run = terraform(
        ["plan", "-no-color", "-input=false", "-lock=false", f"-var-file={var_file}"],
        base_root,
        tf_env,
        check=False,
    )
    assert run.returncode == 1
    assert message in " ".join(run.stderr.split())
