"""`prenv cleanup`: destroy previews of closed PRs and idle previews; report stale locks and orphans.

1. One paginated listing of the state bucket gives every preview, its age, prenv's markers and locks.
2. The PRs' states come from the open-PR list and, for previews not found there, the closed-PR list
   (newest first, within a page budget): never one request per preview.
3. `prenv.cleanup.decide` says what to do with each; destroys go through the same code as
   `prenv destroy` (workspace deleted only when its state is empty, Deployments inactive, comment
   updated), several at once; warnings update the PR's sticky comment and leave a marker.
4. Stale locks and orphaned tagged resources are reported; orphans are deleted only on request.
`--dry-run` changes nothing anywhere: no Terraform run, no S3 write, no GitHub write.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from prenv.aws import orphans
from prenv.commands import activity, destroy
from prenv.commands.common import Services, resolve_repository, target
from prenv.core import cleanup
from prenv.core.config import Config, format_duration
from prenv.core.errors import ExitStatus, FailureReason, PrenvError

# Outputs of the destroys run inside cleanup must not become the cleanup step's outputs.
_PRIVATE = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH")


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    max_age: timedelta | None = None
    warn_before: timedelta | None = None
    concurrency: int | None = None
    delete_orphans: bool = False
    stale_lock_age: timedelta | None = None


def pull_states(github: Any, numbers: set[int]) -> dict[int, cleanup.PullRequest]:
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

    def say(self, text: str = "") -> None:
        self.services.out.write(text + "\n")
        self.services.out.flush()

    def sub_services(self, out: io.StringIO) -> Services:
        env = {k: v for k, v in self.services.env.items() if k not in _PRIVATE}
        return replace(self.services, env=env, out=out, err=out, event=None, _event_loaded=True)

    def destroy_one(self, row: cleanup.Row) -> None:
        buffer = io.StringIO()
        try:
            destroy.run(self.sub_services(buffer), str(row.pr_number))
        except PrenvError as exc:
            row.result, row.error = f"FAILED ({exc.reason})", exc.one_line()
            row.extra["log"] = buffer.getvalue()
        except Exception as exc:  # one broken destroy must not stop the others
            row.result, row.error = "FAILED (unexpected-error)", f"{type(exc).__name__}: {exc}"
            row.extra["log"] = buffer.getvalue()
        else:
            row.result = "destroyed"

    def warn_one(self, row: cleanup.Row, bucket: Any, expires_at: datetime) -> None:
        try:
            sub = self.sub_services(io.StringIO())
            tgt = activity.with_comment_hint(sub, target(sub, "cleanup", str(row.pr_number)))
            from prenv.report.pr import github_reporter

            reporter = github_reporter(
                self.services.env, self.config, tgt.ctx, self.services.warn, self.services.cwd
            )
            if reporter is not None and self.config.comment.enabled:
                reporter.warn_idle(tgt.ctx, expires_at)
            bucket.record_warning(row.workspace, expires_at)
        except Exception as exc:  # a warning that could not be posted is retried on the next run
            row.result, row.error = "warning FAILED", f"{type(exc).__name__}: {exc}"
        else:
            row.result = f"warned: destroy after {expires_at:%Y-%m-%d %H:%M} UTC"


def _each(items: Iterable[cleanup.Row], work: Callable[[cleanup.Row], None], concurrency: int) -> None:
    rows = list(items)
    if concurrency <= 1 or len(rows) <= 1:
        for row in rows:
            work(row)
        return
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="prenv-cleanup") as pool:
        list(pool.map(work, rows))


def run(services: Services, options: Options, *, clock: Callable[[], datetime] | None = None) -> ExitStatus:
    from prenv.aws.client import client_factory
    from prenv.aws.state_bucket import StateBucket, s3_client
    from prenv.github import client as github_adapter

    config = services.load_config()
    repository = resolve_repository(config, services.env)
    now = (clock or (lambda: datetime.now(UTC)))()
    max_age = options.max_age or config.cleanup.max_age
    warn_before = options.warn_before if options.warn_before is not None else config.cleanup.warn_before
    concurrency = options.concurrency or config.cleanup.concurrency
    lock_age = options.stale_lock_age or config.cleanup.stale_lock_age
    job = _Run(services, config)
    gh = github_adapter.from_env(services.env, repository)
    if gh is None:
        raise PrenvError(
            "prenv cleanup needs GITHUB_TOKEN to learn which pull requests are still open",
            reason=FailureReason.GITHUB_TOKEN_MISSING,
            hint="pass `github-token: ${{ github.token }}` to the action, or set GITHUB_TOKEN",
        )
    bucket = StateBucket(config, s3_client(config, services.env))
    listing = _aws("list the state bucket", bucket.list)
    job.say(
        f"prenv cleanup of {repository}: {len(listing.previews)} preview(s) in s3://{config.backend.bucket}/"
        f"{config.backend.workspace_key_prefix}/ (max age {format_duration(max_age)}, warning "
        f"{format_duration(warn_before)} ahead)"
        + ("; DRY RUN: nothing will be changed" if options.dry_run else "")
    )
    prs = pull_states(gh, {p.pr_number for p in listing.previews})
    rows: list[cleanup.Row] = []
    expiries: dict[str, datetime] = {}
    for preview in listing.previews:
        pr = prs.get(preview.pr_number)
        decision = cleanup.decide(
            preview,
            pr,
            now=now,
            max_age=max_age,
            warn_before=warn_before,
            keep_label=config.cleanup.keep_label,
        )
        state = pr.state.value if pr else cleanup.PrState.MISSING.value
        rows.append(
            cleanup.Row(
                preview.workspace,
                preview.pr_number,
                state,
                cleanup.format_age(now - preview.last_activity),
                decision.action,
                decision.reason,
            )
        )
        if decision.expires_at is not None and decision.action is cleanup.Action.WARN:
            expiries[preview.workspace] = decision.expires_at
    to_destroy = [r for r in rows if r.decision is cleanup.Action.DESTROY]
    to_warn = [r for r in rows if r.decision is cleanup.Action.WARN]
    if options.dry_run:
        for row in to_destroy + to_warn:
            row.result = f"would {row.decision}"
    else:
        _each(to_warn, lambda r: job.warn_one(r, bucket, expiries[r.workspace]), 1)  # writes: one at a time
        _each(to_destroy, job.destroy_one, concurrency)
        for workspace in listing.leftover_markers:
            _aws("drop leftover markers", partial(bucket.forget, workspace))
    destroyed = {r.workspace for r in to_destroy if r.result == "destroyed"}
    live = {p.workspace for p in listing.previews} - destroyed
    stale = [
        replace(s, lock=_aws("read a lock", partial(bucket.read_lock, s.workspace, s.lock.modified)))
        for s in cleanup.stale_locks(listing.previews, now=now, threshold=lock_age)
    ]
    clients = client_factory(services.env, config.backend.region)
    found = orphans.find(
        _aws("list tagged resources", lambda: orphans.tagged_resources(clients, repository)),
        live_workspaces=live,
    )
    found = [
        o for o in found if not _aws("describe a tagged resource", partial(orphans.gone, clients, o.arn))
    ]
    deleted = _delete_orphans(found, clients) if options.delete_orphans and not options.dry_run else {}
    from prenv.render.cleanup_report import report

    return report(services, rows, stale, found, deleted, dry_run=options.dry_run, github_calls=gh.calls)


def _aws(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except PrenvError:
        raise
    except Exception as exc:  # botocore errors: one line, what to check
        raise PrenvError(
            f"could not {what}: {type(exc).__name__}: {exc}",
            reason=FailureReason.AWS_UNAVAILABLE,
            hint="check the AWS credentials, the region and the backend settings in the config",
        ) from exc


def _delete_orphans(found: list[orphans.Orphan], clients: Any) -> dict[str, str]:
    """ARN -> result of the deletion ('deleted', 'FAILED: ...', or 'not deleted: ...')."""
    results: dict[str, str] = {}
    for orphan in found:
        delete = orphans.deleter_for(orphan.arn)
        if delete is None:
            results[orphan.arn] = "not deleted: prenv does not delete this kind; delete it by hand"
            continue
        try:
            delete(clients)
        except Exception as exc:  # reported per resource; the others still get their turn
            results[orphan.arn] = f"FAILED: {type(exc).__name__}: {exc}"
        else:
            results[orphan.arn] = "deleted"
    return results
