"""What `prenv cleanup` does with each preview: pure decisions over plain values.

A preview is destroyed when its PR is closed, merged or gone. An open PR's preview that has been idle
(no deploy) for longer than `max_age` is first warned on the PR, and destroyed on a later run once
`warn_before` has passed since the warning, unless it was deployed again meanwhile or carries the keep
label. With `sleep_after` set, an open PR's preview idle that long is put to sleep first (its service
scaled to zero, its own database stopped); a sleeping preview is left alone, but for its database, which
AWS starts again after seven days and cleanup stops again. Everything else is left alone. A resource
tagged by prenv whose workspace has no state is an orphan (a destroy that lost its state, a run killed
between create and state write).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from prenv.core import naming
from prenv.core.errors import FailureReason
from prenv.core.sleep import SleepRecord

# Every resource of a preview carries these tags (the roots' default_tags).
REPOSITORY_TAG = "prenv:repository"
WORKSPACE_TAG = "prenv:workspace"


class Action(StrEnum):
    DESTROY = "destroy"
    WARN = "warn"
    KEEP = "keep"  # exempt by label
    LEAVE = "leave"
    SLEEP = "sleep"  # scale the service to zero, stop the database
    STOP_AGAIN = "stop again"  # a sleeping preview's database that AWS restarted (or that did not stop)


class PrState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"
    MISSING = "missing"  # the PR does not exist (deleted, or a number from another repository)
    NOT_OPEN = "not open"  # closed or gone, not told apart within the listing budget


@dataclass(frozen=True)
class Lock:
    """A lock object beside a workspace's state."""

    id: str
    who: str
    operation: str
    created: str
    modified: datetime


@dataclass(frozen=True)
class Preview:
    """A workspace found in the state bucket, with its activity times."""

    workspace: str
    pr_number: int
    state_modified: datetime
    deployed_at: datetime | None = None  # the last `prenv deploy` (even one that changed nothing)
    warned_at: datetime | None = None  # the last idle warning
    lock: Lock | None = None
    slept_at: datetime | None = None  # the sleep record's time: the preview is asleep
    sleep: SleepRecord | None = None  # the sleep record's contents, once read

    @property
    def sleeping(self) -> bool:
        return self.slept_at is not None or self.sleep is not None

    @property
    def last_activity(self) -> datetime:
        return max(t for t in (self.state_modified, self.deployed_at) if t is not None)


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: PrState
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    expires_at: datetime | None = None


def format_age(age: timedelta) -> str:
    """`3d 4h`, `5h 12m`, `42m`, `0m`: the two largest units."""
    minutes = max(int(age.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def decide(
    preview: Preview,
    pr: PullRequest | None,
    *,
    now: datetime,
    max_age: timedelta,
    warn_before: timedelta,
    keep_label: str,
    sleep_after: timedelta | None = None,
) -> Decision:
    """The action for one preview. `pr` None means the PR is not among the repository's PRs.

    Rows, in order: a PR not open is destroyed; a sleeping preview whose database must be stopped again
    is stopped again (also under the keep label, which keeps a preview as it is); the keep label keeps;
    an idle preview is warned, then destroyed, as without sleep; a preview idle for `sleep_after` (and
    not yet destroyed) sleeps; a sleeping one is left asleep.
    """
    if pr is None or pr.state is not PrState.OPEN:
        state = pr.state if pr is not None else PrState.MISSING
        reasons = {
            PrState.MERGED: "PR merged",
            PrState.CLOSED: "PR closed",
            PrState.MISSING: "PR does not exist",
        }
        return Decision(Action.DESTROY, reasons.get(state, "PR is not open"))
    labelled = bool(keep_label) and keep_label in pr.labels
    if labelled and not _stop_due(preview, now):
        return Decision(Action.KEEP, f"labelled {keep_label}")
    idle = now - preview.last_activity
    expires: datetime | None = None
    if idle >= max_age and not labelled:
        warned_at = preview.warned_at
        if warned_at is None or warned_at < preview.last_activity:  # never warned, or deployed since
            return Decision(
                Action.WARN,
                f"idle {format_age(idle)}, over the {format_age(max_age)} limit: warned",
                expires_at=now + warn_before,
            )
        expires = warned_at + warn_before
        if now >= expires:
            return Decision(
                Action.DESTROY, f"idle {format_age(idle)} and warned {format_age(now - warned_at)} ago"
            )
    waiting = f"; destroyed after {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    sleep = preview.sleep
    if sleep is not None and sleep.stop_due(now):
        why = (
            "its database did not stop"
            if sleep.db_stopped_at is None
            else f"AWS restarts a stopped database after {format_age(now - sleep.db_stopped_at)}"
        )
        return Decision(Action.STOP_AGAIN, f"asleep, {why}{waiting}", expires_at=expires)
    if preview.sleeping:
        since = sleep.slept_at if sleep else preview.slept_at
        asleep = f" {format_age(now - since)}" if since else ""
        reason = f"asleep{asleep} (idle {format_age(idle)}){waiting}"
        return Decision(Action.LEAVE, reason, expires_at=expires)
    if sleep_after is not None and idle >= sleep_after and not labelled:
        return Decision(
            Action.SLEEP,
            f"idle {format_age(idle)}, over the {format_age(sleep_after)} sleep limit{waiting}",
            expires_at=expires,
        )
    if expires is not None:
        return Decision(Action.LEAVE, f"idle, warned{waiting}", expires_at=expires)
    return Decision(Action.LEAVE, f"active (idle {format_age(idle)})")


def _stop_due(preview: Preview, now: datetime) -> bool:
    return preview.sleep is not None and preview.sleep.stop_due(now)


@dataclass(frozen=True)
class StaleLock:
    workspace: str
    pr_number: int
    lock: Lock
    age: timedelta

    def command(self) -> str:
        return f"prenv unlock --pr {self.pr_number} --lock-id {self.lock.id}"


def stale_locks(previews: Sequence[Preview], *, now: datetime, threshold: timedelta) -> list[StaleLock]:
    """Locks older than `threshold` (longer than any job runs): left behind by a cancelled run."""
    found = [
        StaleLock(p.workspace, p.pr_number, p.lock, now - p.lock.modified)
        for p in previews
        if p.lock is not None and now - p.lock.modified > threshold
    ]
    return sorted(found, key=lambda s: s.pr_number)


@dataclass
class Row:
    """One line of the cleanup report: what was decided for a preview and what came of it."""

    workspace: str
    pr_number: int
    pr_state: PrState
    idle: str
    decision: Action
    reason: str
    result: str = ""  # what came of the decision, as the report shows it
    done: bool = False  # the decision was carried out (destroyed, warned)
    failure: FailureReason | None = None  # why carrying it out failed
    error: str = ""  # the failure's one line
    log: str = ""  # the output of a destroy that failed
    per_day: Decimal | None = None  # what it costs per day as found (asleep: the asleep rate); None: unknown
    so_far: Decimal | None = None  # what it has cost since its first deploy; None: unknown
    idle_for: timedelta = timedelta(0)  # time since its last deploy


@dataclass(frozen=True)
class Orphan:
    """A resource tagged by prenv whose workspace has no state; or a pull request's database on the
    shared server whose workspace has none (`database` set, `arn` then says which and where)."""

    arn: str
    workspace: str
    pr: str
    database: str = ""


def find_orphans(resources: Iterable[Mapping[str, Any]], *, live_workspaces: set[str]) -> list[Orphan]:
    """Tagged resources (Tagging API mappings) whose `prenv:workspace` has no state."""
    orphans = []
    for item in resources:
        tags = {tag["Key"]: tag["Value"] for tag in item.get("Tags", [])}
        workspace = tags.get(WORKSPACE_TAG, "")
        if workspace and workspace not in live_workspaces:
            orphans.append(Orphan(arn=item["ResourceARN"], workspace=workspace, pr=tags.get("prenv:pr", "")))
    return sorted(orphans, key=lambda o: (o.workspace, o.arn))


def untracked(arns: Iterable[str], state: Mapping[str, Any] | None) -> list[str]:
    """The ARNs (of resources tagged for a workspace) that its Terraform state (the state file's JSON)
    does not hold: what a run killed during an apply leaves behind. A resource counts as held when its
    ARN, or the ARN's last part (an ID such as `sg-0123`), is the value of an attribute in the state."""
    held: set[str] = set()
    stack: list[Any] = [state or {}]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            held.add(item.removesuffix(":*"))
        elif isinstance(item, Mapping):
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    left = []
    for arn in arns:
        name = arn.removesuffix(":*")
        last = name.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        if name not in held and last not in held:
            left.append(arn)
    return sorted(left)


@dataclass(frozen=True)
class Fleet:
    """What the previews cost per day as cleanup found them, with the idle ones' part."""

    per_day: Decimal  # the priced previews, with the base (its share in each, or the base itself)
    idle_per_day: Decimal  # the part of the idle previews (idle for `idle_after` or longer)
    priced: int  # previews whose cost is known
    unpriced: int  # previews without a ledger (deployed before prenv kept one): not in the figures
    idle: int  # idle previews among the priced
    base_per_day: Decimal | None  # the base as found running (None: not found)

    @property
    def idle_share(self) -> Decimal:
        """The idle previews' part of the fleet's cost per day, from 0 to 1."""
        return self.idle_per_day / self.per_day if self.per_day else Decimal(0)


def fleet(rows: Sequence[Row], *, idle_after: timedelta, base_per_day: Decimal | None) -> Fleet:
    """The fleet's cost per day from the rows (each priced with its share of the base)."""
    priced = [r for r in rows if r.per_day is not None]
    idle = [r for r in priced if r.idle_for >= idle_after]
    return Fleet(
        per_day=sum((r.per_day or Decimal(0) for r in priced), Decimal(0)),
        idle_per_day=sum((r.per_day or Decimal(0) for r in idle), Decimal(0)),
        priced=len(priced),
        unpriced=len(rows) - len(priced),
        idle=len(idle),
        base_per_day=base_per_day,
    )


def find_orphan_databases(
    databases: Iterable[str], *, server: str, workspace_pattern: str, live_workspaces: set[str]
) -> list[Orphan]:
    """The pull requests' databases on the shared server `server` whose workspace has no state.

    A deploy makes a PR's database only once its workspace exists, and a destroy drops it before the
    workspace goes, so a database whose workspace is missing is left over. `live_workspaces` must be
    listed after `databases`: a database seen then had its workspace already.
    """
    found = []
    for name in databases:
        number = naming.pr_number_from_database(name)
        if number is None:
            continue
        workspace = naming.workspace_name(workspace_pattern, number)
        if workspace not in live_workspaces:
            found.append(Orphan(f"database {name} on {server}", workspace, str(number), database=name))
    return sorted(found, key=lambda o: (o.workspace, o.arn))
