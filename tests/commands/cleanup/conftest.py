"""Cleanup fixtures: one fixed "now" for the emulator's S3 clock and for cleanup's decisions, and the
environment of a cleanup run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.github.conftest import TOKEN
from tests.github.fake import FakeGitHub


@pytest.fixture
def now() -> datetime:
    """The moment a test's cleanup runs at (`run_cli(..., clock=lambda: now)`): the ages it sees are
    exactly those the test set, however long the machine took in between."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def s3_time(
    monkeypatch: pytest.MonkeyPatch, now: datetime
) -> Callable[[timedelta], AbstractContextManager[None]]:
    """`with s3_time(timedelta(days=10)):` objects written meanwhile are 10 days older than `now`.

    The emulator runs in this process, so its S3 clock (moto.s3.models.utcnow) can be set: this is how
    the tests get previews that have been idle for days without waiting days.
    """
    import moto.s3.models

    original = moto.s3.models.utcnow

    @contextmanager
    def back(age: timedelta) -> Iterator[None]:
        moment = (now - age).replace(tzinfo=None)
        monkeypatch.setattr(moto.s3.models, "utcnow", lambda: moment)
        try:
            yield
        finally:
            monkeypatch.setattr(moto.s3.models, "utcnow", original)

    return back


def cleanup_env(aws_env: dict[str, str], tmp_path: Path, fake: FakeGitHub) -> dict[str, str]:
    """A scheduled run in Actions: the token, the API, outputs and summary files; no event about a PR."""
    return {
        **aws_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": fake.api_url,
        "GITHUB_REPOSITORY": fake.repository,
        "GITHUB_SERVER_URL": "https://github.test",
        "GITHUB_RUN_ID": "91",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
