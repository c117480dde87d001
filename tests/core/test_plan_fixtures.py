"""The committed plan fixtures are trimmed real plans of the roots as they are now (Terraform + moto): the
base with and without its shared database server, a preview in each database mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.plan_fixtures import FIXTURES, NAMES, PLANS, REPOSITORY, dump, make_plans, trim
from tests.terraform.conftest import Client

pytestmark = pytest.mark.terraform


@pytest.fixture
def repository() -> str:
    """The repository the committed plans are made for (tests/iam evaluates the provider's calls for the
    test's `repository`)."""
    return REPOSITORY


def test_the_fixtures_are_the_trimmed_plans_terraform_makes_of_the_roots(
    tmp_path: Path,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
    repository: str,
) -> None:
    plans = make_plans(tmp_path, tf_env, session_boto, new_bucket, repository)
    assert sorted(plans) == sorted(NAMES)
    for name in NAMES:
        committed = (FIXTURES / f"{name}.plan.json").read_text(encoding="utf-8")
        assert dump(trim(plans[name])) == committed, (
            f"tests/core/fixtures/{name}.plan.json is out of date with {PLANS[name]}: "
            "run `python -m tests.core.plan_fixtures` and commit the result"
        )
