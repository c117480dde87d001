"""The report of `prenv cleanup`: on the terminal, in the job summary and as step outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prenv.aws import orphans
from prenv.commands.common import Services
from prenv.core import cleanup
from prenv.core.errors import ExitStatus, FailureReason, PrenvError


def _terminal(
    rows: Sequence[cleanup.Row],
    stale: Sequence[cleanup.StaleLock],
    found: Sequence[orphans.Orphan],
    deleted: Mapping[str, str],
) -> list[str]:
    lines = ["", *cleanup.report_lines(rows)] if rows else ["", "No previews found."]
    if stale:
        lines += [
            "",
            f"Stale locks ({len(stale)}): held longer than any job runs; release each with its command:",
        ]
        for s in stale:
            holder = f" by {s.lock.who}" if s.lock.who else ""
            lines.append(
                f"  {s.workspace}: lock {s.lock.id or '(no ID)'}{holder}, {cleanup.format_age(s.age)} old:"
                f"  {s.command()}"
            )
    if found:
        lines += [
            "",
            f"Orphaned resources ({len(found)}): tagged by prenv, but their workspace has no state:",
        ]
        for orphan in found:
            result = deleted.get(orphan.arn, "")
            lines.append(f"  {orphan.workspace}: {orphan.arn}" + (f"  [{result}]" if result else ""))
        if not deleted:
            lines.append("  (delete them with `prenv cleanup --delete-orphans`)")
    return lines


def _markdown(
    rows: Sequence[cleanup.Row],
    stale: Sequence[cleanup.StaleLock],
    found: Sequence[orphans.Orphan],
    deleted: Mapping[str, str],
    *,
    dry_run: bool,
) -> str:
    parts = ["## prenv cleanup" + (" (dry run: nothing was changed)" if dry_run else ""), ""]
    parts.append(cleanup.report_markdown(rows) if rows else "No previews found.\n")
    if stale:
        parts += [
            "### Stale locks",
            "",
            "| preview | lock ID | held by | age | release with |",
            "|---|---|---|---|---|",
        ]
        parts += [
            f"| {s.workspace} | `{s.lock.id}` | {s.lock.who} | {cleanup.format_age(s.age)} "
            f"| `{s.command()}` |"
            for s in stale
        ]
        parts.append("")
    if found:
        parts += ["### Orphaned resources", "", "| workspace | ARN | result |", "|---|---|---|"]
        parts += [f"| {o.workspace} | `{o.arn}` | {deleted.get(o.arn, 'reported')} |" for o in found]
        parts.append("")
    return "\n".join(parts) + "\n"


def report(
    services: Services,
    rows: Sequence[cleanup.Row],
    stale: Sequence[cleanup.StaleLock],
    found: Sequence[orphans.Orphan],
    deleted: Mapping[str, str],
    *,
    dry_run: bool,
    github_calls: int,
) -> ExitStatus:
    out = services.out
    for line in _terminal(rows, stale, found, deleted):
        out.write(line + "\n")
    failed = [r for r in rows if r.error]
    runtime = services.runtime()
    for row in failed:
        if row.extra.get("log"):
            with runtime.group(f"prenv cleanup: log of {row.workspace}"):
                out.write(row.extra["log"].rstrip() + "\n")
        out.write(f"  {row.workspace}: {row.error}\n")
    out.write(f"GitHub API requests: {github_calls}\n")
    out.flush()
    runtime.write_summary(_markdown(rows, stale, found, deleted, dry_run=dry_run))
    count = {
        action: sum(1 for r in rows if r.decision is action and not r.error) for action in cleanup.Action
    }
    runtime.set_outputs(
        {
            "previews": str(len(rows)),
            "destroyed": "0" if dry_run else str(count[cleanup.Action.DESTROY]),
            "warned": "0" if dry_run else str(count[cleanup.Action.WARN]),
            "stale-locks": str(len(stale)),
            "orphans": str(len(found)),
        }
    )
    destroy_failures = [r for r in failed if r.decision is cleanup.Action.DESTROY]
    if destroy_failures:
        names = ", ".join(
            f"{r.workspace} ({r.result.removeprefix('FAILED ').strip('()')})" for r in destroy_failures
        )
        raise PrenvError(
            f"{len(destroy_failures)} of {sum(r.decision is cleanup.Action.DESTROY for r in rows)} destroys "
            f"failed: {names}",
            reason=FailureReason.CLEANUP_FAILED,
            hint="their workspaces and state were kept and the next cleanup run retries them; "
            "see the log above",
        )
    runtime.set_outputs({"failure-reason": ""})  # a failed warning is retried next run; not a failure
    return ExitStatus.SUCCESS
