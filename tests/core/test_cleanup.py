"""Cleanup's decisions, one row per case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prenv.core.cleanup import (
    Action,
    Decision,
    Lock,
    Orphan,
    Preview,
    PrState,
    PullRequest,
    decide,
    find_orphan_databases,
    format_age,
    stale_locks,
)
from prenv.core.sleep import SleepRecord

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MAX_AGE, WARN = 7 * DAY, DAY


def preview(
    idle: timedelta, *, deployed: timedelta | None = None, warned: timedelta | None = None
) -> Preview:
    """A preview whose state was last written `idle` ago (and deployed / warned that long ago)."""
    return Preview(
        workspace="pr-7",
        pr_number=7,
        state_modified=NOW - idle,
        deployed_at=None if deployed is None else NOW - deployed,
        warned_at=None if warned is None else NOW - warned,
    )


OPEN = PullRequest(7, PrState.OPEN)
KEEP = PullRequest(7, PrState.OPEN, ("bug", "prenv:keep"))

CASES = [
    # (case, preview, PR, expected action, expected reason)
    ("merged", preview(DAY), PullRequest(7, PrState.MERGED), Action.DESTROY, "PR merged"),
    ("closed", preview(timedelta(0)), PullRequest(7, PrState.CLOSED), Action.DESTROY, "PR closed"),
    ("deleted PR (404)", preview(DAY), PullRequest(7, PrState.MISSING), Action.DESTROY, "PR does not exist"),
    ("not in any list", preview(DAY), None, Action.DESTROY, "PR does not exist"),
    ("closed or gone", preview(DAY), PullRequest(7, PrState.NOT_OPEN), Action.DESTROY, "PR is not open"),
    (
        "closed, keep label",
        preview(DAY),
        PullRequest(7, PrState.CLOSED, ("prenv:keep",)),
        Action.DESTROY,
        "PR closed",
    ),
    ("open, fresh", preview(2 * DAY), OPEN, Action.LEAVE, "active (idle 2d)"),
    (
        "open, idle just under",
        preview(MAX_AGE - timedelta(minutes=1)),
        OPEN,
        Action.LEAVE,
        "active (idle 6d 23h)",
    ),
    ("open, idle, keep label", preview(30 * DAY), KEEP, Action.KEEP, "labelled prenv:keep"),
    ("open, idle, not warned", preview(8 * DAY), OPEN, Action.WARN, "idle 8d, over the 7d limit: warned"),
    (
        "open, idle, warned recently",
        preview(9 * DAY, warned=timedelta(hours=3)),
        OPEN,
        Action.LEAVE,
        "idle, warned; destroyed after 2026-11-30 09:00 UTC",
    ),
    (
        "open, idle, warning expired",
        preview(9 * DAY, warned=DAY + timedelta(hours=1)),
        OPEN,
        Action.DESTROY,
        "idle 9d and warned 1d 1h ago",
    ),
    (
        "old state but deployed recently",
        preview(20 * DAY, deployed=DAY),
        OPEN,
        Action.LEAVE,
        "active (idle 1d)",
    ),
    (
        "warned, then deployed again",
        preview(20 * DAY, deployed=2 * DAY, warned=3 * DAY),
        OPEN,
        Action.LEAVE,
        "active (idle 2d)",
    ),
    (
        "warned long ago, idle again since",
        preview(30 * DAY, deployed=9 * DAY, warned=20 * DAY),
        OPEN,
        Action.WARN,
        "idle 9d, over the 7d limit: warned",
    ),
]


@pytest.mark.parametrize(("case", "prev", "pr", "action", "reason"), CASES, ids=[c[0] for c in CASES])
def test_decide(case: str, prev: Preview, pr: PullRequest | None, action: Action, reason: str) -> None:
    decision = decide(prev, pr, now=NOW, max_age=MAX_AGE, warn_before=WARN, keep_label="prenv:keep")
    assert (decision.action, decision.reason) == (action, reason)


# --- Sleep (cleanup.sleep_after = 2d): the rows it adds, as a table -----------------------------------

SLEEP_AFTER = 2 * DAY


def asleep(
    idle: timedelta,
    slept: timedelta,
    *,
    db_stopped: timedelta | None,
    database: str = "prenv-abc123-pr7-db",
    warned: timedelta | None = None,
) -> Preview:
    """A preview idle `idle`, asleep for `slept`, its database stopped `db_stopped` ago (None: not yet)."""
    record = SleepRecord(
        slept_at=NOW - slept,
        region="us-east-1",
        cluster="prenv-abc123",
        service="prenv-abc123-pr7-app",
        desired_count=1,
        db_identifier=database,
        db_stopped_at=None if db_stopped is None else NOW - db_stopped,
    )
    found = preview(idle, warned=warned)
    return Preview(
        found.workspace,
        7,
        found.state_modified,
        warned_at=found.warned_at,
        slept_at=NOW - slept,
        sleep=record,
    )


SLEEP_CASES = [
    # (case, preview, PR, expected action, expected reason)
    ("awake, idle under the sleep limit", preview(DAY), OPEN, Action.LEAVE, "active (idle 1d)"),
    (
        "awake, idle over the sleep limit",
        preview(3 * DAY),
        OPEN,
        Action.SLEEP,
        "idle 3d, over the 2d sleep limit",
    ),
    ("awake, idle, keep label", preview(3 * DAY), KEEP, Action.KEEP, "labelled prenv:keep"),
    ("awake, idle, PR closed", preview(3 * DAY), PullRequest(7, PrState.CLOSED), Action.DESTROY, "PR closed"),
    (
        "asleep, database stopped a day ago: not touched",
        asleep(3 * DAY, DAY, db_stopped=DAY),
        OPEN,
        Action.LEAVE,
        "asleep 1d (idle 3d)",
    ),
    (
        "asleep, database not stopped yet (it was busy)",
        asleep(3 * DAY, DAY, db_stopped=None),
        OPEN,
        Action.STOP_AGAIN,
        "asleep, its database did not stop",
    ),
    (
        "asleep without a database of its own, for days",
        asleep(6 * DAY, 4 * DAY, db_stopped=None, database=""),
        OPEN,
        Action.LEAVE,
        "asleep 4d (idle 6d)",
    ),
    (
        "asleep, keep label added since: left asleep",
        asleep(3 * DAY, DAY, db_stopped=DAY),
        KEEP,
        Action.KEEP,
        "labelled prenv:keep",
    ),
    (
        "asleep, keep label, database restarted by AWS: stopped again",
        asleep(20 * DAY, 8 * DAY, db_stopped=8 * DAY),
        KEEP,
        Action.STOP_AGAIN,
        "asleep, AWS restarts a stopped database after 8d",
    ),
    (
        "asleep, idle past max_age, not warned: warned as without sleep",
        asleep(8 * DAY, 6 * DAY, db_stopped=6 * DAY),
        OPEN,
        Action.WARN,
        "idle 8d, over the 7d limit: warned",
    ),
    (
        "asleep, warned, warning expired: destroyed as without sleep",
        asleep(9 * DAY, 7 * DAY, db_stopped=DAY, warned=2 * DAY),
        OPEN,
        Action.DESTROY,
        "idle 9d and warned 2d ago",
    ),
    (
        "asleep, warned recently: left asleep until the destroy",
        asleep(8 * DAY, 6 * DAY, db_stopped=6 * DAY, warned=timedelta(hours=3)),
        OPEN,
        Action.LEAVE,
        "asleep 6d (idle 8d); destroyed after 2026-11-30 09:00 UTC",
    ),
    (
        "asleep, warned, database restarted by AWS: stopped again until the destroy",
        asleep(8 * DAY, 7 * DAY, db_stopped=7 * DAY, warned=timedelta(hours=3)),
        OPEN,
        Action.STOP_AGAIN,
        "asleep, AWS restarts a stopped database after 7d; destroyed after 2026-11-30 09:00 UTC",
    ),
    (
        "awake, warned recently (woken, then idle): put to sleep until the destroy",
        preview(8 * DAY, warned=timedelta(hours=3)),
        OPEN,
        Action.SLEEP,
        "idle 8d, over the 2d sleep limit; destroyed after 2026-11-30 09:00 UTC",
    ),
    (
        "listed asleep, its record unreadable: left asleep",
        Preview("pr-7", 7, NOW - 3 * DAY, slept_at=NOW - DAY),
        OPEN,
        Action.LEAVE,
        "asleep 1d (idle 3d)",
    ),
]


@pytest.mark.parametrize(
    ("case", "prev", "pr", "action", "reason"), SLEEP_CASES, ids=[c[0] for c in SLEEP_CASES]
)
def test_decide_with_sleep(
    case: str, prev: Preview, pr: PullRequest | None, action: Action, reason: str
) -> None:
    decision = decide(
        prev,
        pr,
        now=NOW,
        max_age=MAX_AGE,
        warn_before=WARN,
        keep_label="prenv:keep",
        sleep_after=SLEEP_AFTER,
    )
    assert (decision.action, decision.reason) == (action, reason)


@pytest.mark.parametrize(("case", "prev", "pr", "action", "reason"), CASES, ids=[c[0] for c in CASES])
def test_sleep_changes_no_row_of_a_preview_idle_less_than_sleep_after_or_past_max_age(
    case: str, prev: Preview, pr: PullRequest | None, action: Action, reason: str
) -> None:
    """Every row without sleep holds with it, but for open PRs idle between sleep_after and max_age."""
    decision = decide(
        prev, pr, now=NOW, max_age=MAX_AGE, warn_before=WARN, keep_label="prenv:keep", sleep_after=SLEEP_AFTER
    )
    idle = NOW - prev.last_activity
    if pr is not None and pr.state is PrState.OPEN and action is Action.LEAVE and idle >= SLEEP_AFTER:
        assert decision.action is Action.SLEEP
    else:
        assert (decision.action, decision.reason) == (action, reason)


def test_a_database_aws_restarted_after_seven_days_is_stopped_again_then_left() -> None:
    """max_age 14d, sleep_after 1d: asleep from day 1, its database restarted by AWS on day 8."""
    decisions = [
        decide(
            asleep(8 * DAY + timedelta(hours=2), 7 * DAY + timedelta(hours=2), db_stopped=stopped),
            OPEN,
            now=NOW,
            max_age=14 * DAY,
            warn_before=WARN,
            keep_label="prenv:keep",
            sleep_after=DAY,
        )
        for stopped in (7 * DAY + timedelta(hours=2), timedelta(minutes=5))  # before and after a re-stop
    ]
    assert [(d.action, d.reason) for d in decisions] == [
        (Action.STOP_AGAIN, "asleep, AWS restarts a stopped database after 7d 2h"),
        (Action.LEAVE, "asleep 7d 2h (idle 8d 2h)"),
    ]


def test_a_sleep_under_a_warning_carries_the_destroy_time() -> None:
    decision = decide(
        preview(8 * DAY, warned=timedelta(hours=3)),
        OPEN,
        now=NOW,
        max_age=MAX_AGE,
        warn_before=WARN,
        keep_label="prenv:keep",
        sleep_after=SLEEP_AFTER,
    )
    assert decision.expires_at == NOW - timedelta(hours=3) + WARN


def test_warning_carries_the_destroy_time() -> None:
    decision = decide(
        preview(8 * DAY), OPEN, now=NOW, max_age=MAX_AGE, warn_before=WARN, keep_label="prenv:keep"
    )
    assert decision == Decision(Action.WARN, "idle 8d, over the 7d limit: warned", expires_at=NOW + WARN)


def test_no_keep_label_configured() -> None:
    decision = decide(
        preview(30 * DAY, warned=2 * DAY),
        PullRequest(7, PrState.OPEN, ("",)),
        now=NOW,
        max_age=MAX_AGE,
        warn_before=WARN,
        keep_label="",
    )
    assert decision.action is Action.DESTROY


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(0), "0m"),
        (timedelta(minutes=42), "42m"),
        (timedelta(hours=5, minutes=12), "5h 12m"),
        (timedelta(hours=5), "5h"),
        (timedelta(days=3, hours=4, minutes=9), "3d 4h"),
        (timedelta(days=3), "3d"),
    ],
)
def test_format_age(age: timedelta, text: str) -> None:
    assert format_age(age) == text


def test_stale_locks() -> None:
    old = Lock("id-old", "ci", "OperationTypeApply", "", NOW - 3 * timedelta(hours=1))
    new = Lock("id-new", "ci", "OperationTypeApply", "", NOW - timedelta(minutes=5))
    previews = [
        Preview("pr-9", 9, NOW, lock=old),
        Preview("pr-3", 3, NOW, lock=new),
        Preview("pr-4", 4, NOW),
    ]
    found = stale_locks(previews, now=NOW, threshold=timedelta(hours=2))
    assert [(s.workspace, s.age) for s in found] == [("pr-9", timedelta(hours=3))]
    assert found[0].command() == "prenv unlock --pr 9 --lock-id id-old"


def test_a_pull_requests_database_without_its_workspace_is_an_orphan() -> None:
    found = find_orphan_databases(
        ["prenv_pr7", "prenv_pr8", "prenv_pr50001", "notes", "prenv_pr07"],
        server="prenv-abc123-shared",
        workspace_pattern="preview-{number}",
        live_workspaces={"preview-7"},
    )
    assert found == [
        Orphan("database prenv_pr8 on prenv-abc123-shared", "preview-8", "8", database="prenv_pr8")
    ]
