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
