"""prenv's price table: `prices.json` beside this module, parsed and checked (pure but for the package read).

One region, one date, each price with its source and what confirmed it. A price that could not be
confirmed has no value (`usd` null) and says why; it can name an upper bound that stands in for it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

HOURS_PER_DAY = Decimal(24)
CHECKED = ("aws-text", "price-list-copies")


class PriceTableError(ValueError):
    """The price table is malformed; the message names the entry and what to fix."""


@dataclass(frozen=True)
class Price:
    key: str  # its path in the table, such as "fargate/linux_x86/vcpu_hour"
    usd: Decimal | None  # None: not confirmed, never used as such
    unit: str
    source: str
    upper_bound: str = ""  # key of the price that stands in for an unconfirmed one
    note: str = ""  # how it was checked, or why it could not be


@dataclass(frozen=True)
class Rate:
    usd: Decimal
    note: str = ""  # set when an upper bound stands in for an unconfirmed price


@dataclass(frozen=True)
class PriceTable:
    checked: str
    region: str
    currency: str
    hours_per_month: Decimal
    prices: Mapping[str, Price]

    def rate(self, key: str) -> Rate | None:
        """The rate of `key`: its price, or the upper bound named for an unconfirmed one; None if neither."""
        price = self.prices.get(key)
        if price is None:
            return None
        if price.usd is not None:
            return Rate(price.usd)
        bound = self.prices.get(price.upper_bound) if price.upper_bound else None
        if bound is None or bound.usd is None:
            return None
        return Rate(bound.usd, f"{key} has no confirmed price: priced at {bound.key}, an upper bound")

    def per_day_of_month(self, monthly: Decimal) -> Decimal:
        """A per-month price as a per-day cost, AWS's way: per month x 24 / hours in a month."""
        return monthly * HOURS_PER_DAY / self.hours_per_month


def parse_prices(document: Mapping[str, Any]) -> PriceTable:
    """The price table from its JSON document; PriceTableError names the first bad entry."""
    if document.get("schema") != 1:
        raise PriceTableError("price table: schema must be 1 (this prenv reads version 1 of prices.json)")
    for name in ("checked", "region", "currency"):
        if not isinstance(document.get(name), str) or not document[name]:
            raise PriceTableError(f"price table: `{name}` must be a non-empty string")
    hours = _decimal(document.get("hours_per_month"), "hours_per_month")
    if hours is None or hours <= 0:
        raise PriceTableError("price table: `hours_per_month` must be a positive number (AWS uses 730)")
    groups = document.get("prices")
    if not isinstance(groups, Mapping) or not groups:
        raise PriceTableError("price table: `prices` must be a non-empty object")
    prices: dict[str, Price] = {}
    _collect(groups, "", "", prices)
    for price in prices.values():
        if price.upper_bound and (price.upper_bound not in prices or prices[price.upper_bound].usd is None):
            raise PriceTableError(
                f"price table: {price.key}: upper_bound {price.upper_bound!r} must name a confirmed price"
            )
    return PriceTable(
        checked=document["checked"],
        region=document["region"],
        currency=document["currency"],
        hours_per_month=hours,
        prices=prices,
    )


def _collect(node: Mapping[str, Any], path: str, source: str, out: dict[str, Price]) -> None:
    source = str(node.get("source") or source)
    for name, value in node.items():
        if not isinstance(value, Mapping):
            continue  # the group's own source and note
        key = f"{path}/{name}" if path else str(name)
        if "unit" in value:
            out[key] = _price(key, value, source)
        else:
            _collect(value, key, source, out)


def _price(key: str, entry: Mapping[str, Any], source: str) -> Price:
    where = f"price table: {key}"
    if "usd" not in entry:
        raise PriceTableError(f"{where}: `usd` is missing (a decimal string, or null with `why`)")
    usd = _decimal(entry["usd"], key)
    source = str(entry.get("source") or source)
    if not source.startswith("https://"):
        raise PriceTableError(f"{where}: needs a `source` URL (https://...), here or on its group")
    if usd is None:
        why = entry.get("why")
        if not isinstance(why, str) or not why:
            raise PriceTableError(f"{where}: a null `usd` needs `why`: what could not be confirmed")
        return Price(key, None, str(entry["unit"]), source, str(entry.get("upper_bound") or ""), why)
    if usd < 0:
        raise PriceTableError(f"{where}: `usd` must not be negative")
    if entry.get("checked") not in CHECKED or not entry.get("evidence"):
        raise PriceTableError(
            f"{where}: a price needs `checked` ({' or '.join(CHECKED)}) and `evidence`: what confirmed it"
        )
    return Price(key, usd, str(entry["unit"]), source, note=str(entry["evidence"]))


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PriceTableError(f'price table: {where}: write numbers as strings, such as "0.04048"')
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise PriceTableError(f"price table: {where}: {value!r} is not a number")
    return number


@functools.cache  # one parse per process: a deploy prices its plan, cleanup many ledgers
def bundled_prices() -> PriceTable:
    """The price table shipped with prenv (package data, read once per process)."""
    text = resources.files("prenv.core").joinpath("prices.json").read_text(encoding="utf-8")
    return parse_prices(json.loads(text))
