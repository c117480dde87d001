"""What the comment and the job summary show of a preview's cost and of its sleep (pure: values in,
template variables out). Dollar signs are escaped: GitHub renders text between two `$` as math."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from prenv.core.cleanup import format_age
from prenv.core.cost import Estimate, usd
from prenv.core.ledger import PreviewCost
from prenv.core.sleep import SleepNotice, WakeNotice


def money(amount: Decimal) -> str:
    """`\\$0.77`: a dollar figure as Markdown shows it (never the start of a math span)."""
    return usd(amount).replace("$", "\\$")


def rate(amount: Decimal, *, exact: bool = False) -> str:
    return usd(amount, exact=exact).replace("$", "\\$")


def daily(amount: Decimal) -> str:
    return f"{money(amount)}/day"


def signed_daily(amount: Decimal) -> str:
    sign = "+" if amount > 0 else "-"
    return f"{sign}{money(abs(amount))}/day"


def when(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _lines(estimate: Estimate) -> list[dict[str, str]]:
    return [
        {
            "address": line.address,
            "what": line.what,
            "per_day": daily(line.per_day),
            "arithmetic": line.arithmetic.replace("$", "\\$"),
            "note": line.note.replace("$", "\\$"),
            "sleeps": "yes" if line.sleeps else "",
        }
        for line in estimate.lines
    ]


def cost_view(cost: PreviewCost) -> dict[str, Any]:
    """The `cost` template variable of the ready comment and the job summary."""
    estimate, kept = cost.estimate, cost.ledger
    share = estimate.shared_per_day
    changed = cost.existed and cost.change.quantize(Decimal("0.01")) != 0
    return {
        "per_day": daily(estimate.per_day),
        "own": daily(estimate.own_per_day),
        "share": daily(share) if cost.base_found else "",
        "base_found": cost.base_found,
        "shared_by": next((line.arithmetic for line in estimate.lines if line.shared), "").replace(
            "$", "\\$"
        ),
        "so_far": money(cost.so_far),
        "since": when(kept.first_deployed_at),
        "running_for": format_age(cost.running_for),
        "first_deploy": not cost.existed,
        "change": signed_daily(cost.change) if changed else "",
        "before": daily(estimate.own_per_day - cost.change),
        "saves": daily(estimate.sleeping_saves_per_day),
        "region": estimate.region,
        "checked": estimate.checked,
        "lines": _lines(estimate),
        "usage": [
            {"address": u.address, "what": u.what, "rate": u.rate.replace("$", "\\$")} for u in estimate.usage
        ],
        "not_priced": [{"address": n.address, "reason": n.reason} for n in estimate.not_priced],
    }


def sleep_view(notice: SleepNotice) -> dict[str, Any]:
    """The `asleep` template variable of the sleeping comment."""
    return {
        "since": when(notice.slept_at),
        "idle": notice.idle,
        "sleep_after": notice.sleep_after,
        "saves": daily(notice.saves_per_day) if notice.saves_per_day is not None else "",
        "still": daily(notice.asleep_per_day) if notice.asleep_per_day is not None else "",
        "database": notice.database,
        "expires_at": when(notice.expires_at) if notice.expires_at else "",
    }


def wake_view(notice: WakeNotice) -> dict[str, Any]:
    """The `woken` template variable of the comment after a wake."""
    return {
        "since": when(notice.slept_at),
        "asleep_for": format_age(notice.woken_at - notice.slept_at),
        "done": list(notice.done),
    }
