"""What a deploy says about the preview's cost, and what it keeps of it in the deploy record.

After the apply: the plan priced both sides (`prenv.core.cost.plan_cost`, in the engine), the base's
share is its running cost (`prenv.aws.base`) divided among the live previews (the workspaces in the
state bucket), and the ledger in the deploy record is settled (`prenv.core.ledger`). Everything here is
best effort: what cannot be read is left out and noted; a deploy never fails on its cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from prenv.aws.base import base_resources
from prenv.aws.client import AwsError
from prenv.commands.wiring import DeployRecord, Ports, Target, default_region
from prenv.core import ledger
from prenv.core.config import Config
from prenv.core.cost import Estimate, as_plan, estimate, share_of_base
from prenv.core.domain import DeployOutcome
from prenv.core.prices import bundled_prices


def _region(config: Config, ports: Ports, outcome: DeployOutcome) -> str:
    output = next((o.value for o in outcome.outputs if o.name == "region" and not o.sensitive), "")
    return str(output or default_region(ports, config))


def base_estimate(ports: Ports, region: str, name: str) -> Estimate | None:
    """The shared base's estimate from what runs in AWS, or None when it is not there (AwsError when
    AWS cannot be asked)."""
    found = base_resources(ports.aws(region), name)
    return None if found is None else estimate(as_plan(found), bundled_prices())


def base_share(
    ports: Ports, config: Config, tgt: Target, outcome: DeployOutcome
) -> tuple[Estimate, int] | None:
    """The base's estimate and the number of live previews sharing it; None when it cannot be known."""
    try:
        base = base_estimate(ports, _region(config, ports, outcome), tgt.names.base)
        if base is None:
            return None
        live = len(ports.bucket.list_previews().previews)
    except AwsError as exc:
        ports.services.note(f"the preview's share of the base is left out of its cost: {exc.message}")
        return None
    return base, max(live, 1)


def priced(
    ports: Ports,
    config: Config,
    outcome: DeployOutcome,
    record: DeployRecord,
    *,
    now: datetime,
    slept_at: datetime | None = None,
) -> DeployOutcome:
    """The outcome with its cost for the comment and the summary; the record told what to keep.

    `slept_at`: this deploy woke the preview, asleep since then (its ledger settles at the asleep rate).
    """
    previous = record.previous()
    record.extra["first_deployed_at"] = ledger.format_time(ledger.first_deployed(previous, now))
    if outcome.plan_cost is None:
        if previous and isinstance(previous.get("cost"), Mapping):
            record.extra["cost"] = previous["cost"]  # nothing new to price: the ledger stays as it was
        return outcome
    shared = base_share(ports, config, record.target, outcome)
    own = outcome.plan_cost.after
    lines = own.lines
    share = Decimal(0)
    if shared is not None:
        base, live = shared
        line = share_of_base(base, live)
        lines, share = (*lines, line), line.per_day
    kept = ledger.after_deploy(previous, outcome.plan_cost, share_per_day=share, now=now, slept_at=slept_at)
    record.extra["cost"] = kept.to_record()
    cost = ledger.PreviewCost(
        estimate=replace(own, lines=lines),
        ledger=kept,
        change=outcome.plan_cost.change,
        existed=outcome.plan_cost.existed,
        base_found=shared is not None,
        now=now,
    )
    return replace(outcome, cost=cost)


def carried(previous: Mapping[str, Any] | None, now: datetime, slept_at: datetime) -> dict[str, Any]:
    """What a wake keeps in the deploy record: the first deploy's time and the ledger, settled at the
    asleep rate from `slept_at` to `now` (its rates stay those of the last deploy)."""
    extra: dict[str, Any] = {"first_deployed_at": ledger.format_time(ledger.first_deployed(previous, now))}
    kept = ledger.from_record(previous)
    if kept is not None:
        extra["cost"] = kept.settled(now, slept_at=slept_at).to_record()
    if previous and isinstance(previous.get("head_sha"), str):  # a wake deploys nothing: same commit
        extra["head_sha"] = previous["head_sha"]
    return extra
