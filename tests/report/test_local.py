"""The sandbox's comment: what prenv would post, each state in a file of its own, never sent."""

from __future__ import annotations

import io
from pathlib import Path

from prenv.core.domain import DestroyOutcome
from prenv.core.marker import Marker, parse_marker
from prenv.report.pr import LocalCommentReporter, comment_body
from tests.github.conftest import deployed, make_config, make_ctx


def test_each_state_gets_its_own_file_and_one_line(tmp_path: Path) -> None:
    said: list[str] = []
    directory = tmp_path / "comments"
    config = make_config()
    local = LocalCommentReporter(config=config, directory=directory, say=said.append)
    ctx = make_ctx(sandbox=True)

    local.started(ctx)
    local.ready(ctx, deployed())
    local.ready(ctx, deployed())  # the same body again: no new file, nothing said
    local.destroyed(make_ctx("destroy", sandbox=True), DestroyOutcome(existed=True, destroyed=3))

    ready = comment_body("ready", ctx, config, deploy=deployed())
    deploying = comment_body("deploying", ctx, config)
    assert sorted(p.name for p in directory.iterdir()) == ["1-deploying.md", "2-ready.md", "3-destroyed.md"]
    assert (directory / "1-deploying.md").read_text() == deploying
    assert (directory / "2-ready.md").read_text() == ready
    assert "destroyed" in (directory / "3-destroyed.md").read_text()
    assert parse_marker(ready) == Marker()
    assert "hunter2-Sup3r-S3cret" not in ready
    # "deploying" only says a deploy started: written, not announced.
    assert said == [f"comment (ready): {directory / '2-ready.md'} ({len(ready):,} characters)", said[1]]
    assert said[1].startswith(f"comment (destroyed): {directory / '3-destroyed.md'} (")


def test_full_prints_each_comment_whole(tmp_path: Path) -> None:
    said: list[str] = []
    config = make_config()
    local = LocalCommentReporter(config=config, directory=tmp_path, say=said.append, full=True)
    ctx = make_ctx(sandbox=True)
    local.ready(ctx, deployed())
    printed = "\n".join(said)
    assert f"The PR comment prenv would post (ready, also in {tmp_path / '1-ready.md'}):" in printed
    assert comment_body("ready", ctx, config, deploy=deployed()).rstrip("\n") in printed


def test_clear_removes_only_an_earlier_runs_comment_files(tmp_path: Path) -> None:
    for name in ("1-deploying.md", "5-no-changes.md", "notes.md", "1-deploying.txt"):
        (tmp_path / name).write_text("x")
    LocalCommentReporter(config=make_config(), directory=tmp_path).clear()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1-deploying.txt", "notes.md"]


def test_nothing_for_a_pr_that_never_had_a_preview(tmp_path: Path) -> None:
    said: list[str] = []
    local = LocalCommentReporter(config=make_config(), directory=tmp_path / "c", say=said.append)
    local.destroyed(make_ctx("destroy"), DestroyOutcome(existed=False))
    assert not (tmp_path / "c").exists()
    assert said == []


def test_comment_disabled(tmp_path: Path) -> None:
    local = LocalCommentReporter(config=make_config("comment: {enabled: false}\n"), directory=tmp_path / "c")
    local.started(make_ctx())
    assert not (tmp_path / "c").exists()


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
    from prenv.core.readiness import ReadyPhase, ReadyProgress

    now = [100.0]
    local = LocalCommentReporter(config=make_config(), directory=tmp_path, clock=lambda: now[0])
    ctx = make_ctx(sandbox=True)
    pending = ReadyProgress(
        ReadyPhase.WAITING, "waiting for 1 task of app:2 to run", ("0 of 1 running, 1 starting",)
    )
    unhealthy = ReadyProgress(ReadyPhase.WAITING, "waiting for 1 target to be healthy in the target group")

    def comments() -> list[str]:  # each edit of the comment is a file of its own, in order
        files = sorted(tmp_path.glob("*.md"), key=lambda path: int(path.name.split("-")[0]))
        return [path.read_text(encoding="utf-8") for path in files]

    local.waiting(ctx, pending)
    assert len(comments()) == 1
    assert "waiting for 1 task of app:2 to run" in comments()[-1]
    assert "0 of 1 running, 1 starting" in comments()[-1]
    now[0] += 29
    local.waiting(ctx, unhealthy)  # too soon: the next edit shows it
    assert len(comments()) == 1
    now[0] += 1
    local.waiting(ctx, unhealthy)
    assert len(comments()) == 2
    assert "waiting for 1 target to be healthy" in comments()[-1]
    now[0] += 60
    local.waiting(ctx, ReadyProgress(ReadyPhase.READY, "ready: 1 task of app:2 running"))
    assert len(comments()) == 2  # the ready comment says it
