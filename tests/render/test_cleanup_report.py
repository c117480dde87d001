"""The cleanup report as text: the preview table for the terminal and for the job summary, and the
fleet's cost (issue 17)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from prenv.core.cleanup import Action, PrState, Row, fleet
from prenv.render.cleanup_report import fleet_lines, markdown, report_lines, report_markdown, terminal

D = Decimal
DAY = timedelta(days=1)


def _rows() -> list[Row]:
    return [
        Row("pr-3", 3, PrState.MERGED, "1d", Action.DESTROY, "PR merged", "destroyed", idle_for=DAY),
        Row(
            "pr-12",
            12,
            PrState.OPEN,
            "2h",
            Action.LEAVE,
            "active (idle 2h)",
            per_day=D("1.43"),
            so_far=D("3.9312"),
            idle_for=timedelta(hours=2),
        ),
        Row(
            "pr-14",
            14,
            PrState.OPEN,
            "3d",
            Action.SLEEP,
            "idle 3d, over the 2d sleep limit",
            "asleep: service scaled from 1 to 0 tasks",
            per_day=D("0.75"),
            so_far=D("12.5"),
            idle_for=3 * DAY,
        ),
    ]


def test_report_table() -> None:
    assert report_lines(_rows()) == [
        "PREVIEW  PR   PR STATE  IDLE  COST/DAY   SO FAR  DECISION                                  RESULT",
        "pr-3     #3   merged    1d    -          -       destroy (PR merged)                       "
        "destroyed",
        "pr-12    #12  open      2h    $1.43/day  $3.93   leave (active (idle 2h))",
        "pr-14    #14  open      3d    $0.75/day  $12.50  sleep (idle 3d, over the 2d sleep limit)  "
        "asleep: service scaled from 1 to 0 tasks",
    ]
    assert (
        report_markdown(_rows()).splitlines()[3]
        == "| pr-12 | #12 | open | 2h | \\$1.43/day | \\$3.93 | leave (active (idle 2h)) |  |"
    )


def test_the_fleet_total_and_the_idle_previews_share() -> None:
    rows = _rows()
    found = fleet(rows, idle_after=2 * DAY, base_per_day=D("1.98"))
    # priced: pr-12 and pr-14, 1.43 + 0.75 = 2.18/day; idle (2 days or more): pr-14, 0.75 / 2.18 = 34%
    assert (found.per_day, found.idle_per_day, found.priced, found.unpriced, found.idle) == (
        D("2.18"),
        D("0.75"),
        2,
        1,
        1,
    )
    assert fleet_lines(found) == [
        "Cost: $2.18/day for 2 preview(s) with their share of the base (the base: $1.98/day); "
        "idle previews: 1, $0.75/day (34%)",
        "  1 preview(s) without a cost record (deployed before prenv kept one): not in the figures",
    ]
    assert "Cost: $2.18/day" in "\n".join(terminal(rows, [], [], {}, fleet=found))
    summary = markdown(rows, [], [], {}, dry_run=False, fleet=found)
    assert "Cost: \\$2.18/day for 2 preview(s)" in summary
    assert "$2" not in summary.replace("\\$", "")  # every dollar sign escaped (no math spans)


def test_a_fleet_without_cost_records_says_so() -> None:
    nothing = fleet(_rows()[:1], idle_after=DAY, base_per_day=None)
    assert fleet_lines(nothing) == [
        "Cost: no preview has a cost record yet (the next deploy of each writes one)."
    ]
