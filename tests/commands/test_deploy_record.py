"""The comment hint in the deploy record, against moto's S3: read back, written, and never a failure."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from prenv.commands import wiring
from prenv.commands.wiring import DeployRecord, Services
from prenv.core.domain import Command
from prenv.report.sticky import hint_from_record
from tests.github.fake import BOT
from tests.helpers import light_config, write_config

KEY = "prenv/pr-7/prenv-deployed.json"
COMMENT = {"id": 1234, "sha256": "b" * 64, "author": BOT, "environment": ""}


def services(tmp_path: Path, aws_env: dict[str, str], bucket: str, **env: str) -> Services:
    write_config(tmp_path, light_config(bucket, tmp_path / "root", repository="octo-org/app"))
    environment = {**aws_env, "GITHUB_TOKEN": "ghs_token", **env}
    return Services(env=environment, cwd=tmp_path, out=io.StringIO(), err=io.StringIO())


def put_record(boto: Any, bucket: str, body: object) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    boto("s3").put_object(Bucket=bucket, Key=KEY, Body=data)


def record_of(svc: Services) -> DeployRecord:
    """The deploy record of PR 7's workspace, as `prenv destroy --pr 7` makes it."""
    job = wiring.invocation(svc, "7")
    tgt = wiring.target(job.ports, job.config, Command.DESTROY, job.number, job.event)
    return wiring.deploy_record(job.ports, job.config, tgt)


def hint_id(svc: Services) -> int:
    """The comment id the PR reporter would be given (0: none: it searches)."""
    found = record_of(svc)
    hint = hint_from_record(found.recall(), found.target.ctx)
    return hint.id if hint else 0


def test_the_record_gives_the_hint(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str
) -> None:
    put_record(boto, state_bucket, {"pr": 7, "repository": "octo-org/app", "comment": COMMENT})
    svc = services(tmp_path, aws_env, state_bucket)
    found = record_of(svc)
    hint = hint_from_record(found.recall(), found.target.ctx)
    assert hint is not None
    assert (hint.id, hint.sha, hint.author) == (1234, "b" * 64, BOT)
    assert isinstance(getattr(svc.err, "raw", None), io.StringIO)
    assert svc.err.getvalue() == ""


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        [1, 2],
        {"pr": 7, "repository": "octo-org/app"},  # written before comments were remembered
        {"pr": 8, "repository": "octo-org/app", "comment": COMMENT},
    ],
)
def test_no_hint_from_a_record_without_a_usable_comment(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, body: object
) -> None:
    put_record(boto, state_bucket, body)
    svc = services(tmp_path, aws_env, state_bucket)
    assert hint_id(svc) == 0
    assert isinstance(getattr(svc.err, "raw", None), io.StringIO)
    assert svc.err.getvalue() == ""


def test_no_record_is_no_hint_and_no_noise(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str
) -> None:
    svc = services(tmp_path, aws_env, state_bucket)
    assert hint_id(svc) == 0
    assert isinstance(getattr(svc.err, "raw", None), io.StringIO)
    assert svc.err.getvalue() == ""


def test_an_unreadable_record_is_a_note_not_a_failure(tmp_path: Path, aws_env: dict[str, str]) -> None:
    svc = services(tmp_path, aws_env, "prenv-no-such-bucket")
    assert hint_id(svc) == 0
    assert isinstance(getattr(svc.err, "raw", None), io.StringIO)
    assert svc.err.getvalue() == (
        "prenv: note: could not read the deploy record of pr-7 (NoSuchBucket); "
        "the PR's comment will be searched for\n"
    )


def test_not_read_when_the_comment_is_not_edited_on_github(tmp_path: Path, aws_env: dict[str, str]) -> None:
    for env in ({"GITHUB_TOKEN": ""}, {"PRENV_SANDBOX": "1"}):
        svc = services(tmp_path, aws_env, "prenv-no-such-bucket", **env)
        assert hint_id(svc) == 0
        assert isinstance(getattr(svc.err, "raw", None), io.StringIO)
        assert svc.err.getvalue() == ""  # no S3 request was made


def test_a_run_without_github_keeps_the_remembered_comment(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str
) -> None:
    put_record(boto, state_bucket, {"pr": 7, "repository": "octo-org/app", "comment": COMMENT})
    svc = services(tmp_path, aws_env, state_bucket)
    found = record_of(svc)
    found.write()
    written = json.loads(boto("s3").get_object(Bucket=state_bucket, Key=KEY)["Body"].read())
    assert written["comment"] == COMMENT
    assert (written["pr"], written["repository"]) == (7, "octo-org/app")
