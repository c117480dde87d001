"""`prenv logs PR [--since 10m] [--follow]`: a preview's container logs (CloudWatch), like `kubectl logs`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from prenv.aws.client import AwsError
from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.config import parse_duration
from prenv.core.domain import Command
from prenv.core.errors import ExitStatus, FailureReason, PrenvError, UsageError
from prenv.render import describe

# Late events: CloudWatch may ingest an event after newer ones; each poll looks back this far.
LOOKBACK_MS = 15_000


def parse_since(text: str) -> timedelta:
    try:
        since = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None
    if since <= timedelta(0):
        raise UsageError("--since must be longer than 0, such as 10m")
    return since


def _order(record: describe.LogRecord) -> tuple[datetime, str]:
    return record.at, record.event_id


def tail(
    fetch: Callable[[int], Iterable[dict[str, object]]],
    start_ms: int,
    emit: Callable[[describe.LogRecord], None],
    *,
    follow: bool,
    sleep: Callable[[float], None],
    interval: float = 2.0,
) -> None:
    """Emit every event from `start_ms`, once each; with `follow`, poll for new ones until interrupted."""
    seen: dict[str, int] = {}  # event id -> timestamp, for events inside the look-back window
    newest = start_ms
    while True:
        # Sorted by time across streams (FilterLogEvents interleaves them; not every emulator does).
        batch = sorted(map(describe.log_record, fetch(max(start_ms, newest - LOOKBACK_MS))), key=_order)
        for record in batch:
            stamp = int(record.at.timestamp() * 1000)
            key = f"{record.stream}/{record.event_id}"  # ids are unique per stream (at least)
            if record.event_id and key in seen:
                continue
            seen[key] = stamp
            newest = max(newest, stamp)
            emit(record)
        if not follow:
            return
        seen = {key: value for key, value in seen.items() if value >= newest - LOOKBACK_MS}
        sleep(interval)


def run(
    services: Services,
    pr: str | None,
    *,
    since: str = "1h",
    follow: bool = False,
    as_json: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> ExitStatus:
    window = parse_since(since)
    preview = wiring.open_preview(services, Command.LOGS, pr)
    group = preview.location.log_group
    render = describe.log_json if as_json else describe.render_log

    def fetch(start_ms: int) -> Iterable[dict[str, object]]:
        return preview.aws.log_events(group, start_ms=start_ms)

    def emit(record: describe.LogRecord) -> None:
        services.out.write(render(record) + "\n")
        services.out.flush()

    start = describe.since_start(window, datetime.now(UTC))
    try:
        tail(fetch, start, emit, follow=follow, sleep=sleep)
    except AwsError as exc:
        if exc.code == "ResourceNotFoundException":
            number = preview.location.pr
            raise PrenvError(
                f"log group {group} does not exist in {preview.location.region}",
                reason=FailureReason.PREVIEW_NOT_FOUND,
                hint=f"the preview of PR {number} may not be deployed; see `prenv status {number}`",
            ) from None
        raise
    except KeyboardInterrupt:  # the way out of --follow
        return ExitStatus.SUCCESS
    return ExitStatus.SUCCESS
