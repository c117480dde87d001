"""The report of `prenv cleanup` as text: a table per preview, the stale locks and the orphaned
resources, for the terminal and for the job summary (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prenv.core.cleanup import Orphan, Row, StaleLock, format_age

_HEADER = ("PREVIEW", "PR", "PR STATE", "IDLE", "DECISION", "RESULT")


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.workspace,
        f"#{row.pr_number}",
        str(row.pr_state),
        row.idle,
        f"{row.decision} ({row.reason})",
        row.result,
    )


def report_lines(rows: Sequence[Row]) -> list[str]:
    """The previews as an aligned text table for the terminal."""
    table = [_HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table]


def report_markdown(rows: Sequence[Row]) -> str:
    """The previews as a Markdown table for the job summary."""
    lines = ["| preview | PR | PR state | idle | decision | result |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |")
    return "\n".join(lines) + "\n"


def terminal(
    rows: Sequence[Row],
    stale: Sequence[StaleLock],
    found: Sequence[Orphan],
    deleted: Mapping[str, str],
) -> list[str]:
    """The whole report as lines for the terminal."""
    lines = ["", *report_lines(rows)] if rows else ["", "No previews found."]
    if stale:
        lines += [
            "",
            f"Stale locks ({len(stale)}): held longer than any job runs; release each with its command:",
        ]
        for s in stale:
            holder = f" by {s.lock.who}" if s.lock.who else ""
            lines.append(
                f"  {s.workspace}: lock {s.lock.id or '(no ID)'}{holder}, {format_age(s.age)} old:"
                f"  {s.command()}"
            )
    if found:
        lines += [
            "",
            f"Orphaned resources ({len(found)}): made by prenv, but their workspace has no state:",
        ]
        for orphan in found:
            result = deleted.get(orphan.arn, "")
            lines.append(f"  {orphan.workspace}: {orphan.arn}" + (f"  [{result}]" if result else ""))
        if not deleted:
            lines.append("  (delete them with `prenv cleanup --delete-orphans`)")
    return lines


def markdown(
    rows: Sequence[Row],
    stale: Sequence[StaleLock],
    found: Sequence[Orphan],
    deleted: Mapping[str, str],
    *,
    dry_run: bool,
) -> str:
    """The whole report as Markdown for the job summary."""
    parts = ["## prenv cleanup" + (" (dry run: nothing was changed)" if dry_run else ""), ""]
    parts.append(report_markdown(rows) if rows else "No previews found.\n")
    if stale:
        parts += [
            "### Stale locks",
            "",
            "| preview | lock ID | held by | age | release with |",
            "|---|---|---|---|---|",
        ]
        parts += [
            f"| {s.workspace} | `{s.lock.id}` | {s.lock.who} | {format_age(s.age)} | `{s.command()}` |"
            for s in stale
        ]
        parts.append("")
    if found:
        parts += ["### Orphaned resources", "", "| workspace | resource | result |", "|---|---|---|"]
        parts += [f"| {o.workspace} | `{o.arn}` | {deleted.get(o.arn, 'reported')} |" for o in found]
        parts.append("")
    return "\n".join(parts) + "\n"
