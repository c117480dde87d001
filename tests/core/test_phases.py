"""prenv/core/phases.py: the deploy's phases, timed with a given clock, kept in the deploy record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prenv.core.phases import Phase, Stopwatch, duration, from_record, summary, to_record


def test_phases_are_timed_with_the_given_clock_even_when_they_fail() -> None:
    times = iter([0, 6.1, 6.1, 8.3, 8.3, 20.0, 20.0, 92.4])
    start = datetime(2026, 12, 2, tzinfo=UTC)
    watch = Stopwatch(lambda: start + timedelta(seconds=next(times)))
    with watch.phase("init"):
        pass
    with watch.phase("database"):
        pass
    with pytest.raises(RuntimeError), watch.phase("plan"):
        raise RuntimeError("the plan failed")
    with watch.phase("apply"):
        pass
    assert watch.result() == (
        Phase("init", 6.1),
        Phase("database", pytest.approx(2.2)),
        Phase("plan", 11.7),
        Phase("apply", pytest.approx(72.4)),
    )


def test_summary_line_and_durations() -> None:
    phases = (Phase("apply", 72.4), Phase("init", 6.1), Phase("plan", 11.7))
    assert summary(phases) == "init 6.1s, plan 11.7s, apply 1m 12s (total 1m 30s)"
    assert summary(()) == ""
    assert [duration(s) for s in (0.04, 59.94, 60, 125.6)] == ["0.0s", "59.9s", "1m 00s", "2m 06s"]


def test_the_deploy_record_keeps_them_and_ignores_what_it_cannot_read() -> None:
    phases = (Phase("init", 6.14), Phase("apply", 72.0))
    assert to_record(phases) == [{"phase": "init", "seconds": 6.1}, {"phase": "apply", "seconds": 72.0}]
    assert from_record({"phases": to_record(phases)}) == (Phase("init", 6.1), Phase("apply", 72.0))
    messy = {"phases": [{"phase": "plan", "seconds": True}, "x", {"phase": "", "seconds": 1}, {"seconds": 2}]}
    assert from_record(messy) == ()
    assert from_record({"phases": "init"}) == ()
    assert from_record(None) == ()
