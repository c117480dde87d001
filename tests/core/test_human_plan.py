"""The human-readable plan cut from `terraform plan`'s output (what `terraform show <plan>` prints).

tests/engine/test_plan_text.py holds the same cut against real Terraform output; these are the shapes a
light root does not produce."""

from __future__ import annotations

import pytest

from prenv.core.plan import human_plan

BODY = """Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  ~ update in-place

Terraform will perform the following actions:

  # aws_ssm_parameter.image will be updated in-place
  ~ resource "aws_ssm_parameter" "image" {
      ~ value = (sensitive value)
    }

Plan: 0 to add, 1 to change, 0 to destroy.
"""

WARNING = """
Warning: Check block assertion failed

  on check.tf line 3, in check "always":
   3:     condition     = var.pr_number < 0

a warning from a check block
"""


@pytest.mark.parametrize(
    "before",
    [
        "",
        "aws_ssm_parameter.image: Refreshing state... [id=/prenv/x/image]\n\n",
        "Acquiring state lock. This may take a few moments...\n"
        "data.aws_vpc.default: Reading...\n"
        "data.aws_vpc.default: Still reading... [10s elapsed]\n"
        "data.aws_vpc.default: Read complete after 12s [id=vpc-1]\n"
        'module.db[0].aws_db_instance.this["a b"]: Refreshing state... [id=db-1]\n'
        "module.app.aws_ecs_service.this (deposed object 1a2b3c4d): Refreshing state... [id=svc]\n"
        "ephemeral.aws_secretsmanager_secret_version.pw: Opening...\n\n",
    ],
    ids=["nothing", "refresh", "every progress line"],
)
@pytest.mark.parametrize(
    "after",
    ["", WARNING, "\nReleasing state lock. This may take a few moments...\n", WARNING + WARNING],
    ids=["nothing", "a warning", "lock released", "two warnings"],
)
def test_the_plan_is_what_show_prints(before: str, after: str) -> None:
    assert human_plan(before + BODY + after) == BODY


def test_lines_inside_the_plan_are_kept() -> None:
    drift = (
        "Note: Objects have changed outside of Terraform\n\n"
        "Terraform detected the following changes made outside of Terraform since the\n"
        'last "terraform apply" which may have affected this plan:\n\n'
        "  # aws_cloudwatch_log_group.this has changed\n\n"
        "Unless you have made equivalent changes to your configuration...\n\n"
        "─────────────────────────────────────────────────────────────────────────────\n\n"
    )
    assert human_plan("aws_cloudwatch_log_group.this: Refreshing state... [id=x]\n\n" + drift + BODY) == (
        drift + BODY
    )


def test_no_changes() -> None:
    text = (
        "No changes. Your infrastructure matches the configuration.\n\n"
        "Terraform has compared your real infrastructure against your configuration\n"
        "and found no differences, so no changes are needed.\n"
    )
    assert human_plan("data.aws_vpc.default: Reading...\n\n" + text) == text


def test_nothing_but_progress_is_no_plan() -> None:
    assert human_plan("") == ""
    assert human_plan("data.aws_vpc.default: Reading...\n\n") == ""
