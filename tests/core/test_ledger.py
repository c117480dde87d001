"""The cost ledger kept in the deploy record: what a preview has cost since its first deploy.

Figures by hand: the bundled preview (tests/core/fixtures/preview.plan.json) costs $0.76898712.../day
running, of which $0.68022/day (the Fargate task, $0.29622, and the db.t4g.micro hours, $0.384) stops
while it sleeps, leaving $0.08876712.../day (20 GB gp3, $55.2/730, and the RDS secret, $9.6/730).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from prenv.core import ledger
from prenv.core.cost import PlanCost, estimate, plan_cost
from prenv.core.ledger import Ledger, after_deploy, first_deployed, from_record
from prenv.core.prices import bundled_prices
from tests.golden import fixtures as fx

D = Decimal
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
FIXTURES = Path(__file__).resolve().parent / "fixtures"
RUNNING = D("0.68022") + D("64.8") / 730  # $0.769/day
ASLEEP = D("64.8") / 730  # $0.0888/day


def _close(value: Decimal) -> Decimal:
    """Decimal division rounds at the 28th digit; compare to a millionth of a cent."""
    return value.quantize(D("1e-8"))


def _preview_cost() -> PlanCost:
    plan: dict[str, Any] = json.loads((FIXTURES / "preview.plan.json").read_text(encoding="utf-8"))
    return plan_cost(plan, bundled_prices())


def _ledger(**changes: Any) -> Ledger:
    values: dict[str, Any] = {
        "first_deployed_at": NOW - 10 * DAY,
        "per_day": D("1.00"),
        "asleep_per_day": D("0.10"),
        "share_per_day": D("0.50"),
        "spent": D("3.00"),
        "since": NOW - 2 * DAY,
    }
    return Ledger(**(values | changes))


def test_so_far_adds_the_running_rate_since_the_last_settlement() -> None:
    # 3.00 + 2 days x (1.00 + 0.50) = 6.00
    assert _ledger().so_far(NOW) == D("6.00")


def test_so_far_counts_the_asleep_rate_from_when_it_slept() -> None:
    # 3.00 + 0.5 day awake x 1.50 + 1.5 days asleep x (0.10 + 0.50) = 3.00 + 0.75 + 0.90 = 4.65
    assert _ledger().so_far(NOW, slept_at=NOW - 1.5 * DAY) == D("4.65")
    # Asleep since before the last settlement: all of it at the asleep rate, 3.00 + 2 x 0.60 = 4.20
    assert _ledger().so_far(NOW, slept_at=NOW - 5 * DAY) == D("4.20")


def test_settling_keeps_the_total_and_moves_the_clock() -> None:
    settled = _ledger().settled(NOW, slept_at=NOW - DAY)
    # 3.00 + 1 day x 1.50 + 1 day x 0.60 = 5.10
    assert (settled.spent, settled.since, settled.per_day) == (D("5.10"), NOW, D("1.00"))
    assert settled.so_far(NOW + DAY) == D("6.60")  # + 1 day x 1.50


def test_the_record_keeps_six_places_and_reads_back() -> None:
    kept = _ledger(per_day=RUNNING, asleep_per_day=ASLEEP, checked="2026-12-02", region="us-east-1")
    record = {"cost": kept.to_record()}
    assert record["cost"]["per_day"] == "0.768987"
    assert record["cost"]["asleep_per_day"] == "0.088767"
    assert record["cost"]["first_deployed_at"] == "2026-11-22T12:00:00+00:00"
    back = from_record(json.loads(json.dumps(record)))
    assert back is not None
    assert (back.per_day, back.asleep_per_day, back.since) == (D("0.768987"), D("0.088767"), NOW - 2 * DAY)


@pytest.mark.parametrize(
    "cost",
    [
        None,
        "cheap",
        {},
        {"first_deployed_at": "yesterday"},
        {**_ledger().to_record(), "per_day": "-1"},
        {**_ledger().to_record(), "spent": "NaN"},
        {**_ledger().to_record(), "not_priced": True},
    ],
    ids=["none", "a string", "empty", "bad time", "negative", "not a number", "bool count"],
)
def test_a_malformed_ledger_is_no_ledger(cost: Any) -> None:
    assert from_record({"cost": cost}) is None


def test_the_first_deploy_time_is_kept_else_the_oldest_known() -> None:
    assert first_deployed({"first_deployed_at": "2026-11-01T00:00:00+00:00"}, NOW) == datetime(
        2026, 11, 1, tzinfo=UTC
    )
    # A record written before prenv kept it: its deploy time is the earliest prenv knows of.
    assert first_deployed({"deployed_at": "2026-11-20T08:00:00"}, NOW) == datetime(
        2026, 11, 20, 8, tzinfo=UTC
    )
    assert first_deployed(None, NOW) == NOW


def test_a_first_deploy_opens_the_ledger_at_zero() -> None:
    cost = _preview_cost()
    assert not cost.existed
    assert cost.change == 0
    kept = after_deploy(None, cost, share_per_day=D("0.66"), now=NOW)
    assert (kept.first_deployed_at, kept.spent, kept.since) == (NOW, D(0), NOW)
    assert kept.per_day == RUNNING
    # What keeps billing while asleep: the storage and the secret only.
    assert _close(kept.asleep_per_day) == _close(ASLEEP)
    assert kept.rate(asleep=False) == RUNNING + D("0.66")
    assert (kept.checked, kept.region, kept.not_priced) == ("2026-12-02", "us-east-1", 0)


def test_a_redeploy_settles_the_old_rates_then_takes_the_new() -> None:
    previous = {
        "first_deployed_at": "2026-11-30T12:00:00+00:00",
        "cost": _ledger(since=NOW - DAY).to_record(),
    }
    kept = after_deploy(previous, _preview_cost(), share_per_day=D("0.25"), now=NOW)
    # 3.00 + 1 day x 1.50 = 4.50 by now, then the plan's rates
    assert (kept.spent, kept.per_day, kept.share_per_day) == (D("4.50"), RUNNING, D("0.25"))
    assert kept.first_deployed_at == NOW - 10 * DAY  # the ledger's own first deploy is the earliest


def test_a_deploy_that_woke_the_preview_settles_its_sleep_at_the_asleep_rate() -> None:
    previous = {"cost": _ledger(since=NOW - 3 * DAY).to_record()}
    kept = after_deploy(previous, _preview_cost(), share_per_day=D(0), now=NOW, slept_at=NOW - 2 * DAY)
    # 3.00 + 1 day x 1.50 + 2 days x 0.60 = 5.70
    assert kept.spent == D("5.70")


def test_a_record_without_a_ledger_is_settled_at_the_plans_before_side() -> None:
    """A preview deployed by a prenv that kept no ledger: since that deploy it ran what the plan found."""
    cost = _preview_cost()
    redeploy = PlanCost(after=cost.after, before=cost.after)  # the same resources before and after
    assert redeploy.existed
    assert redeploy.change == 0
    kept = after_deploy({"deployed_at": "2026-11-30T12:00:00+00:00"}, redeploy, share_per_day=D(0), now=NOW)
    # 2 days x $0.76898712... = $1.53797...
    assert kept.spent == 2 * RUNNING
    assert kept.first_deployed_at == NOW - 2 * DAY


def test_the_preview_cost_shown_after_a_deploy() -> None:
    cost = _preview_cost()
    kept = after_deploy({"cost": _ledger().to_record()}, cost, share_per_day=D(0), now=NOW)
    shown = ledger.PreviewCost(cost.after, kept, change=D(0), existed=True, base_found=False, now=NOW + DAY)
    assert shown.so_far == D("6.00") + RUNNING  # what it had cost, plus one day at the new rate
    assert shown.running_for == 11 * DAY


def test_a_plan_that_shrinks_the_preview_shows_the_change() -> None:
    cost = _preview_cost()
    smaller = estimate({"resource_changes": []}, bundled_prices())
    assert PlanCost(after=smaller, before=cost.after).change == -RUNNING


def test_the_terminal_says_the_cost_in_one_line() -> None:
    assert fx.cost().line() == (
        "Cost: about $1.43/day while running ($0.77/day own + $0.66/day share of the base); $3.93 so far; "
        "this deploy changed it by +$0.05/day"
    )
    assert (
        fx.cost(existed=False, base_found=False).line() == "Cost: about $0.77/day while running; $0.00 so far"
    )
