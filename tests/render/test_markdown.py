"""The PR comment and the job summary: golden files for every state, and what each must contain.

Regenerate the golden files after an intended change with `PRENV_UPDATE_GOLDEN=1 pytest tests/render/
test_markdown.py` and review the diff.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prenv.core.domain import Output, PlanOutcome
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.plan import PlanSummary
from prenv.render import markdown as render
from tests.golden import fixtures as fx
from tests.golden.markdown_check import problems

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("PRENV_UPDATE_GOLDEN") == "1"
HOSTS = ("github.com/octo-org/shop/actions/runs/", ".console.aws.amazon.com/", "pr-42.preview.example.com")
EXPIRES = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run with PRENV_UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs: PRENV_UPDATE_GOLDEN=1 rewrites it"


CASES: dict[str, Callable[[], str]] = {
    "comment_deploying.md": lambda: render.comment("deploying", fx.context(), config=fx.config()),
    "comment_deploying_local.md": lambda: render.comment(
        "deploying", fx.context(run_url="", head_sha="", head_ref=""), config=fx.config()
    ),
    "comment_deploying_waiting.md": lambda: render.comment(
        "deploying",
        fx.context(),
        config=fx.config(mask_patterns=["cannot read secret \\S+"]),
        waiting=fx.waiting(),
    ),
    "comment_planned.md": lambda: render.comment(
        "planned", fx.context(command="plan"), config=fx.config(), plan=fx.plan()
    ),
    "comment_no_changes_plan.md": lambda: render.comment(
        "no_changes",
        fx.context(command="plan"),
        config=fx.config(),
        plan=PlanOutcome(PlanSummary(), "No changes. Your infrastructure matches the configuration."),
    ),
    "comment_ready.md": lambda: render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy()),
    "comment_ready_sandbox.md": lambda: render.comment(
        "ready", fx.context(sandbox=True, run_url=""), config=fx.config(), deploy=fx.deploy()
    ),
    "comment_ready_environment.md": lambda: render.comment(
        "ready",
        fx.context(comment_environment="staging"),
        config=fx.config(environment="staging"),
        deploy=fx.deploy(outputs=(Output("url", "https://pr-42.preview.example.com", False),)),
    ),
    "comment_no_changes.md": lambda: render.comment(
        "no_changes", fx.context(), config=fx.config(), deploy=fx.deploy(applied=False)
    ),
    "comment_failed.md": lambda: render.comment(
        "failed", fx.context(), config=fx.config(), error=fx.error(), plan=fx.plan()
    ),
    "comment_failed_destroy.md": lambda: render.comment(
        "failed",
        fx.context(command="destroy"),
        config=fx.config(),
        error=PrenvError("the state of pr-42 is locked", reason=FailureReason.STATE_LOCKED),
    ),
    "comment_destroyed.md": lambda: render.comment(
        "destroyed", fx.context(command="destroy"), config=fx.config(), destroy=fx.destroy()
    ),
    "comment_destroyed_kept.md": lambda: render.comment(
        "destroyed",
        fx.context(command="destroy"),
        config=fx.config(),
        destroy=fx.destroy(workspace_deleted=False),
    ),
    "comment_destroyed_nothing.md": lambda: render.comment(
        "destroyed",
        fx.context(command="destroy"),
        config=fx.config(),
        destroy=fx.destroy(existed=False, destroyed=0, workspace_deleted=False),
    ),
    "comment_destroyed_warning.md": lambda: render.comment(
        "destroyed",
        fx.context(command="destroy"),
        config=fx.config(),
        destroy=fx.destroy(
            warnings=(f"the pre_destroy hook failed: task 5f1c2e: app exited with code 2 {fx.INJECTION}",)
        ),
    ),
    "comment_idle_warning.md": lambda: render.comment(
        "idle_warning", fx.context(command="cleanup"), config=fx.config(), expires_at=EXPIRES
    ),
    # Issue 17: the cost (ready, no changes, the summary's breakdown), sleep and wake.
    "comment_ready_cost.md": lambda: render.comment(
        "ready", fx.context(), config=fx.config(), deploy=fx.deploy_with_cost()
    ),
    "comment_ready_cost_first.md": lambda: render.comment(
        "ready", fx.context(), config=fx.config(), deploy=fx.deploy_with_cost(existed=False, base_found=False)
    ),
    "comment_sleeping.md": lambda: render.comment(
        "sleeping", fx.context(command="cleanup"), config=fx.config(), asleep=fx.sleep_notice()
    ),
    "comment_sleeping_warned.md": lambda: render.comment(
        "sleeping",
        fx.context(command="cleanup"),
        config=fx.config(),
        asleep=fx.sleep_notice(expires_at=EXPIRES, saves_per_day=None, asleep_per_day=None, database=""),
    ),
    "comment_awake.md": lambda: render.comment(
        "awake",
        fx.context(command="wake"),
        config=fx.config(),
        deploy=fx.deploy(applied=False),
        woken=fx.wake_notice(),
    ),
    "summary_ready_cost.md": lambda: render.job_summary(
        fx.context(), "ready", config=fx.config(), deploy=fx.deploy_with_cost()
    ),
    "summary_planned.md": lambda: render.job_summary(
        fx.context(command="plan"), "planned", config=fx.config(), plan=fx.plan()
    ),
    "summary_ready.md": lambda: render.job_summary(
        fx.context(), "ready", config=fx.config(), deploy=fx.deploy()
    ),
    "summary_failed.md": lambda: render.job_summary(
        fx.context(), "failed", config=fx.config(), error=fx.error(), plan=fx.plan()
    ),
    "summary_destroyed.md": lambda: render.job_summary(
        fx.context(command="destroy"), "destroyed", config=fx.config(), destroy=fx.destroy()
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    text = CASES[name]()
    assert problems(text, allowed_link_hosts=HOSTS) == []
    check_golden(name, text)


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.md")) == sorted(CASES)


def test_rendering_is_pure() -> None:
    assert render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy()) == render.comment(
        "ready", fx.context(), config=fx.config(), deploy=fx.deploy()
    )


def _order(text: str, *needles: str) -> list[int]:
    positions = [text.index(needle) for needle in needles]
    assert positions == sorted(positions), f"expected in this order: {needles}"
    return positions


def test_ready_shows_url_then_summary_risky_table_plan_outputs_links() -> None:
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy())
    _order(
        text,
        "https://pr-42.preview.example.com",
        "**Applied:** 4 to add, 2 to change, 2 to destroy, 1 to replace, 1 to import, 1 to move.",
        "2 risky changes",
        "| Action | Resource |",
        "<details><summary>Terraform plan",
        "| Output | Value |",
        "`prenv logs --pr 42`",
    )


def test_risky_changes_come_first_with_stateful_types_flagged() -> None:
    text = render.comment("planned", fx.context(command="plan"), config=fx.config(), plan=fx.plan())
    risky = text[text.index("risky changes") : text.index("| Action |")]
    db, legacy = risky.index("`aws_db_instance.db`"), risky.index("`aws_ssm_parameter.legacy`")
    assert db < legacy
    db_line = next(line for line in risky.splitlines() if "aws_db_instance.db" in line)
    assert "🚨 **DATA LOSS:**" in db_line
    assert "**replaced**" in db_line
    assert "`engine_version`" in db_line
    legacy_line = next(line for line in risky.splitlines() if "aws_ssm_parameter.legacy" in line)
    assert "DATA LOSS" not in legacy_line
    assert "**destroyed**" in legacy_line


def test_resource_table_lists_every_change_with_its_action() -> None:
    text = render.comment("planned", fx.context(command="plan"), config=fx.config(), plan=fx.plan())
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert [row.split("|")[2].strip().split()[0] for row in rows] == [
        "replace",
        "delete",
        "update",
        "update",
        "create",
        "create",
        "create",
        "import",
        "move",
    ]
    assert "`aws_ssm_parameter.config` (from `aws_ssm_parameter.settings`)" in text


def test_plan_is_a_folded_diff_with_markers_at_column_zero() -> None:
    text = render.comment("planned", fx.context(command="plan"), config=fx.config(), plan=fx.plan())
    plan = text[text.index("```diff\n") : text.index("\n```\n\n</details>")]
    lines = plan.splitlines()
    assert '-/+ resource "aws_db_instance" "db" {' in lines
    assert '+   resource "aws_lb_target_group" "app" {' in lines
    assert '-   resource "aws_ssm_parameter" "legacy" {' in lines
    assert '!   resource "aws_ecs_service" "app" {' in lines  # Terraform's `~`: GitHub colours `!` lines
    assert "+       password                 = (sensitive value)" in lines
    assert '!       engine_version           = "14.12" -> "15.7" # forces replacement' in lines
    # no change marker is left indented, where GitHub would not colour it
    assert not [line for line in lines if line.lstrip()[:2] in ("+ ", "- ", "~ ") and line[0] == " "]
    assert text.index("<details><summary>Terraform plan (102 lines)</summary>") < text.index("```diff")


def test_diff_text_moves_markers_and_drops_colour_codes() -> None:
    source = (
        '\x1b[1m  # a will be created\x1b[0m\n  \x1b[32m+\x1b[0m resource "x" "a" {\n      ~ b = 1 -> 2\n'
    )
    assert render.diff_text(source) == '  # a will be created\n+   resource "x" "a" {\n!       b = 1 -> 2'
    assert render.diff_text('  <= data "x" "y" {\n') == '  <= data "x" "y" {'


def _reference_diff(text: str) -> str:
    """The definition diff_text must match: each line's leading marker swapped with its indentation."""
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n"):
        match = re.match(r"([ \t]+)([-+~])([ \t].*)?$", line)
        if not match:
            out.append(line)
            continue
        indent, marker, rest = match.group(1), match.group(2), match.group(3) or ""
        out.append(("!" if marker == "~" else marker) + indent + rest)
    return "\n".join(out)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=" \t+-~<=x\r", max_size=8), max_size=30))
def test_diff_text_matches_its_definition(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert render.diff_text(text) == _reference_diff(text)


def test_deploying_shows_the_commit_and_the_run() -> None:
    text = render.comment("deploying", fx.context(), config=fx.config())
    assert "Commit `3f2a9c1` of branch feature/checkout:" in text
    assert f"[Follow the workflow run]({fx.RUN_URL})" in text
    local = render.comment("deploying", fx.context(run_url=""), config=fx.config())
    assert "workflow run" not in local


def test_ready_without_url_output_says_so() -> None:
    deploy = dataclasses.replace(fx.deploy(), url="")
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=deploy)
    assert "no URL: the Terraform root has no `url` output" in text


def test_ready_url_that_is_not_http_is_not_a_link() -> None:
    deploy = dataclasses.replace(fx.deploy(), url="javascript:alert(1)")
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=deploy)
    assert "**Preview:** `javascript:alert(1)`" in text
    assert problems(text) == []


def test_ready_links_to_console_and_commands() -> None:
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy())
    assert (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#logsV2:log-groups/log-group/$252Fprenv$252F1a2b3c$252Fpr42"
    ) in text
    assert (
        "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prenv/services/prenv-1a2b3c-pr42-app/health"
        "?region=eu-west-1"
    ) in text
    assert "`prenv logs --pr 42`" in text
    assert "`prenv exec --pr 42`" in text


def test_links_only_for_the_outputs_that_exist() -> None:
    only_logs = (Output("log_group", "/prenv/x/pr42", False), Output("region", "us-east-1", False))
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy(outputs=only_logs))
    assert "us-east-1.console.aws.amazon.com/cloudwatch" in text
    assert "ECS service" not in text
    assert "prenv exec" not in text
    none = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy(outputs=()))
    assert "Logs and shell" not in none


def test_links_take_names_from_arns_and_ignore_a_bad_region() -> None:
    outputs = (
        Output("region", "eu-central-1", False),
        Output("ecs_cluster", "arn:aws:ecs:eu-central-1:123456789012:cluster/prenv", False),
        Output("ecs_service", "arn:aws:ecs:eu-central-1:123456789012:service/prenv/app-pr42", False),
    )
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy(outputs=outputs))
    assert "/ecs/v2/clusters/prenv/services/app-pr42/health?region=eu-central-1" in text
    bad = (Output("region", "x/../evil.com#", False), *outputs[1:])
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy(outputs=bad))
    assert "console" not in text
    assert "`prenv exec --pr 42`" in text


def test_sandbox_has_no_console_links() -> None:
    text = render.comment("ready", fx.context(sandbox=True), config=fx.config(), deploy=fx.deploy())
    assert "console.aws.amazon.com" not in text
    assert "`prenv logs --pr 42`" in text
    assert "AWS is emulated" in text


def test_outputs_table_hides_sensitive_values() -> None:
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy())
    assert "| `db_password` | _(sensitive)_ |" in text
    assert '| `db_endpoint` | `{"host": "db.internal", "port": 5432}` |' in text


def test_failed_shows_error_reason_next_step_and_plan() -> None:
    text = render.comment("failed", fx.context(), config=fx.config(), error=fx.error(), plan=fx.plan())
    _order(
        text,
        "**Error:** terraform apply failed in workspace pr\\-42",
        "**Failure reason:** `apply-failed`",
        "**What to do next:** Read the Terraform error below and fix the configuration\\.",
        "comment `/prenv deploy` to try again",
        "<details><summary>Error details</summary>",
        "Cannot upgrade postgres from 14.12 to 15.7",
        "**Plan:** 4 to add",
        "<details><summary>Terraform plan",
    )


def test_failed_keeps_the_end_of_a_long_error() -> None:
    detail = "\n".join(f"line {n}" for n in range(5000)) + "\nError: the real cause"
    error = PrenvError("terraform plan failed", reason=FailureReason.PLAN_FAILED, detail=detail)
    text = render.comment("failed", fx.context(), config=fx.config(), error=error)
    assert "Error: the real cause" in text
    assert "line 0\n" not in text
    assert "Error details (the last " in text
    assert problems(text) == []


def test_failed_destroy_says_how_to_retry() -> None:
    text = CASES["comment_failed_destroy.md"]()
    assert "**Failure reason:** `state-locked`" in text
    assert "comment `/prenv destroy` to try again" in text


def test_destroyed_states() -> None:
    assert (
        "Destroyed 14 resources. Workspace `pr-42` and its state are deleted."
        in CASES["comment_destroyed.md"]()
    )
    assert "is kept because its state is not empty" in CASES["comment_destroyed_kept.md"]()
    assert "Nothing to destroy: workspace `pr-42` did not exist." in CASES["comment_destroyed_nothing.md"]()


@pytest.mark.parametrize(
    ("expires", "shown"),
    [
        (EXPIRES, "**2025-03-14 09:30 UTC**"),
        (datetime(2025, 3, 14, 11, 30, tzinfo=timezone(timedelta(hours=2))), "**2025-03-14 09:30 UTC**"),
        (datetime(2025, 3, 14, 9, 30), "**2025-03-14 09:30 UTC**"),  # naive means UTC
        (None, "by the next scheduled cleanup"),
    ],
)
def test_idle_warning_says_when_and_how_to_keep(expires: datetime | None, shown: str) -> None:
    config = fx.config()
    config = dataclasses.replace(config, cleanup=dataclasses.replace(config.cleanup, keep_label="keep-me"))
    text = render.comment("idle_warning", fx.context(), config=config, expires_at=expires)
    assert shown in text
    assert "push a commit" in text
    assert "`/prenv deploy`" in text
    assert "add the label `keep-me`" in text
    assert "for 1w" in text


def test_unknown_state_or_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown comment state 'done'; expected one of deploying"):
        render.comment("done", fx.context(), config=fx.config())
    with pytest.raises(ValueError, match="unknown summary kind 'deploying'; expected one of planned"):
        render.job_summary(fx.context(), "deploying", config=fx.config())


def test_job_summary_holds_the_full_plan_and_the_table() -> None:
    text = render.job_summary(fx.context(), "ready", config=fx.config(), deploy=fx.deploy())
    assert render.diff_text(fx.PLAN_TEXT) in text
    assert "| 🚚 | move | `aws_ssm_parameter.config` (from `aws_ssm_parameter.settings`) |" in text
    assert "## ✅ Deployed: PR #42 · Add the checkout page" in text
    assert "branch feature/checkout · commit `3f2a9c1`" in text


def test_actions_reporter_writes_the_summary(tmp_path: Path) -> None:
    from prenv.report.actions import ActionsReporter
    from prenv.report.runtime import ActionsSettings, Runtime

    summary = tmp_path / "summary.md"
    settings = ActionsSettings(summary_path=str(summary), output_path=str(tmp_path / "out"))
    reporter = ActionsReporter(Runtime(settings, io.StringIO()), fx.config())
    reporter.ready(fx.context(), fx.deploy())
    text = summary.read_text(encoding="utf-8")
    assert text == render.job_summary(fx.context(), "ready", config=fx.config(), deploy=fx.deploy())
    assert fx.DB_PASSWORD not in text


def test_the_summary_of_a_deploy_shows_its_phases_and_the_comment_does_not() -> None:
    from prenv.core.phases import Phase

    deploy = dataclasses.replace(
        fx.deploy(),
        phases=(Phase("init", 6.1), Phase("database", 2.2), Phase("plan", 11.7), Phase("apply", 72.4)),
    )
    text = render.job_summary(fx.context(), "ready", config=fx.config(), deploy=deploy)
    _order(
        text,
        "https://pr-42.preview.example.com",
        "**Time to URL:** init 6.1s, database 2.2s, plan 11.7s, apply 1m 12s (total 1m 32s)",
        "**Applied:**",
    )
    assert "Time to URL" not in render.comment("ready", fx.context(), config=fx.config(), deploy=deploy)
    assert "Time to URL" not in render.job_summary(
        fx.context(), "ready", config=fx.config(), deploy=fx.deploy()
    )
