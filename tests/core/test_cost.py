"""The cost estimate: golden figures on real plans of the bundled stack in each database mode (dedicated,
shared, none: tests/core/fixtures), and hand-made plans for the rest.

Every expected figure is worked out by hand from prenv/core/prices.json (us-east-1):
Fargate x86 $0.04048/vCPU-hour and $0.004445/GB-hour, ARM $0.03238 and $0.00356; RDS PostgreSQL
db.t4g.micro $0.016/hour, gp3 $0.115/GB-month; Aurora Serverless v2 $0.12/ACU-hour (storage $0.10/GB-month,
usage); ALB $0.0225/hour; NAT gateway $0.045/hour; public IPv4 $0.005/hour; Secrets Manager
$0.40/secret-month; a month is 730 h (test_the_hand_figures_are_the_price_tables checks them).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from prenv.core.cost import (
    SPOT_NOTE,
    CostLine,
    Estimate,
    NotPriced,
    UsageCharge,
    as_plan,
    estimate,
    estimate_preview,
    per_day,
    plan_cost,
    share_of_base,
    summary_lines,
    usd,
)
from prenv.core.prices import bundled_prices
from tests.core.plan_fixtures import NAMES

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PRICES = bundled_prices()
D = Decimal


def _fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / f"{name}.plan.json").read_text(encoding="utf-8"))
    return document


def _figures(result: Estimate) -> list[tuple[str, str, Decimal]]:
    return [(line.address, line.what, line.per_day) for line in result.lines]


def _close(value: Decimal) -> Decimal:
    """Decimal division rounds at the 28th digit; compare to a millionth of a cent."""
    return value.quantize(D("1e-8"))


def _resource(
    address: str, after: dict[str, Any] | None, *, unknown: dict[str, Any] | None = None
) -> dict[str, Any]:
    rtype, name = address.split("[", maxsplit=1)[0].split(".")[-2:]
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown or {}},
    }


def _plan(*resources: dict[str, Any], configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "resource_changes": list(resources),
        "configuration": {"root_module": configuration or {"resources": []}},
    }


# --- The bundled stack, from real plans (tests/core/fixtures, kept equal to the roots by a Terraform test)


def test_the_base_costs_198_a_day_before_traffic() -> None:
    base = estimate(_fixture("base"), PRICES)
    assert _figures(base) == [
        # 1 Elastic IP (the NAT gateway's) x $0.005 x 24 h = $0.12
        ("aws_eip.nat", "public IPv4: an Elastic IP", D("0.120")),
        # $0.0225 x 24 h = $0.54
        ("aws_lb.this", "Application Load Balancer", D("0.5400")),
        # 2 zones (the plan's two public subnets) x $0.005 x 24 h = $0.24
        ("aws_lb.this", "public IPv4: one per zone (2 subnets)", D("0.240")),
        # $0.045 x 24 h = $1.08
        ("aws_nat_gateway.this", "NAT gateway", D("1.080")),
    ]
    # 0.12 + 0.54 + 0.24 + 1.08 = 1.98
    assert base.per_day == D("1.98")
    assert per_day(base.per_day) == "$1.98/day"
    assert base.lines[2].arithmetic == "2 addresses x $0.005 x 24 h"
    assert base.not_priced == ()
    assert base.usage == (
        UsageCharge("aws_cloudwatch_log_group.flow", "CloudWatch Logs ingestion", "$0.50 per GB"),
        UsageCharge("aws_cloudwatch_log_group.flow", "CloudWatch Logs storage", "$0.03 per GB-month"),
        UsageCharge("aws_ecr_repository.app", "ECR image storage", "rate not in prenv's price table"),
        UsageCharge(
            "aws_ecs_cluster.this",
            "Container Insights metrics and performance logs, per task",
            "CloudWatch metric and log rates; not in prenv's price table",
        ),
        UsageCharge("aws_flow_log.this", "flow log delivery to CloudWatch Logs", "$0.50 per GB"),
        UsageCharge("aws_lb.this", "load balancer capacity units", "$0.008 per LCU-hour"),
        UsageCharge("aws_nat_gateway.this", "NAT gateway data processed", "$0.045 per GB"),
    )
    assert "aws_vpc.this" in base.free
    assert "aws_iam_role.flow" in base.free
    assert len(base.free) == 26


def test_a_dedicated_preview_costs_077_a_day_at_the_defaults() -> None:
    preview = estimate(_fixture("preview"), PRICES)
    assert _figures(preview) == [
        # $0.016 x 24 h = $0.384
        ("aws_db_instance.this[0]", "RDS PostgreSQL: db.t4g.micro, Single-AZ", D("0.384")),
        # 20 GB x $0.115 x 24 h / 730 h = 55.2 / 730 = $0.07561643...
        ("aws_db_instance.this[0]", "RDS storage: 20 GB gp3", D("55.2") / 730),
        # $0.40 x 24 h / 730 h = 9.6 / 730 = $0.01315068...
        (
            "aws_db_instance.this[0]",
            "Secrets Manager: the master password secret RDS manages",
            D("9.6") / 730,
        ),
        # 1 task x (0.25 vCPU x $0.04048 + 0.5 GB x $0.004445) x 24 h = (0.01012 + 0.0022225) x 24 = $0.29622
        # (FARGATE_SPOT, the default, at the on-demand rate: the table has no confirmed Spot price)
        ("aws_ecs_service.app", "Fargate Spot: 1 task of 0.25 vCPU and 0.5 GB (Linux/x86)", D("0.29622")),
    ]
    assert preview.lines[3].arithmetic == "1 x (0.25 vCPU x $0.04048 + 0.5 GB x $0.004445) x 24 h"
    assert preview.lines[3].note == SPOT_NOTE
    assert preview.lines[1].arithmetic == "20 GB x $0.115 x 24 h / 730 h"
    # 0.384 + 0.29622 + (55.2 + 9.6) / 730 = 0.68022 + 0.08876712... = $0.76898712...
    assert _close(preview.per_day) == _close(D("0.68022") + D("64.8") / 730)
    assert per_day(preview.per_day) == "$0.77/day"
    assert preview.not_priced == ()
    assert [u.address for u in preview.usage] == ["aws_cloudwatch_log_group.app"] * 2 + [
        "aws_cloudwatch_log_group.db[0]"
    ] * 2
    assert "aws_lb_target_group.this" in preview.free
    assert "aws_lb_listener.port[0]" in preview.free
    assert "aws_ecs_task_definition.app" in preview.free


def test_the_base_is_shared_among_the_live_previews_and_said_so() -> None:
    base = estimate(_fixture("base"), PRICES)
    preview = estimate_preview(_fixture("preview"), PRICES, base=base, live_previews=4)
    share = preview.lines[-1]
    # $1.98 / 4 live previews = $0.495
    assert share == CostLine(
        address="(base)",
        what="share of the base (public IPv4, Application Load Balancer, NAT gateway)",
        per_day=D("0.495"),
        arithmetic="$1.98/day / 4 live previews",
        note="shared by every live preview of the repository",
        shared=True,
    )
    assert preview.shared_per_day == D("0.495")
    # own 0.76898712... + 0.495 = 1.26398712...
    assert _close(preview.own_per_day) == _close(D("0.68022") + D("64.8") / 730)
    assert per_day(preview.per_day) == "$1.26/day"
    alone = estimate_preview(_fixture("preview"), PRICES, base=base)
    assert alone.lines[-1].arithmetic == "$1.98/day / 1 preview"
    assert alone.shared_per_day == D("1.98")
    # A base with something unpriced says so on every preview's share.
    odd = _fixture("base")
    odd["resource_changes"].append(_resource("aws_kms_key.extra", {}))
    share = share_of_base(estimate(odd, PRICES), 2)
    assert (
        share.note == "shared by every live preview of the repository; the base also has 1 item(s) not priced"
    )


@pytest.mark.parametrize("live", [0, -1, True, 1.5])
def test_live_previews_must_be_a_whole_number_of_at_least_one(live: Any) -> None:
    base = estimate(_fixture("base"), PRICES)
    with pytest.raises(ValueError, match=r"^live_previews must be a whole number") as raised:
        share_of_base(base, live)
    assert (
        str(raised.value)
        == f"live_previews must be a whole number of at least 1 (this preview), not {live!r}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_resource_type_the_table_does_not_know_is_not_priced_and_not_guessed(name: str) -> None:
    """On a copy of each real plan (every database mode), with two types prices.json has no row for."""
    plan = _fixture(name)
    plan["resource_changes"].append(
        _resource("aws_elasticache_cluster.cache", {"node_type": "cache.t4g.micro", "num_cache_nodes": 1})
    )
    plan["resource_changes"].append(_resource("module.queue.aws_sqs_queue.this[0]", {"name": "jobs"}))
    result = estimate(plan, PRICES)
    assert result.not_priced == (
        NotPriced(
            "aws_elasticache_cluster.cache",
            "aws_elasticache_cluster",
            "no price for aws_elasticache_cluster in prenv's price table",
        ),
        NotPriced(
            "module.queue.aws_sqs_queue.this[0]",
            "aws_sqs_queue",
            "no price for aws_sqs_queue in prenv's price table",
        ),
    )
    # Not guessed: the figure is the real plan's to the last digit, the unknown resources add nothing,
    # and neither counts as free or as usage.
    real = estimate(_fixture(name), PRICES)
    assert (result.per_day, result.lines, result.usage, result.free) == (
        real.per_day,
        real.lines,
        real.usage,
        real.free,
    )
    assert real.not_priced == ()
    # What the summary says of them: "not priced", with the reason.
    assert summary_lines(result)[-2:] == [
        "  not priced: aws_elasticache_cluster.cache: no price for aws_elasticache_cluster in prenv's "
        "price table",
        "  not priced: module.queue.aws_sqs_queue.this[0]: no price for aws_sqs_queue in prenv's price table",
    ]


def test_a_class_or_option_the_table_lacks_is_not_priced_with_the_reason() -> None:
    plan = _fixture("preview")
    database = next(rc for rc in plan["resource_changes"] if rc["type"] == "aws_db_instance")
    database["change"]["after"]["instance_class"] = "db.r6g.large"
    database["change"]["after"]["storage_type"] = "io2"
    result = estimate(plan, PRICES)
    assert [(n.address, n.reason) for n in result.not_priced] == [
        (
            "aws_db_instance.this[0]",
            "instance class db.r6g.large is not in prenv's price table (add it to prenv/core/prices.json)",
        ),
        ("aws_db_instance.this[0]", "storage type io2 is not in prenv's price table (gp2 and gp3 only)"),
    ]
    # What is known is still priced: the secret and the task.
    assert [line.what.split(":")[0] for line in result.lines] == ["Secrets Manager", "Fargate Spot"]

    database["change"]["after"] |= {"instance_class": "db.t4g.micro", "storage_type": "gp3", "multi_az": True}
    assert [n.reason for n in estimate(plan, PRICES).not_priced] == [
        "Multi-AZ is not in prenv's price table (Single-AZ only)"
    ]
    database["change"]["after"] |= {"multi_az": None, "engine": "mysql"}
    assert [n.reason for n in estimate(plan, PRICES).not_priced] == [
        "engine mysql is not in prenv's price table (RDS for PostgreSQL only)"
    ]
    database["change"]["after"] |= {"engine": "postgres", "instance_class": None}
    database["change"]["after_unknown"]["instance_class"] = True
    assert [n.reason for n in estimate(plan, PRICES).not_priced] == ["instance class not known until apply"]


# --- Database modes, on the real plans: dedicated (above), shared and none ------------------------------
#
# The parts, by hand from the rates in this module's docstring (each checked against prices.json below):
TASK = 1 * (D("0.25") * D("0.04048") + D("0.5") * D("0.004445")) * 24  # 1 x (0.01012 + 0.0022225) x 24
RDS_INSTANCE = D("0.016") * 24  # db.t4g.micro, Single-AZ
RDS_STORAGE = 20 * D("0.115") * 24 / 730  # 20 GB gp3 = 55.2 / 730
SECRET = D("0.40") * 24 / 730  # one secret-month, per day = 9.6 / 730
BASE = D("0.005") * 24 + D("0.0225") * 24 + 2 * D("0.005") * 24 + D("0.045") * 24  # EIP, ALB, 2 ALB IPs, NAT
SERVER_PAUSED = 0 * D("0.12") * 24 + SECRET  # Aurora at its 0 ACU minimum, and its master secret


def test_the_hand_figures_are_the_price_tables() -> None:
    """The rates written by hand above and in the module docstring are prices.json's, at 730 h a month."""
    rates = {
        "fargate/linux_x86/vcpu_hour": "0.04048",
        "fargate/linux_x86/gb_hour": "0.004445",
        "rds_postgres_single_az/instance_hour/db.t4g.micro": "0.016",
        "rds_postgres_single_az/storage_gb_month/gp3": "0.115",
        "aurora_postgres/serverless_v2_acu_hour": "0.12",
        "aurora_postgres/storage_gb_month": "0.10",
        "alb/hour": "0.0225",
        "nat_gateway/hour": "0.045",
        "public_ipv4/hour": "0.005",
        "secrets_manager/secret_month": "0.40",
    }
    for key, usd_ in rates.items():
        rate = PRICES.rate(key)
        assert rate is not None, key
        assert rate.usd == D(usd_), key
    assert PRICES.hours_per_month == 730
    worked_out = (TASK, RDS_INSTANCE, BASE)  # the sums in the comments below
    assert worked_out == (D("0.29622"), D("0.384"), D("1.98"))


# mode -> (base fixture, preview fixture, the preview's own cost per day, the base's cost per day)
MODES = {
    # the preview's own RDS instance, its storage and the secret RDS manages; the base as it is
    "dedicated": ("base", "preview", RDS_INSTANCE + RDS_STORAGE + SECRET + TASK, BASE),
    # the preview's task only: its database is on the base's server, a base cost
    "shared": ("base-shared-database", "preview-shared", TASK, BASE + SERVER_PAUSED),
    # the preview's task only, and the base as it is
    "none": ("base", "preview-none", TASK, BASE),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("live", [1, 5])
def test_each_database_mode_costs_its_own_parts_plus_its_share_of_the_base(mode: str, live: int) -> None:
    base_plan, preview_plan, own, base_per_day = MODES[mode]
    base = estimate(_fixture(base_plan), PRICES)
    preview = estimate_preview(_fixture(preview_plan), PRICES, base=base, live_previews=live)
    assert base.per_day == base_per_day
    assert preview.own_per_day == own
    assert preview.shared_per_day == base_per_day / live
    assert preview.per_day == own + base_per_day / live
    assert preview.not_priced == base.not_priced == ()


def test_the_figures_per_mode_to_the_cent() -> None:
    """What the comment shows, one preview alone and one of five, by hand:

    dedicated: 0.384 + 55.2/730 + 9.6/730 + 0.29622 = 0.76898712... own; + 1.98 = 2.74898712... alone,
               + 1.98/5 = 0.396 -> 1.16498712... of five
    shared:    0.29622 own; the base 1.98 + 9.6/730 = 1.99315068...; alone 2.28937068...,
               of five 0.29622 + 0.39863013... = 0.69485013...
    none:      0.29622 own; alone 0.29622 + 1.98 = 2.27622, of five 0.29622 + 0.396 = 0.69222
    """
    shown = {
        mode: [
            per_day(
                estimate_preview(
                    _fixture(preview), PRICES, base=estimate(_fixture(base), PRICES), live_previews=live
                ).per_day
            )
            for live in (1, 5)
        ]
        for mode, (base, preview, _, _) in MODES.items()
    }
    assert shown == {
        "dedicated": ["$2.75/day", "$1.16/day"],
        "shared": ["$2.29/day", "$0.69/day"],
        "none": ["$2.28/day", "$0.69/day"],
    }


def test_the_base_with_its_shared_database_server() -> None:
    """terraform/base with shared_database = true: the base's lines, then the Aurora cluster's."""
    base = estimate(_fixture("base-shared-database"), PRICES)
    assert _figures(base) == [
        ("aws_eip.nat", "public IPv4: an Elastic IP", D("0.120")),  # $0.005 x 24 h
        ("aws_lb.this", "Application Load Balancer", D("0.5400")),  # $0.0225 x 24 h
        ("aws_lb.this", "public IPv4: one per zone (2 subnets)", D("0.240")),  # 2 x $0.005 x 24 h
        ("aws_nat_gateway.this", "NAT gateway", D("1.080")),  # $0.045 x 24 h
        # $0.40 x 24 h / 730 h = 9.6 / 730 = $0.01315068... (the master password secret Aurora manages)
        (
            "aws_rds_cluster.shared[0]",
            "Secrets Manager: the master password secret RDS manages",
            D("9.6") / 730,
        ),
        # the root's minimum is 0 ACU: 0 ACU x $0.12 x 24 h = $0 while paused
        ("aws_rds_cluster_instance.shared[0]", "Aurora Serverless v2: 0 ACU, its minimum", D(0)),
    ]
    server = base.lines[-1]
    assert server.arithmetic == "0 ACU x $0.12 x 24 h"
    assert server.note == (
        "0 while paused (the minimum is 0 ACU); billed per ACU-second from the first connection"
    )
    # 1.98 + 9.6 / 730 = $1.99315068...
    assert base.per_day == BASE + SERVER_PAUSED == D("1.98") + D("9.6") / 730
    assert per_day(base.per_day) == "$1.99/day"
    assert UsageCharge("aws_rds_cluster.shared[0]", "Aurora storage", "$0.10 per GB-month") in base.usage
    assert (
        UsageCharge("aws_rds_cluster.shared[0]", "Aurora I/O", "rate not in prenv's price table")
        in base.usage
    )
    # Its security groups and their rules cost nothing: 26 free resources of the base, and 4 more.
    assert len(base.free) == 30
    assert {"aws_security_group.db[0]", "aws_security_group.db_clients[0]"} <= set(base.free)
    assert base.not_priced == ()


def test_a_shared_preview_pays_its_task_and_a_share_of_the_server_said_so() -> None:
    """database.mode shared: the preview's plan has no database resource (the root reads the base's
    cluster and the PR's secret); the server is in the base, divided among the live previews."""
    base = estimate(_fixture("base-shared-database"), PRICES)
    preview = estimate_preview(_fixture("preview-shared"), PRICES, base=base, live_previews=3)
    assert _figures(preview) == [
        # 1 x (0.25 vCPU x $0.04048 + 0.5 GB x $0.004445) x 24 h = $0.29622
        ("aws_ecs_service.app", "Fargate Spot: 1 task of 0.25 vCPU and 0.5 GB (Linux/x86)", D("0.29622")),
        # (1.98 + 9.6 / 730) / 3 = 1.99315068... / 3 = $0.66438356...
        (
            "(base)",
            "share of the base (public IPv4, Application Load Balancer, NAT gateway, Secrets Manager, "
            "Aurora Serverless v2)",
            (D("1.98") + D("9.6") / 730) / 3,
        ),
    ]
    share = preview.lines[-1]
    assert (share.arithmetic, share.note, share.shared) == (
        "$1.99/day / 3 live previews",
        "shared by every live preview of the repository",
        True,
    )
    # 0.29622 + 0.66438356... = $0.96060356...
    assert _close(preview.per_day) == _close(D("0.29622") + (D("1.98") + D("9.6") / 730) / 3)
    assert per_day(preview.per_day) == "$0.96/day"
    assert not {"aws_db_instance", "aws_rds_cluster"} & {n.split(".")[0] for n in preview.free}
    # Asleep it saves its task only: the shared server is not the preview's to stop.
    assert preview.sleeping_saves_per_day == D("0.29622")


def test_a_server_awake_at_half_an_acu_is_divided_the_same_way() -> None:
    """The real shared base with its minimum raised to 0.5 ACU (what an awake server bills at least)."""
    plan = _fixture("base-shared-database")
    cluster = next(rc for rc in plan["resource_changes"] if rc["type"] == "aws_rds_cluster")
    cluster["change"]["after"]["serverlessv2_scaling_configuration"][0]["min_capacity"] = 0.5
    base = estimate(plan, PRICES)
    server = base.lines[-1]
    # 0.5 ACU x $0.12 x 24 h = $1.44
    assert (server.what, server.per_day, server.arithmetic) == (
        "Aurora Serverless v2: 0.5 ACU, its minimum",
        D("1.440"),
        "0.5 ACU x $0.12 x 24 h",
    )
    assert server.note == "at least: capacity above the minimum is billed per ACU-second as load needs it"
    # 1.98 + 1.44 + 9.6 / 730 = 3.42 + 0.01315068... = $3.43315068...
    assert _close(base.per_day) == _close(D("3.42") + D("9.6") / 730)
    preview = estimate_preview(_fixture("preview-shared"), PRICES, base=base, live_previews=3)
    # 0.29622 + 3.43315068... / 3 = 0.29622 + 1.14438356... = $1.44060356...
    assert _close(preview.per_day) == _close(D("0.29622") + (D("3.42") + D("9.6") / 730) / 3)
    assert per_day(preview.per_day) == "$1.44/day"


def test_aurora_that_the_table_cannot_price_is_not_priced() -> None:
    plan = _fixture("base-shared-database")
    cluster = next(rc for rc in plan["resource_changes"] if rc["type"] == "aws_rds_cluster")
    instance = next(rc for rc in plan["resource_changes"] if rc["type"] == "aws_rds_cluster_instance")
    instance["change"]["after"]["instance_class"] = "db.r6g.large"
    cluster["change"]["after"]["storage_type"] = "aurora-iopt1"
    assert [(n.address, n.reason) for n in estimate(plan, PRICES).not_priced] == [
        (
            "aws_rds_cluster.shared[0]",
            "storage configuration aurora-iopt1 is not in prenv's price table (Aurora Standard only)",
        ),
        (
            "aws_rds_cluster_instance.shared[0]",
            "Aurora instance class db.r6g.large is not in prenv's price table (Serverless v2 only)",
        ),
    ]
    instance["change"]["after"]["instance_class"] = "db.serverless"
    del cluster["change"]["after"]["serverlessv2_scaling_configuration"]
    assert "its cluster's Serverless v2 minimum capacity is not in the plan" in [
        n.reason for n in estimate(plan, PRICES).not_priced
    ]


def test_a_preview_without_a_database_is_its_task_alone() -> None:
    preview = estimate(_fixture("preview-none"), PRICES)
    # 1 x (0.25 x 0.04048 + 0.5 x 0.004445) x 24 = $0.29622
    assert _figures(preview) == [
        ("aws_ecs_service.app", "Fargate Spot: 1 task of 0.25 vCPU and 0.5 GB (Linux/x86)", D("0.29622")),
    ]
    assert per_day(preview.per_day) == "$0.30/day"
    # No database log group either: the app's is the only usage.
    assert [u.address for u in preview.usage] == ["aws_cloudwatch_log_group.app"] * 2
    # Against the plain base: 0.29622 + 1.98 / 2 = $1.28622
    base = estimate(_fixture("base"), PRICES)
    shared = estimate_preview(_fixture("preview-none"), PRICES, base=base, live_previews=2)
    assert shared.per_day == D("1.28622")
    assert shared.lines[-1].what == "share of the base (public IPv4, Application Load Balancer, NAT gateway)"


# --- Fargate: architecture, capacity providers, public addresses ------------------------------------------


def _service_plan(service: dict[str, Any], task: dict[str, Any] | None = None) -> dict[str, Any]:
    task_values = {
        "family": "app",
        "cpu": "512",
        "memory": "1024",
        "requires_compatibilities": ["FARGATE"],
        "runtime_platform": [{"cpu_architecture": "X86_64", "operating_system_family": "LINUX"}],
        "ephemeral_storage": [],
    } | (task or {})
    return _plan(
        _resource("aws_ecs_task_definition.app", task_values),
        _resource("aws_ecs_service.app", {"task_definition": "app:3", "desired_count": 1} | service),
    )


def test_arm_tasks_on_demand() -> None:
    plan = _service_plan(
        {"capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1, "base": None}]},
        {"runtime_platform": [{"cpu_architecture": "ARM64", "operating_system_family": "LINUX"}]},
    )
    (line,) = estimate(plan, PRICES).lines
    assert line.what == "Fargate: 1 task of 0.5 vCPU and 1 GB (Linux/ARM)"
    # 1 x (0.5 x $0.03238 + 1 x $0.00356) x 24 h = (0.01619 + 0.00356) x 24 = $0.474
    assert line.per_day == D("0.474")
    assert line.note == ""


def test_tasks_are_split_by_base_then_weight() -> None:
    strategy = [
        {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
        {"capacity_provider": "FARGATE_SPOT", "weight": 3, "base": None},
    ]
    plan = _service_plan({"desired_count": 5, "capacity_provider_strategy": strategy})
    lines = estimate(plan, PRICES).lines
    # 5 tasks: FARGATE takes its base of 1, the other 4 go 1:3 -> FARGATE 1 + 1 = 2, FARGATE_SPOT 3.
    # One task = 0.5 x $0.04048 + 1 x $0.004445 = $0.024685/hour.
    assert [(line.what, line.per_day) for line in lines] == [
        ("Fargate: 2 tasks of 0.5 vCPU and 1 GB (Linux/x86)", D("1.18488")),  # 2 x 0.024685 x 24
        ("Fargate Spot: 3 tasks of 0.5 vCPU and 1 GB (Linux/x86)", D("1.77732")),  # 3 x 0.024685 x 24
    ]
    assert lines[1].note == SPOT_NOTE


def test_public_addresses_of_tasks_are_priced() -> None:
    plan = _service_plan(
        {"desired_count": 2, "launch_type": "FARGATE", "network_configuration": [{"assign_public_ip": True}]}
    )
    lines = estimate(plan, PRICES).lines
    # 2 tasks x 0.024685 x 24 = $1.18488; 2 addresses x $0.005 x 24 h = $0.24
    assert [(line.what, line.per_day) for line in lines] == [
        ("Fargate: 2 tasks of 0.5 vCPU and 1 GB (Linux/x86)", D("1.18488")),
        ("public IPv4: one per task", D("0.240")),
    ]


def test_a_service_scaled_to_zero_costs_nothing() -> None:
    (line,) = estimate(_service_plan({"desired_count": 0}), PRICES).lines
    assert (line.what, line.per_day, line.arithmetic) == (
        "ECS service scaled to zero: no tasks",
        D(0),
        "0 tasks",
    )


def test_no_provider_in_the_plan_is_priced_on_demand_as_an_upper_bound() -> None:
    (line,) = estimate(_service_plan({}), PRICES).lines
    assert line.what == "Fargate: 1 task of 0.5 vCPU and 1 GB (Linux/x86)"
    assert line.note.startswith("no capacity provider or launch type in the plan (the cluster's default)")


@pytest.mark.parametrize(
    ("service", "task", "reason"),
    [
        (
            {"launch_type": "EC2"},
            {},
            "capacity provider EC2 is not Fargate: its EC2 capacity is priced elsewhere",
        ),
        (
            {},
            {"runtime_platform": [{"operating_system_family": "WINDOWS_SERVER_2022_CORE"}]},
            "Fargate on WINDOWS_SERVER_2022_CORE is not in prenv's price table (Linux only)",
        ),
        (
            {},
            {"ephemeral_storage": [{"size_in_gib": 50}]},
            "ephemeral storage beyond the included 20 GiB (50 GiB) is not in prenv's price table",
        ),
        (
            {"task_definition": "other:1"},
            {},
            "its task definition is not in the plan, so its CPU and memory are unknown",
        ),
        ({}, {"cpu": "1 vCPU"}, "task CPU '1 vCPU' or memory '1024' is not a number"),
        ({}, {"memory": None}, "desired count, CPU or memory not known until apply"),
    ],
)
def test_what_fargate_pricing_cannot_cover_is_not_priced(
    service: dict[str, Any], task: dict[str, Any], reason: str
) -> None:
    result = estimate(_service_plan(service, task), PRICES)
    assert [n.reason for n in result.not_priced] == [reason]


def test_an_unknown_task_definition_is_found_through_the_configuration() -> None:
    plan = _service_plan({"task_definition": None})
    plan["resource_changes"][1]["change"]["after_unknown"] = {"task_definition": True}
    plan["resource_changes"].insert(
        0, _resource("aws_ecs_task_definition.other", {"family": "other", "cpu": "4096", "memory": "8192"})
    )
    plan["configuration"]["root_module"]["resources"] = [
        {
            "address": "aws_ecs_service.app",
            "type": "aws_ecs_service",
            "expressions": {
                "task_definition": {
                    "references": ["aws_ecs_task_definition.app.arn", "aws_ecs_task_definition.app"]
                }
            },
        }
    ]
    (line,) = estimate(plan, PRICES).lines
    assert line.what.endswith("1 task of 0.5 vCPU and 1 GB (Linux/x86)")


# --- Before and after: what a change does to the cost ----------------------------------------------------


def test_the_cost_before_and_after_a_change() -> None:
    plan = _fixture("preview")
    database = next(rc for rc in plan["resource_changes"] if rc["type"] == "aws_db_instance")
    database["change"]["actions"] = ["update"]
    database["change"]["before"] = dict(database["change"]["after"])
    database["change"]["after"]["instance_class"] = "db.t4g.small"
    before = estimate(plan, PRICES, side="before")
    after = estimate(plan, PRICES)
    # Only the database existed before (the other resources are being created); after: $0.032 x 24 = $0.768
    assert [line.per_day for line in before.lines if line.what.startswith("RDS PostgreSQL")] == [D("0.384")]
    assert [line.per_day for line in after.lines if line.what.startswith("RDS PostgreSQL")] == [D("0.768")]
    deleted = _fixture("preview")
    for rc in deleted["resource_changes"]:
        rc["change"] |= {"actions": ["delete"], "before": rc["change"]["after"], "after": None}
    assert estimate(deleted, PRICES).lines == ()
    assert _close(estimate(deleted, PRICES, side="before").per_day) == _close(D("0.68022") + D("64.8") / 730)
    with pytest.raises(ValueError, match=r"^side must be 'after' or 'before', not 'during'$"):
        estimate(plan, PRICES, side="during")


def test_data_sources_and_empty_plans() -> None:
    empty = estimate({}, PRICES)
    assert (empty.per_day, empty.lines, empty.not_priced, empty.region, empty.checked) == (
        D(0),
        (),
        (),
        "us-east-1",
        "2026-12-02",
    )
    read = _resource("data.aws_vpc.base", {"id": "vpc-1"}) | {"mode": "data"}
    assert estimate(_plan(read), PRICES).free == ()


# --- Formatting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("0.76898712"), "$0.77"),
        (D("0.005"), "$0.01"),  # half up
        (D("0.0049"), "$0.00"),
        (D("1234.5"), "$1,234.50"),
        (D(0), "$0.00"),
    ],
)
def test_money_is_shown_to_the_cent(amount: Decimal, text: str) -> None:
    assert usd(amount) == text
    assert per_day(amount) == f"{text}/day"


def test_rates_are_shown_as_the_table_gives_them() -> None:
    assert usd(D("0.004445"), exact=True) == "$0.004445"
    assert usd(D("0.5"), exact=True) == "$0.50"
    assert usd(D("0.40"), exact=True) == "$0.40"


def test_summary_lines_show_the_arithmetic_usage_and_what_is_not_priced() -> None:
    plan = _fixture("base")
    plan["resource_changes"].append(_resource("aws_kms_key.extra", {}))
    lines = summary_lines(estimate(plan, PRICES))
    assert lines[:5] == [
        "$1.98/day while running (us-east-1 list prices checked 2026-12-02)",
        "  $0.12/day  aws_eip.nat: public IPv4: an Elastic IP = $0.005 x 24 h",
        "  $0.54/day  aws_lb.this: Application Load Balancer = $0.0225 x 24 h",
        "  $0.24/day  aws_lb.this: public IPv4: one per zone (2 subnets) = 2 addresses x $0.005 x 24 h",
        "  $1.08/day  aws_nat_gateway.this: NAT gateway = $0.045 x 24 h",
    ]
    assert (
        "  usage, not in the figure: aws_lb.this: load balancer capacity units, $0.008 per LCU-hour" in lines
    )
    assert lines[-1] == "  not priced: aws_kms_key.extra: no price for aws_kms_key in prenv's price table"


# --- Sleep: what stops billing while a preview sleeps; the base priced from what runs ------------------


def test_sleep_stops_the_tasks_and_the_instance_hours_not_the_storage_or_the_secret() -> None:
    preview = estimate(_fixture("preview"), PRICES)
    assert [(line.what.split(":")[0], line.sleeps) for line in preview.lines] == [
        ("RDS PostgreSQL", True),
        ("RDS storage", False),
        ("Secrets Manager", False),
        ("Fargate Spot", True),
    ]
    # $0.384 (db.t4g.micro) + $0.29622 (the task) = $0.68022 saved per day asleep
    assert preview.sleeping_saves_per_day == D("0.68022")


def test_a_plan_priced_on_both_sides() -> None:
    plan = _fixture("preview")
    first = plan_cost(plan, PRICES)
    assert (first.existed, first.change) == (False, 0)
    assert first.after.per_day == estimate(plan, PRICES).per_day
    # The same plan as a redeploy that doubles the task's memory: 1 x 0.5 GB x $0.004445 x 24 h more
    redeploy = copy.deepcopy(plan)
    for rc in redeploy["resource_changes"]:
        rc["change"]["before"] = copy.deepcopy(rc["change"]["after"])
        if rc["type"] == "aws_ecs_task_definition":
            rc["change"]["after"]["memory"] = "1024"
    changed = plan_cost(redeploy, PRICES)
    assert changed.existed
    assert changed.change == D("0.5") * D("0.004445") * 24  # $0.05334/day


def test_the_base_as_found_running_costs_what_its_plan_says() -> None:
    """prenv.aws.base reads the running base as (address, type, attributes): priced like the plan."""
    found = as_plan(
        [
            ("aws_lb.prenv-abc123", "aws_lb", {"load_balancer_type": "application", "internal": False,
                                               "subnets": ["subnet-1", "subnet-2"]}),
            ("aws_nat_gateway.nat-1", "aws_nat_gateway", {}),
            ("aws_eip.eipalloc-1", "aws_eip", {}),
        ]
    )  # fmt: skip
    running = estimate(found, PRICES)
    assert running.per_day == estimate(_fixture("base"), PRICES).per_day == D("1.98")
