"""The human-readable plan a deploy reports is what `terraform show <plan file>` prints, though the deploy
never runs that `show` (real Terraform against moto, the light root)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.domain import Command
from prenv.core.errors import FailureReason
from prenv.core.naming import names_for
from tests.helpers import light_config, write_config

pytestmark = pytest.mark.terraform

# A check that fails: Terraform prints its warning after the plan, and `show` does not.
CHECK = """check "pr_number_is_negative" {
  assert {
    condition     = var.pr_number < 0
    error_message = "a warning printed after the plan"
  }
}
"""


def plan_and_show(services: Services, image: str) -> tuple[str, str]:
    """The plan text of a deploy's plan, and `terraform show -no-color` of the same saved plan."""
    job = wiring.invocation(services, "21")
    tgt = wiring.target(job.ports, job.config, Command.DEPLOY, job.number, image=image)
    with wiring.engine(job.ports, job.config, tgt) as eng:
        outcome, plan_file, changed = eng.plan()
        shown = eng.tf.run(
            ["show", "-no-color", str(plan_file)], reason=FailureReason.PLAN_FAILED, what="terraform show"
        ).stdout
        assert changed
        eng.apply(outcome, plan_file, changed)
    return outcome.plan_text, shown


def test_the_plan_text_is_what_show_prints(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    (light_root / "check.tf").write_text(CHECK)
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    services = Services(env=aws_env, out=io.StringIO(), err=io.StringIO(), cwd=tmp_path)

    created, shown = plan_and_show(services, "example/app:1")
    assert created == shown.lstrip("\n")
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in created
    assert "Warning" not in created

    # Changed outside Terraform, and by the next commit: the plan refreshes (progress lines) and updates.
    prefix = names_for(21, repository).name_prefix
    boto("logs").put_retention_policy(logGroupName=f"/prenv/{prefix}", retentionInDays=7)
    updated, shown = plan_and_show(services, "example/app:2")
    assert updated == shown.lstrip("\n")
    assert "~ retention_in_days = 7 -> 1" in updated
    assert "Refreshing state" not in updated
