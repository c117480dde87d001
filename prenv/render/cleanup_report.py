"""The report of `prenv cleanup` as text: a table per preview (with what each costs), the fleet's cost,
the stale locks and the orphaned resources, for the terminal and for the job summary (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from prenv.core.cleanup import Fleet, Orphan, Row, StaleLock, format_age
from prenv.core.cost import per_day, usd

_HEADER = ("PREVIEW", "PR", "PR STATE", "IDLE", "COST/DAY", "SO FAR", "DECISION", "RESULT")


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.workspace,
        f"#{row.pr_number}",
        str(row.pr_state),
        row.idle,
        per_day(row.per_day) if row.per_day is not None else "-",
        usd(row.so_far) if row.so_far is not None else "-",
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
    lines = [
        "| preview | PR | PR state | idle | cost/day | so far | decision | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        # `$` escaped too: GitHub renders text between two dollar signs as math.
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("$", "\\$") for c in _cells(r)) + " |")
    return "\n".join(lines) + "\n"


def fleet_lines(fleet: Fleet) -> list[str]:
    """The fleet's cost per day, the idle previews' share, and what the figures leave out."""
    if not fleet.priced:
        return ["Cost: no preview has a cost record yet (the next deploy of each writes one)."]
    share = (fleet.idle_share * 100).quantize(Decimal(1))
    lines = [
        f"Cost: {per_day(fleet.per_day)} for {fleet.priced} preview(s) with their share of the base"
        + (f" (the base: {per_day(fleet.base_per_day)})" if fleet.base_per_day is not None else "")
        + f"; idle previews: {fleet.idle}, {per_day(fleet.idle_per_day)} ({share}%)"
    ]
    if fleet.unpriced:
        lines.append(
            f"  {fleet.unpriced} preview(s) without a cost record (deployed before prenv kept one): "
            "not in the figures"
        )
    return lines


def terminal(
    rows: Sequence[Row],
    stale: Sequence[StaleLock],
    found: Sequence[Orphan],
    deleted: Mapping[str, str],
    *,
    fleet: Fleet | None = None,
) -> list[str]:
    """The whole report as lines for the terminal."""
    lines = ["", *report_lines(rows)] if rows else ["", "No previews found."]
    if rows and fleet is not None:
        lines += ["", *fleet_lines(fleet)]
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
    fleet: Fleet | None = None,
) -> str:
    """The whole report as Markdown for the job summary."""
    parts = ["## prenv cleanup" + (" (dry run: nothing was changed)" if dry_run else ""), ""]
    parts.append(report_markdown(rows) if rows else "No previews found.\n")
    if rows and fleet is not None:
        parts += [line.strip().replace("$", "\\$") for line in fleet_lines(fleet)]
        parts.append("")
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
