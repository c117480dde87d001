"""prenv/core/prices.json and its reader: what the shipped table holds, and the errors a bad table gets."""

from __future__ import annotations

import copy
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from prenv.core.prices import CHECKED, PriceTableError, bundled_prices, parse_prices

REPO_ROOT = Path(__file__).resolve().parents[2]
PRICES = REPO_ROOT / "prenv" / "core" / "prices.json"


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(PRICES.read_text(encoding="utf-8"))
    return document


def test_the_shipped_table_is_dated_for_one_region_with_a_source_and_evidence_for_every_price() -> None:
    table = bundled_prices()
    assert table.region == "us-east-1"
    assert table.currency == "USD"
    assert table.checked == "2026-12-02"
    assert table.hours_per_month == 730
    assert len(table.prices) >= 20
    for price in table.prices.values():
        assert price.source.startswith("https://"), price.key
        assert price.note, price.key  # the evidence, or why it is not confirmed
    document = _document()
    for group in document["prices"].values():
        for entry in _leaves(group):
            assert entry["usd"] is None or entry["checked"] in CHECKED


def _leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "unit" in node:
        return [node]
    return [leaf for value in node.values() if isinstance(value, dict) for leaf in _leaves(value)]


def test_the_table_covers_what_the_bundled_stack_runs() -> None:
    rates = {key: price.usd for key, price in bundled_prices().prices.items()}
    assert rates["fargate/linux_x86/vcpu_hour"] == Decimal("0.04048")
    assert rates["fargate/linux_x86/gb_hour"] == Decimal("0.004445")
    assert rates["fargate/linux_arm64/vcpu_hour"] == Decimal("0.03238")
    assert rates["fargate/linux_arm64/gb_hour"] == Decimal("0.00356")
    assert rates["rds_postgres_single_az/instance_hour/db.t4g.micro"] == Decimal("0.016")
    assert rates["rds_postgres_single_az/storage_gb_month/gp2"] == Decimal("0.115")
    assert rates["rds_postgres_single_az/storage_gb_month/gp3"] == Decimal("0.115")
    assert rates["aurora_postgres/serverless_v2_acu_hour"] == Decimal("0.12")
    assert rates["aurora_postgres/storage_gb_month"] == Decimal("0.10")
    assert rates["alb/hour"] == Decimal("0.0225")
    assert rates["alb/lcu_hour"] == Decimal("0.008")
    assert rates["nat_gateway/hour"] == Decimal("0.045")
    assert rates["public_ipv4/hour"] == Decimal("0.005")
    assert rates["secrets_manager/secret_month"] == Decimal("0.40")
    assert rates["cloudwatch_logs/ingest_gb"] == Decimal("0.50")


def test_fargate_spot_is_not_guessed_it_is_priced_at_its_named_upper_bound() -> None:
    table = bundled_prices()
    spot = table.prices["fargate_spot/linux_x86/vcpu_hour"]
    assert spot.usd is None
    assert "up to a 70% discount" in spot.note
    rate = table.rate("fargate_spot/linux_x86/vcpu_hour")
    assert rate is not None
    assert rate.usd == Decimal("0.04048")
    assert rate.note == (
        "fargate_spot/linux_x86/vcpu_hour has no confirmed price: priced at fargate/linux_x86/vcpu_hour, "
        "an upper bound"
    )
    assert table.rate("ecr/storage_gb_month") is None  # unconfirmed, and no bound
    assert table.rate("no/such/price") is None


def test_a_month_is_730_hours() -> None:
    # $0.40 a month x 24 h / 730 h = $0.0131506849... a day
    assert bundled_prices().per_day_of_month(Decimal("0.40")) == Decimal("9.6") / Decimal(730)


def test_the_table_ships_as_package_data() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "prices.json" in pyproject["tool"]["setuptools"]["package-data"]["prenv.core"]


def _broken(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(_document())
    node = document
    for name in path[:-1]:
        node = node[name]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


ALB_HOUR = ("prices", "alb", "hour")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("schema",), 2, "price table: schema must be 1 (this prenv reads version 1 of prices.json)"),
        (("region",), "", "price table: `region` must be a non-empty string"),
        (
            ("hours_per_month",),
            "0",
            "price table: `hours_per_month` must be a positive number (AWS uses 730)",
        ),
        (("prices",), {}, "price table: `prices` must be a non-empty object"),
        (
            (*ALB_HOUR, "usd"),
            KeyError,
            "price table: alb/hour: `usd` is missing (a decimal string, or null with `why`)",
        ),
        ((*ALB_HOUR, "usd"), 0.0225, 'price table: alb/hour: write numbers as strings, such as "0.04048"'),
        ((*ALB_HOUR, "usd"), "cheap", "price table: alb/hour: 'cheap' is not a number"),
        ((*ALB_HOUR, "usd"), "NaN", "price table: alb/hour: 'NaN' is not a number"),
        ((*ALB_HOUR, "usd"), "-1", "price table: alb/hour: `usd` must not be negative"),
        (
            (*ALB_HOUR, "checked"),
            "memory",
            "price table: alb/hour: a price needs `checked` (aws-text or price-list-copies) and `evidence`: "
            "what confirmed it",
        ),
        (
            (*ALB_HOUR, "usd"),
            None,
            "price table: alb/hour: a null `usd` needs `why`: what could not be confirmed",
        ),
        (
            ("prices", "alb", "source"),
            "aws.amazon.com",
            "price table: alb/hour: needs a `source` URL (https://...), here or on its group",
        ),
        (
            ("prices", "fargate_spot", "linux_x86", "vcpu_hour", "upper_bound"),
            "fargate/linux_x86/cpu_hour",
            "price table: fargate_spot/linux_x86/vcpu_hour: upper_bound 'fargate/linux_x86/cpu_hour' "
            "must name a confirmed price",
        ),
    ],
)
def test_a_bad_table_is_refused_with_what_to_fix(path: tuple[str, ...], value: Any, message: str) -> None:
    with pytest.raises(PriceTableError) as raised:
        parse_prices(_broken(path, value))
    assert str(raised.value) == message
