"""scripts/gates.sh passes this repository's workflows and action and rejects the known-bad ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.action.runner import BASH
from tests.helpers import REPO_ROOT

GATES = REPO_ROOT / "scripts" / "gates.sh"
BAD = Path("tests/fixtures/bad-workflow")
BAD_WORKFLOW = BAD / ".github/workflows/preview.yml"
BAD_ACTION = BAD / "action.yml"


# What CI machines set; zizmor colours its report under any of them unless told not to.
_CI_COLOUR = {"CI": "true", "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1"}


def _gates(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_CI_COLOUR, "PYTHON": sys.executable}
    return subprocess.run(
        [BASH, str(GATES), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def bad() -> subprocess.CompletedProcess[str]:
    return _gates(str(BAD / ".github/workflows"), str(BAD_ACTION))


def test_the_repository_passes_every_gate() -> None:
    result = _gates()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
    assert "-- IAM policies (parliament, policy_sentry): ok" in result.stdout
    assert "iam lint: 7 policies, 0 unexplained finding(s)" in result.stdout
    assert "gates: all passed" in result.stdout


def test_the_known_bad_files_are_rejected(bad: subprocess.CompletedProcess[str]) -> None:
    assert bad.returncode == 1
    assert "gates: FAILED: zizmor,pinned actions" in bad.stdout


@pytest.mark.parametrize(
    ("rule", "where", "what"),
    [
        ("dangerous-triggers", f"{BAD_WORKFLOW}:5", "pull_request_target checking out the PR's head"),
        ("excessive-permissions", f"{BAD_WORKFLOW}:8", "write-all permissions"),
        ("template-injection", f"{BAD_WORKFLOW}:18", "the PR title inside run:"),
        ("template-injection", f"{BAD_ACTION}:16", "an input inside run:"),
        ("unpinned-uses", f"{BAD_WORKFLOW}:14", "actions/checkout by tag"),
        ("unpinned-uses", f"{BAD_WORKFLOW}:23", "a third-party action by branch"),
        ("unpinned-uses", f"{BAD_ACTION}:11", "setup-python by tag in the action"),
        ("artipacked", f"{BAD_WORKFLOW}:14", "checkout keeps the token on disk"),
    ],
)
def test_zizmor_reports_each_mistake(
    bad: subprocess.CompletedProcess[str], rule: str, where: str, what: str
) -> None:
    finding = re.compile(rf"^(error|warning)\[{re.escape(rule)}\]: .*\n\s*--> {re.escape(where)}:\d+$", re.M)
    assert finding.search(bad.stdout), f"zizmor did not report {rule} at {where} ({what})"


@pytest.mark.parametrize(
    ("line", "ref"),
    [
        (f"{BAD_WORKFLOW}:14", "actions/checkout@v4"),
        (f"{BAD_WORKFLOW}:23", "example-org/deploy-preview@main"),
        (f"{BAD_ACTION}:11", "actions/setup-python@v5"),
    ],
)
def test_the_pin_check_names_each_unpinned_action(
    bad: subprocess.CompletedProcess[str], line: str, ref: str
) -> None:
    assert f"{line}: {ref}: not pinned to a full commit SHA" in bad.stdout


def test_check_jsonschema_rejects_files_that_break_githubs_schemas() -> None:
    result = _gates(str(BAD / "schema" / "workflows"), str(BAD / "schema" / "action.yml"))
    assert result.returncode == 1
    assert "-- check-jsonschema (workflows): FAILED" in result.stdout
    assert "$.jobs.build: 'runs-on' is a required property" in result.stdout
    assert "$.permissions.contents: 'everything' is not one of ['read', 'write', 'none']" in result.stdout
    assert "-- check-jsonschema (actions): FAILED" in result.stdout
    assert "schema/action.yml::$: 'runs' is a required property" in result.stdout
