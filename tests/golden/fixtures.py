"""Inputs for the rendering tests and the benchmark: a realistic preview plan and a generated large one."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from prenv.core import config as configmod
from prenv.core.config import Config
from prenv.core.cost import estimate, plan_cost, share_of_base
from prenv.core.domain import Command, Context, DeployOutcome, DestroyOutcome, Output, PlanOutcome
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.ledger import Ledger, PreviewCost
from prenv.core.plan import PlanSummary, summarize
from prenv.core.prices import bundled_prices
from prenv.core.readiness import ReadyPhase, ReadyProgress
from prenv.core.sleep import SleepNotice, WakeNotice

INJECTION = "</details><img src=x onerror=alert(1)> @org/team [x](javascript:alert(1))"
DB_PASSWORD = "s3cr3t-Pa55word!"
RUN_URL = "https://github.com/octo-org/shop/actions/runs/9876543210"


def config(**comment: Any) -> Config:
    text = "backend: {bucket: prenv-state, region: eu-west-1}\n"
    cfg = configmod.parse(text)
    if comment:
        import dataclasses

        cfg = dataclasses.replace(cfg, comment=dataclasses.replace(cfg.comment, **comment))
    return cfg


def context(**changes: Any) -> Context:
    values: dict[str, Any] = {
        "pr_number": 42,
        "repository": "octo-org/shop",
        "workspace": "pr-42",
        "environment": "pr-42",
        "command": "deploy",
        "head_sha": "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
        "run_url": RUN_URL,
        "title": "Add the checkout page",
        "head_ref": "feature/checkout",
    }
    values.update(changes)
    return Context(**{**values, "command": Command(values["command"])})


def _rc(address: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    kind, name = address.split(".")[-2:]
    return {"address": address, "type": kind, "name": name, "change": {"actions": actions}, **extra}


PLAN_JSON: dict[str, Any] = {
    "format_version": "1.2",
    "terraform_version": "1.11.4",
    "resource_changes": [
        _rc("aws_lb_target_group.app", ["create"]),
        _rc("aws_lb_listener_rule.app", ["create"]),
        _rc("aws_ecs_task_definition.app", ["create"]),
        _rc("aws_ecs_service.app", ["update"]),
        _rc("aws_security_group.db", ["update"]),
        _rc("aws_db_instance.db", ["delete", "create"], replace_paths=[["engine_version"]]),
        _rc("aws_ssm_parameter.legacy", ["delete"]),
        _rc("aws_ssm_parameter.config", ["no-op"], previous_address="aws_ssm_parameter.settings"),
        {**_rc("aws_iam_role.task", ["no-op"]), "change": {"actions": ["no-op"], "importing": {"id": "x"}}},
    ],
    "output_changes": {"db_password": {"actions": ["update"], "after_sensitive": True}},
}

PLAN_TEXT = """
Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create
  ~ update in-place
  - destroy
-/+ destroy and then create replacement

Terraform will perform the following actions:

  # aws_db_instance.db must be replaced
-/+ resource "aws_db_instance" "db" {
      ~ address                  = "prenv-1a2b3c-pr42-db.abc.rds.amazonaws.com" -> (known after apply)
      ~ engine_version           = "14.12" -> "15.7" # forces replacement
      ~ id                       = "db-ABCDEFGHIJKL" -> (known after apply)
        identifier               = "prenv-1a2b3c-pr42-db"
      + password                 = (sensitive value)
        tags                     = {
            "prenv:pr" = "42"
        }
        # (41 unchanged attributes hidden)
    }

  # aws_ecs_service.app will be updated in-place
  ~ resource "aws_ecs_service" "app" {
        id              = "arn:aws:ecs:eu-west-1:123456789012:service/prenv/prenv-1a2b3c-pr42-app"
        name            = "prenv-1a2b3c-pr42-app"
      ~ task_definition = "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:3" -> (known after apply)
        # (14 unchanged attributes hidden)
    }

  # aws_ecs_task_definition.app will be created
  + resource "aws_ecs_task_definition" "app" {
      + arn                      = (known after apply)
      + container_definitions    = jsonencode(
            [
              + {
                  + image     = "ghcr.io/octo-org/shop:3f2a9c1"
                  + name      = "app"
                  + secrets   = [
                      + {
                          + name      = "DB_PASSWORD"
                          + valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1"
                        },
                    ]
                },
            ]
        )
      + family                   = "prenv-1a2b3c-pr42"
    }

  # aws_iam_role.task will be imported
    resource "aws_iam_role" "task" {
        id   = "prenv-1a2b3c-pr42-task"
        name = "prenv-1a2b3c-pr42-task"
        # (9 unchanged attributes hidden)
    }

  # aws_lb_listener_rule.app will be created
  + resource "aws_lb_listener_rule" "app" {
      + arn      = (known after apply)
      + priority = 42
    }

  # aws_lb_target_group.app will be created
  + resource "aws_lb_target_group" "app" {
      + arn  = (known after apply)
      + name = "prenv-1a2b3c-pr42"
      + port = 8080
    }

  # aws_security_group.db will be updated in-place
  ~ resource "aws_security_group" "db" {
      ~ ingress = [
          - {
              - from_port = 5432
              - to_port   = 5432
            },
          + {
              + from_port = 5432
              + to_port   = 5432
            },
        ]
        name    = "prenv-1a2b3c-pr42-db"
    }

  # aws_ssm_parameter.legacy will be destroyed
  # (because aws_ssm_parameter.legacy is not in configuration)
  - resource "aws_ssm_parameter" "legacy" {
      - name  = "/prenv/1a2b3c/pr42/legacy" -> null
      - value = (sensitive value) -> null
    }

  # aws_ssm_parameter.settings has moved to aws_ssm_parameter.config
    resource "aws_ssm_parameter" "config" {
        name = "/prenv/1a2b3c/pr42/config"
        # (7 unchanged attributes hidden)
    }

Plan: 1 to import, 4 to add, 2 to change, 2 to destroy.

Changes to Outputs:
  ~ db_password = (sensitive value)
"""

OUTPUTS = (
    Output("url", "https://pr-42.preview.example.com", False),
    Output("region", "eu-west-1", False),
    Output("log_group", "/prenv/1a2b3c/pr42", False),
    Output("ecs_cluster", "prenv", False),
    Output("ecs_service", "prenv-1a2b3c-pr42-app", False),
    Output("db_password", DB_PASSWORD, True),
    Output("db_endpoint", {"host": "db.internal", "port": 5432}, False),
)


def summary() -> PlanSummary:
    return summarize(PLAN_JSON)


def plan() -> PlanOutcome:
    return PlanOutcome(summary=summary(), plan_text=PLAN_TEXT)


def deploy(*, applied: bool = True, outputs: tuple[Output, ...] = OUTPUTS) -> DeployOutcome:
    return DeployOutcome(
        summary=summary() if applied else PlanSummary(),
        plan_text=PLAN_TEXT if applied else "\nNo changes. Your infrastructure matches the configuration.\n",
        applied=applied,
        url="https://pr-42.preview.example.com",
        outputs=outputs,
    )


PLANS = Path(__file__).resolve().parents[1] / "core" / "fixtures"  # real plans of the bundled roots
COST_NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _plan(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PLANS / f"{name}.plan.json").read_text(encoding="utf-8"))
    return document


def cost(*, existed: bool = True, base_found: bool = True) -> PreviewCost:
    """The bundled preview's cost ($0.77/day own, $0.66/day as a third of the $1.98/day base), deployed
    first 3 days ago, $2.50 spent by the last deploy a day ago; this deploy added $0.05/day."""
    priced = plan_cost(_plan("preview"), bundled_prices())
    share = share_of_base(estimate(_plan("base"), bundled_prices()), 3)
    after = (
        dataclasses.replace(priced.after, lines=(*priced.after.lines, share)) if base_found else priced.after
    )
    own = priced.after.own_per_day
    kept = Ledger(
        first_deployed_at=datetime(2026, 11, 29, 9, 30, tzinfo=UTC) if existed else COST_NOW,
        per_day=own,
        asleep_per_day=own - priced.after.sleeping_saves_per_day,
        share_per_day=share.per_day if base_found else Decimal(0),
        spent=Decimal("2.50") if existed else Decimal(0),
        since=datetime(2026, 12, 1, 9, 30, tzinfo=UTC) if existed else COST_NOW,
    )
    return PreviewCost(
        estimate=after,
        ledger=kept,
        change=Decimal("0.05334") if existed else Decimal(0),
        existed=existed,
        base_found=base_found,
        now=COST_NOW,
    )


def deploy_with_cost(**changes: Any) -> DeployOutcome:
    return dataclasses.replace(deploy(), cost=cost(**changes))


def sleep_notice(**changes: Any) -> SleepNotice:
    values: dict[str, Any] = {
        "slept_at": COST_NOW,
        "idle": "2d 4h",
        "sleep_after": "2d",
        "saves_per_day": Decimal("0.68022"),
        "asleep_per_day": Decimal("0.75"),
        "database": "prenv-1a2b3c-pr42-db",
    }
    return SleepNotice(**(values | changes))


def wake_notice() -> WakeNotice:
    return WakeNotice(
        slept_at=datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
        woken_at=COST_NOW,
        done=(
            "database prenv-1a2b3c-pr42-db started",
            "service prenv-1a2b3c-pr42-app scaled from 0 to 1 tasks",
        ),
    )


def destroy(**changes: Any) -> DestroyOutcome:
    return DestroyOutcome(**{"existed": True, "destroyed": 14, "workspace_deleted": True, **changes})


def waiting() -> ReadyProgress:
    """What a deploy waits for, with AWS's words: one carries PR-influenced text, one a secret."""
    return ReadyProgress(
        ReadyPhase.WAITING,
        "waiting for 1 target to be healthy in the target group",
        (
            "target 10.0.12.7:8080 unhealthy: Target.ResponseCodeMismatch Health checks failed with these "
            "codes: [503]",
            f"task 5f1c2e stopped: EssentialContainerExited: {INJECTION}; app exit 1",
            f"task 77ab01 stopped: ResourceInitializationError: cannot read secret {DB_PASSWORD}",
            *(f"target 10.0.13.{n}:8080 draining: Target.DeregistrationInProgress" for n in range(10)),
        ),
    )


def error() -> PrenvError:
    detail = (
        "╷\n│ Error: creating RDS DB Instance (prenv-1a2b3c-pr42-db): InvalidParameterCombination: "
        "Cannot upgrade postgres from 14.12 to 15.7\n│\n│   with aws_db_instance.db,\n"
        '│   on main.tf line 88, in resource "aws_db_instance" "db":\n│   88: resource '
        '"aws_db_instance" "db" {\n╵'
    )
    return PrenvError(
        "terraform apply failed in workspace pr-42",
        reason=FailureReason.APPLY_FAILED,
        hint="Read the Terraform error below and fix the configuration.",
        detail=detail,
    )


def big_plan(resources: int) -> tuple[dict[str, Any], str]:
    """A plan document and its `terraform show` text for `resources` resources (every 10th replaced,
    every 25th a destroyed database, the rest created or updated)."""
    changes: list[dict[str, Any]] = []
    text = ["", "Terraform will perform the following actions:", ""]
    for index in range(resources):
        if index % 25 == 0:
            kind, actions, verb, mark = "aws_db_instance", ["delete"], "will be destroyed", "  -"
        elif index % 10 == 0:
            kind, actions, verb, mark = "aws_ecs_service", ["delete", "create"], "must be replaced", "-/+"
        elif index % 3 == 0:
            kind, actions, verb, mark = "aws_security_group", ["update"], "will be updated in-place", "  ~"
        else:
            kind, actions, verb, mark = "aws_ssm_parameter", ["create"], "will be created", "  +"
        address = f'module.svc["s{index}"].{kind}.r{index}'
        changes.append(
            {"address": address, "type": kind, "name": f"r{index}", "change": {"actions": actions}}
        )
        sign = mark.strip()[-1] if mark.strip() != "-/+" else "~"
        text += [
            f"  # {address} {verb}",
            f'{mark} resource "{kind}" "r{index}" {{',
            f'      {sign} name  = "prenv-1a2b3c-pr42-r{index}"',
            f'      {sign} value = "{"v" * 40}"',
            f"      {sign} tags  = {{",
            f'          {sign} "prenv:pr" = "42"',
            "        }",
            "        # (3 unchanged attributes hidden)",
            "    }",
            "",
        ]
    text.append(f"Plan: {resources} to add, 0 to change, 0 to destroy.")
    return {"format_version": "1.2", "resource_changes": changes}, "\n".join(text) + "\n"
