"""The sandbox's terminal: step lines with the elapsed time, Terraform's progress at a bounded rate,
the compact summary of a plan and a deploy (a fake clock: no test waits)."""

from __future__ import annotations

import io

from prenv.core.domain import DeployOutcome, DestroyOutcome, Output, PlanOutcome
from prenv.core.plan import PlanSummary, ResourceChange
from prenv.report.progress import RISKY_SHOWN, SandboxTerminal, StepLog, TerraformProgress
from tests.github.conftest import make_ctx


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _log() -> tuple[StepLog, io.StringIO, Clock]:
    out, clock = io.StringIO(), Clock()
    return StepLog(out, clock=clock), out, clock


def test_step_lines_carry_the_elapsed_time() -> None:
    log, out, clock = _log()
    log.step("started")
    clock.now += 75.4
    log.step("later")
    log.detail("under it")
    assert out.getvalue().splitlines() == ["[    0s] started", "[ 1m15s] later", "         under it"]
    assert log.last == clock.now


APPLY = [
    "aws_vpc.this: Creating...",
    "aws_db_instance.this: Creating...",
    "aws_vpc.this: Creation complete after 2s [id=vpc-1]",
    "aws_db_instance.this: Still creating... [10s elapsed]",
    "aws_subnet.a: Creating...",
    "aws_subnet.a: Creation complete after 1s [id=subnet-1]",
]


def test_progress_counts_what_terraform_reports_at_most_once_per_interval() -> None:
    log, out, clock = _log()
    progress = TerraformProgress(log, interval=10.0, heartbeat=False)
    progress.started("apply")
    for line in APPLY[:3]:
        clock.now += 1
        progress.line("apply", line)
    assert out.getvalue() == ""  # 3 s: nothing to say yet
    clock.now += 8
    progress.line("apply", APPLY[3])
    assert out.getvalue().splitlines() == [
        "[   11s] terraform apply: applying for 11s; 1 resource done, aws_db_instance.this for 9s"
    ]
    for line in APPLY[4:]:
        clock.now += 1
        progress.line("apply", line)
    assert len(out.getvalue().splitlines()) == 1  # the next line waits for the interval
    clock.now += 9
    progress.tick()  # the heartbeat: Terraform is silent, prenv is not
    assert out.getvalue().splitlines()[-1] == (
        "[   22s] terraform apply: applying for 22s; 2 resources done, aws_db_instance.this for 20s"
    )
    progress.finished("apply", 0)
    clock.now += 30
    progress.tick()  # no command runs: nothing to report
    assert len(out.getvalue().splitlines()) == 2


def test_a_silent_command_gets_heartbeats() -> None:
    log, out, clock = _log()
    progress = TerraformProgress(log, interval=10.0, heartbeat=False)
    progress.started("show")
    for _ in range(35):
        clock.now += 1
        progress.tick()
    assert out.getvalue().splitlines() == [
        "[   10s] terraform show: running for 10s",
        "[   20s] terraform show: running for 20s",
        "[   30s] terraform show: running for 30s",
    ]


def test_a_command_beside_the_followed_one_is_not_followed() -> None:
    """A deploy runs `show -json` beside its apply: the apply, started first, stays the one reported."""
    log, out, clock = _log()
    progress = TerraformProgress(log, interval=10.0, heartbeat=False)
    progress.started("apply")
    progress.line("apply", APPLY[0])
    progress.started("show")
    progress.line("show", "aws_vpc.other: Creation complete after 1s [id=vpc-2]")
    progress.finished("show", 0)
    clock.now += 11
    progress.tick()
    assert out.getvalue().splitlines() == [
        "[   11s] terraform apply: applying for 11s; 0 resources done, aws_vpc.this for 11s"
    ]
    progress.finished("apply", 0)
    clock.now += 30
    progress.tick()
    assert len(out.getvalue().splitlines()) == 1


def test_show_lines_prints_each_of_terraforms_lines() -> None:
    log, out, _ = _log()
    progress = TerraformProgress(log, show_lines=True, heartbeat=False)
    progress.started("apply")
    progress.line("apply", APPLY[0])
    assert out.getvalue() == f"         | {APPLY[0]}\n"


def _plan(risky: int) -> PlanSummary:
    deleted = [
        ResourceChange(
            address=f"aws_ssm_parameter.p{i}", type="aws_ssm_parameter", name=f"p{i}", action="delete"
        )
        for i in range(risky)
    ]
    db = ResourceChange(address="aws_db_instance.db", type="aws_db_instance", name="db", action="replace")
    return PlanSummary(add=1, destroy=risky + 1, replace=1, changes=(*deleted, db))


def test_the_compact_summary_names_a_few_risky_changes_and_counts_the_rest() -> None:
    log, out, _ = _log()
    SandboxTerminal(log).planned(make_ctx(), PlanOutcome(summary=_plan(7), plan_text="the whole plan"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "[    0s] plan: 1 to add, 0 to change, 8 to destroy, 1 to replace"
    assert lines[1] == "         risky: aws_db_instance.db will be replaced (its data is lost)"
    assert lines[2] == "         risky: aws_ssm_parameter.p0 will be deleted"
    assert lines[-1] == f"         risky: {8 - RISKY_SHOWN} more in the comment"
    assert len(lines) == 1 + RISKY_SHOWN + 1
    assert "the whole plan" not in out.getvalue()


def test_verbose_shows_the_plan_every_risky_change_and_every_output() -> None:
    log, out, _ = _log()
    terminal = SandboxTerminal(log, verbose=True)
    terminal.planned(make_ctx(), PlanOutcome(summary=_plan(7), plan_text="the whole plan"))
    outputs = (Output("url", "http://x.invalid/", False), Output("password", "hunter2", True))
    terminal.ready(
        make_ctx(), DeployOutcome(_plan(0), "", applied=True, url="http://x.invalid/", outputs=outputs)
    )
    text = out.getvalue()
    assert "the whole plan" in text
    assert text.count("risky: ") == 8
    assert "output password = (sensitive value)" in text
    assert "hunter2" not in text


def test_ready_labels_the_url_as_the_emulators_and_lists_output_names() -> None:
    log, out, _ = _log()
    outputs = (Output("url", "http://x.invalid/", False), Output("password", "hunter2", True))
    terminal = SandboxTerminal(log)
    terminal.ready(
        make_ctx(), DeployOutcome(_plan(0), "", applied=True, url="http://x.invalid/", outputs=outputs)
    )
    terminal.ready(
        make_ctx(), DeployOutcome(_plan(0), "", applied=False, url="http://x.invalid/", outputs=outputs)
    )
    assert out.getvalue().splitlines() == [
        "[    0s] applied: 1 to add, 0 to change, 1 to destroy, 1 to replace",
        "         URL: http://x.invalid/ (emulated by moto: nothing answers at this address)",
        "         outputs: url, password (sensitive)",
        "[    0s] no changes: nothing was applied",  # the same outputs: not listed again
        "         URL: http://x.invalid/ (emulated by moto: nothing answers at this address)",
    ]


def test_destroyed_lines() -> None:
    log, out, _ = _log()
    terminal = SandboxTerminal(log)
    terminal.destroyed(make_ctx("destroy"), DestroyOutcome(existed=True, destroyed=4, workspace_deleted=True))
    terminal.destroyed(make_ctx("destroy"), DestroyOutcome(existed=False))
    assert out.getvalue().splitlines() == [
        "[    0s] destroyed 4 resource(s); workspace pr-7 deleted",
        "[    0s] nothing to destroy: workspace pr-7 does not exist",
    ]
