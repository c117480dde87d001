"""`prenv logs` against the emulator: log events planted through boto3, printed like `kubectl logs`."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from prenv.commands import logs
from prenv.commands.wiring import Services
from prenv.core.naming import names_for
from tests.commands.troubleshoot import planting
from tests.commands.troubleshoot.conftest import Deployed

pytestmark = pytest.mark.terraform

Deploy = Callable[[int, dict[str, str]], Deployed]
TASK_A = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TASK_B = "aa11bb22cc33dd44ee55ff6677889900"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(\w{8})\] (.*)$")


def _messages(stdout: str) -> list[tuple[str, str]]:
    found = []
    for line in stdout.splitlines():
        match = LINE.match(line)
        assert match, line
        found.append((match.group(1), match.group(2)))
    return found


@pytest.fixture
def preview_with_logs(boto: Any, deploy_outputs: Deploy, repository: str) -> Deployed:
    group = f"/prenv/{names_for(31, repository).repository_hash}/pr31"  # unique on the shared emulator
    deployed = deploy_outputs(31, {"url": "https://pr-31.preview.example.com/", "log_group": group})
    planting.plant_logs(
        boto, group, f"app/app/{TASK_A}", [(200, "three hours ago"), (30, "serving on 0.0.0.0:8080")]
    )
    planting.plant_logs(
        boto, group, f"app/app/{TASK_B}", [(20, "health check failed: database does not answer")]
    )
    planting.plant_logs(boto, group, f"app/app/{TASK_A}", [(5, '"GET / HTTP/1.1" 200 512')])
    return deployed


def test_logs_prints_the_window_oldest_first_with_time_and_task(preview_with_logs: Deployed) -> None:
    result = preview_with_logs.cli("logs", "31")
    assert result.exit_code == 0, result.stderr
    assert _messages(result.stdout) == [
        (TASK_A[:8], "serving on 0.0.0.0:8080"),
        (TASK_B[:8], "health check failed: database does not answer"),
        (TASK_A[:8], '"GET / HTTP/1.1" 200 512'),
    ]

    narrow = preview_with_logs.cli("logs", "--pr", "31", "--since", "10m")
    assert _messages(narrow.stdout) == [(TASK_A[:8], '"GET / HTTP/1.1" 200 512')]

    wide = preview_with_logs.cli("logs", "31", "--since", "4h")
    assert _messages(wide.stdout)[0] == (TASK_A[:8], "three hours ago")


def test_logs_json_is_one_object_per_line(preview_with_logs: Deployed) -> None:
    result = preview_with_logs.cli("logs", "31", "--json", "--since", "25m")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["task"], r["stream"], r["message"]) for r in records] == [
        (TASK_B, f"app/app/{TASK_B}", "health check failed: database does not answer"),
        (TASK_A, f"app/app/{TASK_A}", '"GET / HTTP/1.1" 200 512'),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r["time"]) for r in records)


def test_follow_prints_new_lines_once_until_interrupted(boto: Any, preview_with_logs: Deployed) -> None:
    out = io.StringIO()
    services = Services(
        env=preview_with_logs.env, out=out, err=io.StringIO(), cwd=preview_with_logs.directory
    )
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 1:
            group = f"/prenv/{preview_with_logs.names.repository_hash}/pr31"
            planting.plant_logs(boto, group, f"app/app/{TASK_B}", [(0, "a new line")])
        elif len(polls) == 3:
            raise KeyboardInterrupt

    status = logs.run(services, "31", since="10m", follow=True, sleep=sleep)
    assert status == 0
    assert _messages(out.getvalue()) == [(TASK_A[:8], '"GET / HTTP/1.1" 200 512'), (TASK_B[:8], "a new line")]
    assert polls == [2.0, 2.0, 2.0]


def test_a_missing_log_group_is_a_clear_failure(deploy_outputs: Deploy) -> None:
    deployed = deploy_outputs(32, {"url": "https://pr-32.preview.example.com/"})
    result = deployed.cli("logs", "32")
    assert result.exit_code == 1
    assert result.last_error_line == (
        f"prenv: log group {deployed.names.log_group} does not exist in us-east-1 [preview-not-found]; "
        "the preview of PR 32 may not be deployed; see `prenv status 32`"
    )


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("5x", "--since: '5x' is not a duration; write a number and a unit, such as 30m, 12h or 7d"),
        ("0m", "--since must be longer than 0, such as 10m"),
    ],
)
def test_a_bad_since_is_refused_before_anything_runs(configured: Deployed, since: str, message: str) -> None:
    result = configured.cli("logs", "3", "--since", since)
    assert result.exit_code == 2
    assert result.last_error_line == f"prenv: {message} [bad-usage]"
