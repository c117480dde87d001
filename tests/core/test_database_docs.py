"""docs/time-to-url.md and docs/setup.md's database section stay true to what they describe: the phases
prenv records, the health-check settings of terraform/preview, and the per-day figures of each database
mode, recomputed from prenv/core/prices.json."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from prenv.core.phases import ORDER
from prenv.core.prices import bundled_prices
from tests.helpers import REPO_ROOT

MODEL = (REPO_ROOT / "docs" / "time-to-url.md").read_text(encoding="utf-8")
SETUP = (REPO_ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
PREVIEW_MAIN = (REPO_ROOT / "terraform" / "preview" / "main.tf").read_text(encoding="utf-8")


def _setting(name: str) -> int:
    match = re.search(rf"^\s*{name}\s*=\s*(\d+)\s*$", PREVIEW_MAIN, re.M)
    assert match, name
    return int(match.group(1))


def _usd(value: Decimal) -> str:
    return "$" + str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_the_model_names_every_phase_prenv_records() -> None:
    table = MODEL.split("## The phases prenv records", 1)[1].split("\n## ", 1)[0]
    assert [m for m in re.findall(r"^\| `(\w+)` \|", table, re.M)] == list(ORDER)


def test_the_model_quotes_the_roots_health_check_settings() -> None:
    interval, healthy, delay = (
        _setting(n) for n in ("interval", "healthy_threshold", "deregistration_delay")
    )
    assert f"`interval = {interval}`, `healthy_threshold = {healthy}`" in MODEL
    assert f"≥ {interval * healthy} s" in MODEL
    assert f"`deregistration_delay = {delay}`" in MODEL


def test_every_source_is_a_link_over_https() -> None:
    links = re.findall(r"\]\((\S+?)\)", MODEL)
    assert len(links) >= 6
    assert [link for link in links if not link.startswith("https://")] == []


def test_the_cost_of_each_mode_is_the_price_tables() -> None:
    prices = bundled_prices()

    def rate(key: str) -> Decimal:
        found = prices.rate(key)
        assert found is not None, key
        return found.usd

    day, month = Decimal(24), Decimal(730)
    secret = rate("secrets_manager/secret_month") * day / month
    dedicated = (
        rate("rds_postgres_single_az/instance_hour/db.t4g.micro") * day
        + 20 * rate("rds_postgres_single_az/storage_gb_month/gp3") * day / month
        + secret
    )
    awake = Decimal("0.5") * rate("aurora_postgres/serverless_v2_acu_hour") * day
    row = next(
        line for line in SETUP.splitlines() if line.startswith("| 1 / 5 / 10 previews running all day")
    )
    assert row.split(" | ")[1] == " / ".join(_usd(dedicated * n) for n in (1, 5, 10))
    assert (
        row.split(" | ")[2]
        == " / ".join(_usd(awake + secret * (1 + n)) for n in (1, 5, 10)) + ", plus storage"
    )
    assert row.split(" | ")[3].rstrip(" |") == " / ".join(_usd(dedicated + secret * n) for n in (1, 5, 10))
    assert f"**{_usd(awake)} for all previews together**" in SETUP
    assert f"{_usd(dedicated)} **per preview**" in SETUP
