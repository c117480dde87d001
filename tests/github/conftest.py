"""Fixtures of the GitHub tests: the fake API, an adapter on it with time patched, reporter inputs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prenv.core.config import Config, parse
from prenv.core.domain import Command, Context, DeployOutcome, Output
from prenv.core.plan import PlanSummary
from prenv.github.client import ACTIONS_BOT, GitHub
from prenv.report.pr import GitHubReporter
from prenv.report.sticky import CommentMemory
from tests.github.fake import FakeGitHub, fake_github

TOKEN = "ghs_" + "T0k3n" * 8  # an installation token, like the one Actions gives a workflow run
RUN_URL = "https://github.test/octo-org/app/actions/runs/77"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        yield server


class Clock:
    """Patched time: `sleep` records the wait and moves `now` forward."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gh(fake: FakeGitHub, clock: Clock) -> GitHub:
    """The adapter as the action makes it for the workflow's own token: its login given, never asked."""
    return GitHub(
        TOKEN, fake.repository, api_url=fake.api_url, sleep=clock.sleep, clock=clock.time, login=ACTIONS_BOT
    )


def make_config(text: str = "") -> Config:
    return parse("backend: {bucket: state, region: us-east-1}\n" + text)


def reporter(
    gh: GitHub, text: str = "", warnings: list[str] | None = None, memory: CommentMemory | None = None
) -> GitHubReporter:
    """prenv's GitHub reporter on `gh`, with the config `text`; its warnings go to `warnings`, and it
    remembers its comment in `memory`."""
    sink = warnings if warnings is not None else []
    return GitHubReporter(config=make_config(text), github=gh, warn=sink.append, memory=memory)


def make_ctx(command: str = "deploy", pr: int = 7, **extra: object) -> Context:
    """A context of PR `pr` for `command` (its name, as the CLI spells it)."""
    values: dict[str, object] = {
        "pr_number": pr,
        "repository": "octo-org/app",
        "workspace": f"pr-{pr}",
        "environment": f"pr-{pr}",
        "command": Command(command),
        "head_sha": SHA,
        "run_url": RUN_URL,
        "title": "Update the README",
        "head_ref": "changes",
    }
    values.update(extra)
    return Context(**values)  # type: ignore[arg-type]


def deployed(url: str = "https://pr-7.preview.example/", *, applied: bool = True) -> DeployOutcome:
    return DeployOutcome(
        summary=PlanSummary(add=3) if applied else PlanSummary(),
        plan_text="  # aws_cloudwatch_log_group.this will be created\n  + resource {}\n" if applied else "",
        applied=applied,
        url=url,
        outputs=(
            Output("url", url, False),
            Output("db_password", "hunter2-Sup3r-S3cret", True),
        ),
    )
