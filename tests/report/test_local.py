"""The sandbox's comment: what prenv would post, printed and written to a file, never sent."""

from __future__ import annotations

import io
from pathlib import Path

from prenv.core.domain import DestroyOutcome
from prenv.core.marker import Marker, parse_marker
from prenv.report.pr import LocalCommentReporter, comment_body
from tests.github.conftest import deployed, make_config, make_ctx


def test_each_state_is_written_and_printed(tmp_path: Path) -> None:
    out, path = io.StringIO(), tmp_path / "comments" / "pr.md"
    config = make_config()
    local = LocalCommentReporter(config=config, path=path, out=out)
    ctx = make_ctx(sandbox=True)

    local.started(ctx)
    assert path.read_text() == comment_body("deploying", ctx, config)
    local.ready(ctx, deployed())
    ready = comment_body("ready", ctx, config, deploy=deployed())
    assert path.read_text() == ready
    assert parse_marker(ready) == Marker()
    assert "hunter2-Sup3r-S3cret" not in ready
    local.ready(ctx, deployed())  # the same body again: not printed twice

    printed = out.getvalue()
    assert printed.count(f"The PR comment prenv would post (also in {path}):") == 2
    assert ready.rstrip("\n") in printed


def test_nothing_for_a_pr_that_never_had_a_preview(tmp_path: Path) -> None:
    out, path = io.StringIO(), tmp_path / "pr.md"
    local = LocalCommentReporter(config=make_config(), path=path, out=out)
    local.destroyed(make_ctx("destroy"), DestroyOutcome(existed=False))
    assert not path.exists()
    assert out.getvalue() == ""


def test_comment_disabled(tmp_path: Path) -> None:
    path = tmp_path / "pr.md"
    local = LocalCommentReporter(config=make_config("comment: {enabled: false}\n"), path=path)
    local.started(make_ctx())
    assert not path.exists()


def test_sensitive_values_cover_every_form() -> None:
    from prenv.core.domain import Output
    from prenv.report.pr import sensitive_values

    values = sensitive_values(
        (
            Output("plain", "not secret", False),
            Output("password", "s3cr3t-pass", True),
            Output("creds", {"user": "admin-user", "key": "k3y-v4lue"}, True),
        )
    )
    assert "not secret" not in values
    assert {"s3cr3t-pass", "admin-user", "k3y-v4lue", '{"key":"k3y-v4lue","user":"admin-user"}'} <= set(
        values
    )


def test_the_actions_runtime_masks_each_sensitive_value(tmp_path: Path) -> None:
    from prenv.report.actions import ActionsReporter
    from prenv.report.runtime import ActionsSettings, Runtime

    out = io.StringIO()
    runtime = Runtime(ActionsSettings(in_actions=True), out=out)
    ActionsReporter(runtime, make_config()).ready(make_ctx(), deployed())
    assert "::add-mask::hunter2-Sup3r-S3cret\n" in out.getvalue()
    assert "::add-mask::https://pr-7.preview.example/" not in out.getvalue()


def test_waiting_edits_the_deploying_comment_at_most_every_30_seconds(tmp_path: Path) -> None:
    from prenv.core.readiness import Phase, Progress

    now = [100.0]
    path = tmp_path / "pr.md"
    local = LocalCommentReporter(config=make_config(), path=path, clock=lambda: now[0])
    ctx = make_ctx(sandbox=True)
    pending = Progress(Phase.WAITING, "waiting for 1 task of app:2 to run", ("0 of 1 running, 1 starting",))
    unhealthy = Progress(Phase.WAITING, "waiting for 1 target to be healthy in the target group")

    local.waiting(ctx, pending)
    assert "waiting for 1 task of app:2 to run" in path.read_text()
    assert "0 of 1 running, 1 starting" in path.read_text()
    now[0] += 29
    local.waiting(ctx, unhealthy)  # too soon: the next edit shows it
    assert "1 task of app:2" in path.read_text()
    now[0] += 1
    local.waiting(ctx, unhealthy)
    assert "waiting for 1 target to be healthy" in path.read_text()
    now[0] += 60
    local.waiting(ctx, Progress(Phase.READY, "ready: 1 task of app:2 running"))  # the ready comment says it
    assert "waiting for 1 target to be healthy" in path.read_text()
