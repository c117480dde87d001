"""Cleanup's side of sleep (`cleanup.sleep_after`) and of the cost report.

- `read_records`: each preview's deploy record (its cost ledger, for the report) and, for a sleeping
  one, its sleep record (what `prenv.core.cleanup.decide` needs to see a database AWS restarted). One
  S3 GetObject each, several at once.
- `sleep_one`: the preview's parts from its Terraform outputs (read-only `terraform output`), the sleep
  record written first (so a wake knows how many tasks to bring back even when this run dies midway),
  the service scaled to zero and its own database stopped (`prenv.engine.sleep`), the record updated,
  and the PR told (the sticky comment, with what sleeping saves and how to wake it).
- `stop_again_one`: from the sleep record alone (no Terraform): the service at zero and the database
  stopped again.

A failure is reported on the preview's row and retried by the next run; it does not fail the run.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from prenv.aws import sleep as calls
from prenv.aws.client import AwsError
from prenv.commands import wiring
from prenv.commands.wiring import Ports
from prenv.core import ledger as ledgers
from prenv.core import sleep as sleeping
from prenv.core.cleanup import Decision, Preview, Row, format_age
from prenv.core.config import Config, format_duration
from prenv.core.cost import per_day
from prenv.core.domain import Command
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.ledger import Ledger
from prenv.core.sleep import SleepNotice, SleepRecord
from prenv.core.troubleshoot import locate
from prenv.engine.sleep import put_to_sleep
from prenv.github.client import GitHub
from prenv.report.pr import GitHubReporter


@dataclass(frozen=True)
class Records:
    """What the records of one preview say: its ledger and, when it sleeps, its sleep record."""

    ledger: Ledger | None
    sleep: SleepRecord | None


def _map(items: Sequence[Preview], work: Callable[[Preview], Records], concurrency: int) -> list[Records]:
    if concurrency <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="prenv-records") as pool:
        return list(pool.map(work, items))


def read_records(ports: Ports, previews: Sequence[Preview], *, concurrency: int) -> dict[str, Records]:
    """Workspace -> its records. A record that cannot be read or used is noted and taken as none."""

    def one(preview: Preview) -> Records:
        workspace = preview.workspace
        try:
            kept = ledgers.from_record(ports.bucket.read_deploy(workspace)) if preview.deployed_at else None
        except AwsError as exc:
            ports.services.note(f"the cost of {workspace} is unknown: {exc.message}")
            kept = None
        if preview.slept_at is None:
            return Records(kept, None)
        try:
            body = ports.bucket.read_sleep(workspace)
            record = sleeping.from_record(body) if body is not None else None
        except AwsError as exc:
            ports.services.note(f"the sleep record of {workspace} cannot be read: {exc.message}")
            record = None
        except sleeping.SleepRecordError as exc:
            ports.warn(
                f"the sleep record of {workspace} cannot be used ({exc}): it is left as it is; "
                f"deploy the PR again to wake it"
            )
            record = None
        return Records(kept, record)

    found = _map(previews, one, concurrency)
    return {preview.workspace: records for preview, records in zip(previews, found, strict=True)}


@dataclass
class Sleeper:
    """Puts previews to sleep, and keeps them asleep, for one cleanup run."""

    ports: Ports
    config: Config
    github: GitHub
    now: datetime

    def sleep_one(self, row: Row, preview: Preview, decision: Decision, kept: Ledger | None) -> None:
        try:
            record, said = self._sleep(row, kept)
            self._tell(row, preview, decision, record, kept)
        except PrenvError as exc:  # AWS or GitHub refused: the next run tries again
            row.result, row.failure, row.error = f"sleep FAILED ({exc.reason})", exc.reason, exc.one_line()
        else:
            row.result, row.done = said, True

    def stop_again_one(self, row: Row, preview: Preview) -> None:
        record = preview.sleep
        if record is None:  # decide() asks this only of a preview whose sleep record was read
            raise ValueError(f"{row.workspace} has no sleep record to stop its database again")
        try:
            slept = put_to_sleep(self.ports.aws(record.region), record, now=self.now)
            if slept.record != record:
                self.ports.bucket.record_sleep(row.workspace, slept.record.to_record())
        except PrenvError as exc:
            row.result, row.failure, row.error = f"stop FAILED ({exc.reason})", exc.reason, exc.one_line()
            return
        if slept.pending:
            row.result = slept.pending
        elif slept.record.db_stopped_at != record.db_stopped_at or slept.done:
            row.result, row.done = "asleep: " + "; ".join(slept.done or ("database stopped",)), True
        else:
            row.result = f"database {record.db_identifier} still stopped: looked at again on the next run"

    def _sleep(self, row: Row, kept: Ledger | None) -> tuple[SleepRecord, str]:
        tgt = wiring.target(self.ports, self.config, Command.CLEANUP, row.pr_number)
        log = io.StringIO()
        with wiring.engine(self.ports, self.config, tgt, err=log) as eng:
            outputs = eng.read_outputs()
        if outputs is None:
            raise PrenvError(
                f"workspace {row.workspace} is gone",
                reason=FailureReason.SLEEP_FAILED,
                hint="nothing to put to sleep",
            )
        region = wiring.default_region(self.ports, self.config)
        where = locate(outputs, tgt.names, default_region=region)
        aws = self.ports.aws(where.region)
        cluster = where.cluster or tgt.names.base  # terraform/preview's service runs in the base's cluster
        counts = calls.service_counts(aws, cluster, where.service)
        if counts is None:
            raise PrenvError(
                f"the preview's ECS service {where.service} is not in cluster {cluster} of {where.region}",
                reason=FailureReason.SLEEP_FAILED,
                hint=f"check it with `prenv status {row.pr_number}`",
            )
        own_database = "db_endpoint" not in where.derived  # dedicated mode: the outputs name its instance
        record = SleepRecord(
            slept_at=self.now,
            region=where.region,
            cluster=cluster,
            service=where.service,
            desired_count=counts.desired,
            db_identifier=where.db_identifier if own_database else "",
            saves_per_day=None if kept is None else kept.per_day - kept.asleep_per_day,
            url=where.url,
        )
        self.ports.bucket.record_sleep(row.workspace, record.to_record())
        slept = put_to_sleep(aws, record, now=self.now)
        if slept.record != record:
            self.ports.bucket.record_sleep(row.workspace, slept.record.to_record())
        said = "asleep: " + "; ".join(slept.done or ("service already at 0 tasks",))
        if slept.pending:
            said += f"; {slept.pending}"
        if record.saves_per_day is not None:
            said += f"; saves {per_day(record.saves_per_day)}"
        return slept.record, said

    def _tell(
        self, row: Row, preview: Preview, decision: Decision, record: SleepRecord, kept: Ledger | None
    ) -> None:
        if not self.config.comment.enabled:
            return
        tgt = wiring.target(self.ports, self.config, Command.CLEANUP, row.pr_number)
        memory = wiring.deploy_record(self.ports, self.config, tgt)  # read only: idleness stays as it was
        reporter = GitHubReporter(
            config=self.config,
            template_dir=self.ports.services.cwd,
            github=self.github,
            warn=self.ports.warn,
            memory=memory,
        )
        sleep_after = self.config.cleanup.sleep_after
        notice = SleepNotice(
            slept_at=record.slept_at,
            idle=format_age(self.now - preview.last_activity),
            sleep_after=format_duration(sleep_after) if sleep_after else "",
            saves_per_day=record.saves_per_day,
            asleep_per_day=None if kept is None else kept.rate(asleep=True),
            database=record.db_identifier if record.db_stopped_at else "",
            expires_at=decision.expires_at,
        )
        reporter.asleep(tgt.ctx, notice)


def with_sleep(preview: Preview, records: Mapping[str, Records]) -> Preview:
    """The preview with its sleep record, when it has one that could be read."""
    found = records.get(preview.workspace)
    return replace(preview, sleep=found.sleep) if found and found.sleep else preview
