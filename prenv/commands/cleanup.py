"""`prenv cleanup`: destroy previews of closed PRs and idle previews; report stale locks and orphans.

1. One paginated listing of the state bucket gives every preview, its age, prenv's records and locks.
2. The PRs' states come from the open-PR list and, for previews not found there, the closed-PR list
   (newest first, within a page budget): never one request per preview.
3. `prenv.core.cleanup.decide` says what to do with each; destroys run in this process through the
   same code as `prenv destroy` (workspace deleted only when its state is empty, Deployments inactive,
   comment updated), several at once; warnings update the PR's sticky comment and leave a record;
   with `cleanup.sleep_after`, idle previews sleep and sleeping ones stay asleep (`prenv.commands.sleep`).
4. Stale locks and orphaned tagged resources are reported; orphans are deleted only on request. Each
   preview's cost per day and so far (its deploy record's ledger), the fleet's and the idle previews'
   share are reported.
`--dry-run` changes nothing anywhere: no Terraform run, no S3 write, no GitHub write. Every GitHub
request of the run goes through one adapter, so the count printed at the end is all of them.
"""

from __future__ import annotations

import io
import math
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from prenv.aws import orphans
from prenv.aws.client import Aws, AwsError
from prenv.commands import costing, wiring
from prenv.commands.destroy import destroy_preview
from prenv.commands.sleep import Records, Sleeper, read_records, with_sleep
from prenv.commands.wiring import Ports, Services
from prenv.core import cleanup, naming
from prenv.core.config import Config, format_duration
from prenv.core.domain import Command
from prenv.core.errors import ExitStatus, FailureReason, PrenvError
from prenv.core.naming import base_name
from prenv.github.client import GitHub
from prenv.render import cleanup_report
from prenv.report.pr import GitHubReporter


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    max_age: timedelta | None = None
    warn_before: timedelta | None = None
    concurrency: int | None = None
    delete_orphans: bool = False
    stale_lock_age: timedelta | None = None


def pull_states(github: GitHub, numbers: set[int]) -> dict[int, cleanup.PullRequest]:
    """The states of the PRs `numbers`, from the open list and (bounded) the closed list."""
    found: dict[int, cleanup.PullRequest] = {}
    for pr in github.pulls("open"):
        if pr.number in numbers:
            found[pr.number] = cleanup.PullRequest(pr.number, cleanup.PrState.OPEN, pr.labels)
            if len(found) == len(numbers):
                return found
    remaining = numbers - set(found)
    if not remaining:
        return found
    budget = 100 * (1 + math.ceil(len(remaining) / 100))  # items, in pages of 100
    exhausted = True
    for seen, pr in enumerate(github.pulls("closed", sort="updated", direction="desc"), start=1):
        if pr.number in remaining:
            state = cleanup.PrState.MERGED if pr.merged else cleanup.PrState.CLOSED
            found[pr.number] = cleanup.PullRequest(pr.number, state, pr.labels)
            remaining.discard(pr.number)
        if not remaining:
            break
        if seen >= budget:
            exhausted = False
            break
    # Every closed PR was listed: the rest do not exist. Else they are just "not open" (closed or gone).
    unknown = cleanup.PrState.MISSING if exhausted else cleanup.PrState.NOT_OPEN
    found.update({n: cleanup.PullRequest(n, unknown) for n in remaining})
    return found


@dataclass
class _Run:
    services: Services
    config: Config
    ports: Ports
    github: GitHub

    def say(self, text: str = "") -> None:
        self.services.out.write(text + "\n")
        self.services.out.flush()

    def destroy_one(self, row: cleanup.Row) -> None:
        log = io.StringIO()
        try:
            destroy_preview(self.ports, self.config, row.pr_number, out=log, err=log, actions=False)
        except PrenvError as exc:
            row.result, row.failure, row.error = f"FAILED ({exc.reason})", exc.reason, exc.one_line()
            row.log = log.getvalue()
        except Exception as exc:  # a boundary: one broken destroy must not stop the others (run exits 3)
            row.result, row.failure = f"FAILED ({FailureReason.UNEXPECTED})", FailureReason.UNEXPECTED
            row.error = f"{type(exc).__name__}: {exc}"
            row.log = log.getvalue() + traceback.format_exc()
        else:
            row.result, row.done = "destroyed", True

    def warn_one(self, row: cleanup.Row, expires_at: datetime) -> None:
        try:
            tgt = wiring.target(self.ports, self.config, Command.CLEANUP, row.pr_number)
            record = wiring.deploy_record(self.ports, self.config, tgt)
            if self.config.comment.enabled:
                reporter = GitHubReporter(
                    config=self.config,
                    template_dir=self.services.cwd,
                    github=self.github,
                    warn=self.ports.warn,
                    memory=record,
                )
                reporter.warn_idle(tgt.ctx, expires_at)
            self.ports.bucket.record_warning(row.workspace, expires_at)
        except PrenvError as exc:  # GitHub or AWS refused: the warning is retried on the next run
            row.result, row.failure, row.error = "warning FAILED", exc.reason, exc.one_line()
        else:
            row.result, row.done = f"warned: destroy after {expires_at:%Y-%m-%d %H:%M} UTC", True


def _each(items: Iterable[cleanup.Row], work: Callable[[cleanup.Row], None], concurrency: int) -> None:
    rows = list(items)
    if concurrency <= 1 or len(rows) <= 1:
        for row in rows:
            work(row)
        return
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="prenv-cleanup") as pool:
        list(pool.map(work, rows))


def run(services: Services, options: Options) -> ExitStatus:
    config = wiring.load_config(services)
    ports = wiring.build_ports(services, config)
    now = services.clock()
    max_age = options.max_age or config.cleanup.max_age
    warn_before = options.warn_before if options.warn_before is not None else config.cleanup.warn_before
    concurrency = options.concurrency or config.cleanup.concurrency
    lock_age = options.stale_lock_age or config.cleanup.stale_lock_age
    gh = ports.github()
    if gh is None:
        raise PrenvError(
            "prenv cleanup needs GITHUB_TOKEN to learn which pull requests are still open",
            reason=FailureReason.GITHUB_TOKEN_MISSING,
            hint="pass `github-token: ${{ github.token }}` to the action, or set GITHUB_TOKEN",
        )
    job = _Run(services, config, ports, gh)
    bucket = ports.bucket
    listing = bucket.list_previews()
    job.say(
        f"prenv cleanup of {ports.repository}: {len(listing.previews)} preview(s) in "
        f"s3://{config.backend.bucket}/{config.backend.workspace_key_prefix}/ (max age "
        f"{format_duration(max_age)}, warning {format_duration(warn_before)} ahead)"
        + ("; DRY RUN: nothing will be changed" if options.dry_run else "")
    )
    prs = pull_states(gh, {p.pr_number for p in listing.previews})
    records = read_records(ports, listing.previews, concurrency=concurrency)
    base = _base_per_day(ports, config)
    rows: list[cleanup.Row] = []
    expiries: dict[str, datetime] = {}
    decided: dict[str, tuple[cleanup.Preview, cleanup.Decision]] = {}
    for listed in listing.previews:
        preview = with_sleep(listed, records)
        pr = prs.get(preview.pr_number)
        decision = cleanup.decide(
            preview,
            pr,
            now=now,
            max_age=max_age,
            warn_before=warn_before,
            keep_label=config.cleanup.keep_label,
            sleep_after=config.cleanup.sleep_after,
        )
        rows.append(
            _costed(
                cleanup.Row(
                    preview.workspace,
                    preview.pr_number,
                    pr.state if pr else cleanup.PrState.MISSING,
                    cleanup.format_age(now - preview.last_activity),
                    decision.action,
                    decision.reason,
                    idle_for=now - preview.last_activity,
                ),
                preview,
                records.get(preview.workspace),
                now=now,
                base_share=None if base is None else base / len(listing.previews),
            )
        )
        decided[preview.workspace] = (preview, decision)
        if decision.expires_at is not None and decision.action is cleanup.Action.WARN:
            expiries[preview.workspace] = decision.expires_at
    to_destroy = [r for r in rows if r.decision is cleanup.Action.DESTROY]
    to_warn = [r for r in rows if r.decision is cleanup.Action.WARN]
    to_sleep = [r for r in rows if r.decision is cleanup.Action.SLEEP]
    to_stop = [r for r in rows if r.decision is cleanup.Action.STOP_AGAIN]
    if options.dry_run:
        for row in to_destroy + to_warn + to_sleep + to_stop:
            row.result = f"would {row.decision}"
    else:
        _each(to_warn, lambda r: job.warn_one(r, expiries[r.workspace]), 1)  # writes: one at a time
        sleeper = Sleeper(ports, config, gh, now)
        for row in to_sleep:  # comments too: one at a time
            ledger = records[row.workspace].ledger if row.workspace in records else None
            sleeper.sleep_one(row, *decided[row.workspace], ledger)
        for row in to_stop:
            sleeper.stop_again_one(row, decided[row.workspace][0])
        _each(to_destroy, job.destroy_one, concurrency)
        for workspace in listing.leftover_records:
            bucket.forget(workspace)
    destroyed = {r.workspace for r in to_destroy if r.done}
    live = {p.workspace for p in listing.previews} - destroyed
    stale = [
        replace(s, lock=bucket.read_lock(s.workspace, s.lock.modified))
        for s in cleanup.stale_locks(listing.previews, now=now, threshold=lock_age)
    ]
    found, deleted = _orphans(ports, config, live, delete=options.delete_orphans and not options.dry_run)
    idle_after = config.cleanup.sleep_after or max_age
    fleet = cleanup.fleet(rows, idle_after=idle_after, base_per_day=base)
    return report(
        services, rows, stale, found, deleted, dry_run=options.dry_run, github_calls=gh.calls, fleet=fleet
    )


def _base_per_day(ports: Ports, config: Config) -> Decimal | None:
    """What the shared base costs per day, from what runs in AWS; None when it is not found."""
    region = wiring.default_region(ports, config)
    try:
        base = costing.base_estimate(ports, region, base_name(ports.repository))
    except AwsError as exc:
        ports.services.note(f"the base's cost is left out of the fleet's: {exc.message}")
        return None
    return None if base is None else base.per_day


def _costed(
    row: cleanup.Row,
    preview: cleanup.Preview,
    found: Records | None,
    *,
    now: datetime,
    base_share: Decimal | None,
) -> cleanup.Row:
    """The row with the preview's cost per day as it was found (asleep or not) and its cost so far."""
    kept = found.ledger if found else None
    if kept is None:
        return row
    asleep = preview.sleeping
    slept_at = preview.sleep.slept_at if preview.sleep else preview.slept_at
    own = kept.asleep_per_day if asleep else kept.per_day
    row.per_day = own + (kept.share_per_day if base_share is None else base_share)
    row.so_far = kept.so_far(now, slept_at=slept_at if asleep else None)
    return row


def _orphans(
    ports: Ports, config: Config, live: set[str], *, delete: bool
) -> tuple[list[cleanup.Orphan], dict[str, str]]:
    """Resources tagged for a workspace that has no state (and, in shared mode, databases on the shared
    server), with the result of deleting each when `delete`."""
    aws = ports.aws(config.backend.region)
    found = cleanup.find_orphans(orphans.tagged_resources(aws, ports.repository), live_workspaces=live)
    found = [o for o in found if not orphans.gone(aws, o.arn)]
    deleted = _delete_orphans(found, aws) if delete else {}
    if config.database.mode == "shared":
        databases, dropped = _orphan_databases(ports, config, delete=delete)
        found, deleted = found + databases, {**deleted, **dropped}
    return found, deleted


def _orphan_databases(
    ports: Ports, config: Config, *, delete: bool
) -> tuple[list[cleanup.Orphan], dict[str, str]]:
    """The pull requests' databases on the shared server whose workspace has no state, and (with
    `delete`) the result of dropping each, through the same SQL and Data API as `prenv destroy`."""
    database = wiring.shared_database(ports, config)
    names = database.databases()
    # Listed after the databases (a database seen had its workspace by then): one more listing, so a
    # PR deployed while this cleanup ran is never taken for an orphan.
    live = {p.workspace for p in ports.bucket.list_previews().previews}
    found = cleanup.find_orphan_databases(
        names,
        server=naming.shared_database_server(ports.repository),
        workspace_pattern=config.workspace_pattern,
        live_workspaces=live,
    )
    results: dict[str, str] = {}
    for orphan in found if delete else []:
        try:
            database.drop_database(orphan.database)
        except PrenvError as exc:  # reported per database; the others still get their turn
            results[orphan.arn] = f"FAILED: {exc.message}"
        else:
            results[orphan.arn] = "deleted"
    return found, results


def _delete_orphans(found: list[cleanup.Orphan], aws: Aws) -> dict[str, str]:
    """ARN -> result of the deletion ('deleted', 'FAILED: ...', or 'not deleted: ...')."""
    results: dict[str, str] = {}
    for orphan in found:
        delete = orphans.deleter_for(orphan.arn)
        if delete is None:
            results[orphan.arn] = "not deleted: prenv does not delete this kind; delete it by hand"
            continue
        try:
            delete(aws)
        except AwsError as exc:  # reported per resource; the others still get their turn
            results[orphan.arn] = f"FAILED: {exc.message}"
        else:
            results[orphan.arn] = "deleted"
    return results


def report(
    services: Services,
    rows: Sequence[cleanup.Row],
    stale: Sequence[cleanup.StaleLock],
    found: Sequence[cleanup.Orphan],
    deleted: Mapping[str, str],
    *,
    dry_run: bool,
    github_calls: int,
    fleet: cleanup.Fleet | None = None,
) -> ExitStatus:
    """The report on the terminal, in the job summary and as step outputs; the exit status."""
    out = services.out
    for line in cleanup_report.terminal(rows, stale, found, deleted, fleet=fleet):
        out.write(line + "\n")
    failed = [r for r in rows if r.failure is not None]
    runtime = services.runtime()
    for row in failed:
        if row.log:
            with runtime.group(f"prenv cleanup: log of {row.workspace}"):
                out.write(row.log.rstrip() + "\n")
        out.write(f"  {row.workspace}: {row.error}\n")
    out.write(f"GitHub API requests: {github_calls}\n")
    out.flush()
    runtime.write_summary(cleanup_report.markdown(rows, stale, found, deleted, dry_run=dry_run, fleet=fleet))
    count = {action: sum(1 for r in rows if r.decision is action and r.done) for action in cleanup.Action}
    runtime.set_outputs(
        {
            "previews": str(len(rows)),
            "destroyed": "0" if dry_run else str(count[cleanup.Action.DESTROY]),
            "warned": "0" if dry_run else str(count[cleanup.Action.WARN]),
            "slept": "0" if dry_run else str(count[cleanup.Action.SLEEP]),
            "stale-locks": str(len(stale)),
            "orphans": str(len(found)),
        }
    )
    destroy_failures = [r for r in failed if r.decision is cleanup.Action.DESTROY]
    if destroy_failures:
        names = ", ".join(f"{r.workspace} ({r.failure})" for r in destroy_failures)
        total = sum(r.decision is cleanup.Action.DESTROY for r in rows)
        if any(r.failure is FailureReason.UNEXPECTED for r in destroy_failures):
            raise PrenvError(
                f"{len(destroy_failures)} of {total} destroys failed: {names}; prenv failed unexpectedly",
                reason=FailureReason.UNEXPECTED,
                hint="please report it with the traceback in the log above",
                exit_status=ExitStatus.UNEXPECTED,
            )
        raise PrenvError(
            f"{len(destroy_failures)} of {total} destroys failed: {names}",
            reason=FailureReason.CLEANUP_FAILED,
            hint="their workspaces and state were kept and the next cleanup run retries them; "
            "see the log above",
        )
    runtime.set_outputs({"failure-reason": ""})  # a failed warning is retried next run; not a failure
    return ExitStatus.SUCCESS
