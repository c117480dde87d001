"""The cleanup report as text: the preview table for the terminal and for the job summary."""

from __future__ import annotations

from prenv.core.cleanup import Action, PrState, Row
from prenv.render.cleanup_report import report_lines, report_markdown


def test_report_table() -> None:
    rows = [
        Row("pr-3", 3, PrState.MERGED, "1d", Action.DESTROY, "PR merged", "destroyed"),
        Row("pr-12", 12, PrState.OPEN, "2h", Action.LEAVE, "active (idle 2h)"),
    ]
    assert report_lines(rows) == [
        "PREVIEW  PR   PR STATE  IDLE  DECISION                  RESULT",
        "pr-3     #3   merged    1d    destroy (PR merged)       destroyed",
        "pr-12    #12  open      2h    leave (active (idle 2h))",
    ]
    assert (
        report_markdown(rows).splitlines()[2]
        == "| pr-3 | #3 | merged | 1d | destroy (PR merged) | destroyed |"
    )
