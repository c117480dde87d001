"""README.md and docs/setup.md take their cost figures from prenv/core/prices.json (scripts/cost_docs.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from prenv.core.cost import estimate
from prenv.core.prices import bundled_prices

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "cost_docs.py"
PLANS = Path(__file__).resolve().parent / "fixtures"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cost_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cost_docs = _load()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_the_readme_and_setup_guide_agree_with_the_price_table() -> None:
    done = _run("--check")
    assert (done.returncode, done.stderr) == (0, "")


def test_the_published_figures_are_the_estimates_of_the_bundled_stack() -> None:
    prices = bundled_prices()
    base = estimate(json.loads((PLANS / "base.plan.json").read_text(encoding="utf-8")), prices)
    preview = estimate(json.loads((PLANS / "preview.plan.json").read_text(encoding="utf-8")), prices)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    setup = (REPO_ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    # The base: 0.12 + 0.54 + 0.24 + 1.08 = $1.98; a preview: 0.384 + 0.29622 + (55.2 + 9.6) / 730 = $0.77
    # (worked out in tests/core/test_cost.py)
    assert "once per repository (public IPv4, Application Load Balancer, NAT gateway) | **$1.98** |" in readme
    assert (
        "at the defaults (RDS PostgreSQL, RDS storage, Secrets Manager, Fargate Spot) | **$0.77**" in readme
    )
    assert "whether or not previews run: **$1.98/day**" in setup
    assert "with its own database): **$0.77/day** at most (Fargate Spot priced at the on-demand rate" in setup
    # 1.98 + 10 x 0.76898712... = $9.67
    assert "| 10 | $9.67 |" in setup
    assert cost_docs.summary(prices, base, preview) in readme
    assert cost_docs.breakdown(prices, base, preview) in setup


def _copies(tmp_path: Path) -> tuple[Path, Path, Path, tuple[str, ...]]:
    readme, setup, prices = tmp_path / "README.md", tmp_path / "setup.md", tmp_path / "prices.json"
    shutil.copy(REPO_ROOT / "README.md", readme)
    shutil.copy(REPO_ROOT / "docs" / "setup.md", setup)
    shutil.copy(REPO_ROOT / "prenv" / "core" / "prices.json", prices)
    return readme, setup, prices, ("--readme", str(readme), "--setup", str(setup), "--prices", str(prices))


def test_a_price_change_makes_the_check_fail_until_the_docs_are_regenerated(tmp_path: Path) -> None:
    readme, setup, prices, paths = _copies(tmp_path)
    table = json.loads(prices.read_text(encoding="utf-8"))
    table["prices"]["alb"]["hour"]["usd"] = "0.03"
    prices.write_text(json.dumps(table), encoding="utf-8")

    drift = _run("--check", *paths)
    assert drift.returncode == 1
    advice = "does not match prices.json; run `python scripts/cost_docs.py` and commit the result"
    assert drift.stderr.splitlines() == [f"cost_docs: README.md {advice}", f"cost_docs: setup.md {advice}"]
    assert _run(*paths).returncode == 0
    assert _run("--check", *paths).returncode == 0
    # The ALB at $0.03 x 24 h = $0.72 instead of $0.54: the base is $1.98 + $0.18 = $2.16.
    assert "(public IPv4, Application Load Balancer, NAT gateway) | **$2.16** |" in readme.read_text(
        encoding="utf-8"
    )
    assert "| `aws_lb.this` | Application Load Balancer | $0.72 | $0.03 x 24 h |" in setup.read_text(
        encoding="utf-8"
    )


def test_a_hand_edited_figure_is_caught(tmp_path: Path) -> None:
    readme, _, _, paths = _copies(tmp_path)
    readme.write_text(readme.read_text(encoding="utf-8").replace("**$1.98**", "**$1.50**"), encoding="utf-8")
    drift = _run("--check", *paths)
    assert drift.returncode == 1
    assert drift.stderr.startswith("cost_docs: README.md does not match prices.json")


def test_missing_or_doubled_markers_are_an_error(tmp_path: Path) -> None:
    readme, _, _, paths = _copies(tmp_path)
    readme.write_text("# prenv\n\nno figures here\n", encoding="utf-8")
    done = _run("--check", *paths)
    assert done.returncode == 1
    assert done.stderr == (
        f"cost_docs: {readme}: must hold <!-- cost-summary:start --> followed by <!-- cost-summary:end -->, "
        "each once\n"
    )
    start, end = cost_docs.SUMMARY
    for text in (f"{end}\n{start}\n", f"{start}\n{end}\n{start}\n{end}\n"):
        with pytest.raises(ValueError, match=r"^must hold <!-- cost-summary:start --> followed by"):
            cost_docs.updated(text, cost_docs.SUMMARY, "BLOCK")
    assert cost_docs.updated(f"a\n{start}\nold\n{end}\nb\n", cost_docs.SUMMARY, "NEW") == "a\nNEW\nb\n"
