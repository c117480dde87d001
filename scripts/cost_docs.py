"""The cost figures of README.md and docs/setup.md, generated from prenv's price table.

    python scripts/cost_docs.py            rewrite the generated blocks
    python scripts/cost_docs.py --check    exit 1 when a block differs from what the price table gives

The figures are prenv.core.cost's estimates of real plans of the bundled roots at their defaults
(tests/core/fixtures/{base,preview}.plan.json: terraform/base, and terraform/preview with its dedicated
database; tests/core/test_plan_fixtures.py keeps them equal to what Terraform plans from the roots) at
the prices of prenv/core/prices.json. README.md holds a summary between `<!-- cost-summary:start -->` and
`<!-- cost-summary:end -->`, docs/setup.md the same summary (its quick start) and the breakdown between
`<!-- cost-table:start -->` and `<!-- cost-table:end -->`; the markers must already be there, each once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prenv.core.cost import SPOT_NOTE, Estimate, estimate, labels, usd
from prenv.core.prices import PriceTable, parse_prices

ROOT = Path(__file__).resolve().parent.parent
PRICES = ROOT / "prenv" / "core" / "prices.json"
PLANS = ROOT / "tests" / "core" / "fixtures"
NOTE = (
    "<!-- Generated from prenv/core/prices.json by scripts/cost_docs.py: edit the prices, then run that "
    "script. -->"
)
SUMMARY = ("<!-- cost-summary:start -->", "<!-- cost-summary:end -->")
TABLE = ("<!-- cost-table:start -->", "<!-- cost-table:end -->")
FLEET = (1, 5, 10)


def _bound(preview: Estimate) -> str:
    """Said when a line is priced at an upper bound (Fargate Spot at the on-demand rate)."""
    notes = [line.note for line in preview.lines]
    if any(SPOT_NOTE in note for note in notes):
        return " at most (Fargate Spot priced at the on-demand rate; AWS quotes up to 70% less)"
    return " at most" if any("upper bound" in note for note in notes) else ""


def summary(table: PriceTable, base: Estimate, preview: Estimate) -> str:
    """The README's block: the base's and a preview's cost per day, markers included."""
    return "\n".join(
        [
            SUMMARY[0],
            NOTE,
            f"| while running, at {table.region} list prices (checked {table.checked}) | per day |",
            "|---|---|",
            f"| the base, once per repository ({', '.join(labels(base))}) | **{usd(base.per_day)}** |",
            f"| each preview, at the defaults ({', '.join(labels(preview))}) "
            f"| **{usd(preview.per_day)}**{_bound(preview)} |",
            SUMMARY[1],
        ]
    )


def _rows(result: Estimate) -> list[str]:
    rows = ["| resource | what | per day | arithmetic |", "|---|---|---|---|"]
    for line in result.lines:
        rows.append(f"| `{line.address}` | {line.what} | {usd(line.per_day)} | {line.arithmetic} |")
    return rows


def _notes(*results: Estimate) -> list[str]:
    notes = dict.fromkeys(line.note for result in results for line in result.lines if line.note)
    return [f"- {note[0].upper()}{note[1:]}." for note in notes]


def _usage(*results: Estimate) -> list[str]:
    charges: dict[tuple[str, str], list[str]] = {}
    for result in results:
        for charge in result.usage:
            charges.setdefault((charge.what, charge.rate), []).append(f"`{charge.address}`")
    return [f"- {what}: {rate} ({', '.join(addresses)})" for (what, rate), addresses in charges.items()]


def breakdown(table: PriceTable, base: Estimate, preview: Estimate) -> str:
    """docs/setup.md's block: every priced line with its arithmetic, what is left out, a few fleets."""
    hours = f"{table.hours_per_month.normalize():f}"
    lines = [
        TABLE[0],
        NOTE,
        "",
        f"On-demand list prices for **{table.region}**, checked {table.checked}, from "
        "`prenv/core/prices.json`, where every price has its source and what confirmed it; other regions "
        "cost the same or more. "
        f"A month is {hours} hours, as AWS counts it.",
        "",
        f"**The base** (`terraform/base` at its defaults), once per repository, whether or not previews run: "
        f"**{usd(base.per_day)}/day**",
        "",
        *_rows(base),
        "",
        f"**A preview** (`terraform/preview` at its defaults, with its own database): "
        f"**{usd(preview.per_day)}/day**{_bound(preview)}, while it runs",
        "",
        *_rows(preview),
        "",
        *_notes(base, preview),
        "",
        "Not in these figures: charges that follow traffic and data, at these rates:",
        "",
        *_usage(base, preview),
        "",
        "| previews running | base + previews, per day |",
        "|---|---|",
        *(f"| {n} | {usd(base.per_day + n * preview.per_day)} |" for n in FLEET),
        TABLE[1],
    ]
    return "\n".join(lines)


def updated(text: str, markers: tuple[str, str], block: str) -> str:
    """`text` with `block` in place of what lies between (and including) the markers."""
    start, end = text.find(markers[0]), text.find(markers[1])
    if start == -1 or end < start or text.count(markers[0]) != 1 or text.count(markers[1]) != 1:
        raise ValueError(f"must hold {markers[0]} followed by {markers[1]}, each once")
    return text[:start] + block + text[end + len(markers[1]) :]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the cost figures of README.md and docs/setup.md.")
    parser.add_argument("--check", action="store_true", help="fail when a document is out of date")
    parser.add_argument("--prices", type=Path, default=PRICES)
    parser.add_argument(
        "--plans", type=Path, default=PLANS, help="directory of base.plan.json, preview.plan.json"
    )
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--setup", type=Path, default=ROOT / "docs" / "setup.md")
    args = parser.parse_args(argv)
    table = parse_prices(_load(args.prices))
    base = estimate(_load(args.plans / "base.plan.json"), table)
    preview = estimate(_load(args.plans / "preview.plan.json"), table)
    failed = False
    short = summary(table, base, preview)
    for path, blocks in (
        (args.readme, [(SUMMARY, short)]),
        # The set-up guide: the summary in its quick start, the breakdown in "What a preview costs".
        (args.setup, [(SUMMARY, short), (TABLE, breakdown(table, base, preview))]),
    ):
        current = wanted = path.read_text(encoding="utf-8")
        try:
            for markers, block in blocks:
                wanted = updated(wanted, markers, block)
        except ValueError as exc:
            print(f"cost_docs: {path}: {exc}", file=sys.stderr)
            return 1
        if current == wanted:
            continue
        if args.check:
            print(
                f"cost_docs: {path.name} does not match {args.prices.name}; "
                "run `python scripts/cost_docs.py` and commit the result",
                file=sys.stderr,
            )
            failed = True
        else:
            path.write_text(wanted, encoding="utf-8")
            print(f"cost_docs: updated {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
