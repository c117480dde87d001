"""The comment hint in the deploy marker, against moto's S3: read back, written, and never a failure."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from prenv.commands import activity
from prenv.commands.common import Services, Target, target
from prenv.report.port import NullReporter
from tests.github.fake import BOT
from tests.helpers import light_config, write_config

KEY = "prenv/pr-7/prenv-deployed.json"
COMMENT = {"id": 1234, "sha256": "b" * 64, "author": BOT, "environment": ""}


def services(tmp_path: Path, aws_env: dict[str, str], bucket: str, **env: str) -> Services:
    write_config(tmp_path, light_config(bucket, tmp_path / "root", repository="octo-org/app"))
    environment = {**aws_env, "GITHUB_TOKEN": "ghs_token", **env}
    return Services(env=environment, cwd=tmp_path, out=io.StringIO(), err=io.StringIO())


def put_marker(boto: Any, bucket: str, body: object) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    boto("s3").put_object(Bucket=bucket, Key=KEY, Body=data)


def hinted(svc: Services) -> Target:
    return activity.with_comment_hint(svc, target(svc, "destroy", "7"))


def test_the_marker_gives_the_hint(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str
) -> None:
    put_marker(boto, state_bucket, {"pr": 7, "repository": "octo-org/app", "comment": COMMENT})
    svc = services(tmp_path, aws_env, state_bucket)
    ctx = hinted(svc).ctx
    assert (ctx.comment_id, ctx.comment_sha, ctx.comment_author) == (1234, "b" * 64, BOT)
    assert isinstance(svc.err, io.StringIO)
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
def test_no_hint_from_a_marker_without_a_usable_comment(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, body: object
) -> None:
    put_marker(boto, state_bucket, body)
    svc = services(tmp_path, aws_env, state_bucket)
    assert hinted(svc).ctx.comment_id == 0
    assert isinstance(svc.err, io.StringIO)
    assert svc.err.getvalue() == ""


def test_no_marker_is_no_hint_and_no_noise(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str
) -> None:
    svc = services(tmp_path, aws_env, state_bucket)
    assert hinted(svc).ctx.comment_id == 0
    assert isinstance(svc.err, io.StringIO)
    assert svc.err.getvalue() == ""


def test_an_unreadable_marker_is_a_note_not_a_failure(tmp_path: Path, aws_env: dict[str, str]) -> None:
    svc = services(tmp_path, aws_env, "prenv-no-such-bucket")
    assert hinted(svc).ctx.comment_id == 0
    assert isinstance(svc.err, io.StringIO)
    assert svc.err.getvalue() == (
        "prenv: note: could not read the deploy marker of pr-7 (NoSuchBucket); "
        "the PR's comment will be searched for\n"
    )


def test_not_read_when_the_comment_is_not_edited_on_github(tmp_path: Path, aws_env: dict[str, str]) -> None:
    for env in ({"GITHUB_TOKEN": ""}, {"PRENV_SANDBOX": "1"}):
        svc = services(tmp_path, aws_env, "prenv-no-such-bucket", **env)
        assert hinted(svc).ctx.comment_id == 0
        assert isinstance(svc.err, io.StringIO)
        assert svc.err.getvalue() == ""  # no S3 request was made


def test_a_run_without_github_keeps_the_remembered_comment(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str
) -> None:
    put_marker(boto, state_bucket, {"pr": 7, "repository": "octo-org/app", "comment": COMMENT})
    svc = services(tmp_path, aws_env, state_bucket)
    activity.record_deploy(svc, hinted(svc), NullReporter())
    marker = json.loads(boto("s3").get_object(Bucket=state_bucket, Key=KEY)["Body"].read())
    assert marker["comment"] == COMMENT
    assert (marker["pr"], marker["repository"]) == (7, "octo-org/app")
