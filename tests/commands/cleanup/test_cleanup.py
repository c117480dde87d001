"""`prenv cleanup` with real Terraform against moto and the PRs' states served by the fake GitHub."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import names_for
from tests.commands.cleanup.conftest import cleanup_env
from tests.github.fake import fake_github
from tests.helpers import light_config, run_cli, write_config

pytestmark = pytest.mark.terraform

# PR -> (its state on GitHub, how long ago its preview was last deployed)
PREVIEWS = {
    201: ("merged", timedelta(hours=1)),
    202: ("closed", timedelta(hours=1)),
    203: ("open, idle", timedelta(days=10)),
    204: ("open, fresh", timedelta(0)),
    205: ("open, idle, keep", timedelta(days=10)),
    206: ("deleted", timedelta(days=1)),
    207: ("open, idle, warned 2 days ago", timedelta(days=10)),
}
DESTROYED = {201, 202, 206, 207}


def _keys(boto: Any, bucket: str) -> list[str]:
    pages = boto("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _versions(boto: Any, bucket: str) -> list[tuple[str, str]]:
    listing = boto("s3").list_object_versions(Bucket=bucket)
    found = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return sorted((v["Key"], v["VersionId"]) for v in found)


def test_cleanup_destroys_exactly_the_right_previews(
    tmp_path: Path,
    aws_env: dict[str, str],
    boto: Any,
    state_bucket: str,
    light_root: Path,
    repository: str,
    s3_time: Callable[[timedelta], AbstractContextManager[None]],
    now: datetime,
) -> None:
    # A bucket per preview that cannot be deleted while it holds an object: PR 202's destroy will fail once.
    (light_root / "data.tf").write_text(
        'resource "aws_s3_bucket" "data" {\n  bucket = "${var.name_prefix}-data"\n}\n'
    )
    write_config(
        tmp_path,
        light_config(
            state_bucket,
            light_root,
            repository=repository,
            cleanup={"max_age": "7d", "warn_before": "1d", "concurrency": 4},
        ),
    )
    for number, (_, age) in PREVIEWS.items():
        with s3_time(age):
            result = run_cli(["deploy", "--pr", str(number)], env=aws_env, cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
    with s3_time(timedelta(days=2)):
        boto("s3").put_object(Bucket=state_bucket, Key="prenv/pr-207/prenv-warned.json", Body=b"{}")
    stuck = f"{names_for(202, repository).name_prefix}-data"
    boto("s3").put_object(Bucket=stuck, Key="keep-me.txt", Body=b"data")

    with fake_github(repository=repository) as fake:
        fake.add_pull(201, state="closed", merged=True)
        fake.add_pull(202, state="closed")
        fake.add_pull(203)
        fake.add_pull(204)
        fake.add_pull(205, labels=("prenv:keep",))
        fake.add_pull(207)
        env = cleanup_env(aws_env, tmp_path, fake)

        # A dry run changes nothing anywhere.
        before = _versions(boto, state_bucket)
        dry = run_cli(["cleanup", "--dry-run"], env=env, cwd=tmp_path, clock=lambda: now)
        assert dry.exit_code == 0, dry.stderr
        assert _versions(boto, state_bucket) == before
        assert {r.method for r in fake.requests} == {"GET"}
        assert "would destroy" in dry.stdout
        assert "would warn" in dry.stdout

        fake.requests.clear()
        first = run_cli(["cleanup"], env=env, cwd=tmp_path, clock=lambda: now)

        assert first.exit_code == 1
        lines = {line.split()[0]: line for line in first.stdout.splitlines() if line.startswith("pr-")}
        assert "destroy (PR merged)" in lines["pr-201"]
        assert lines["pr-201"].endswith("destroyed")
        assert "destroy (PR closed)" in lines["pr-202"]
        assert "FAILED (destroy-failed)" in lines["pr-202"]
        assert "warn (idle 10d, over the 7d limit: warned)" in lines["pr-203"]
        assert "warned: destroy after" in lines["pr-203"]
        assert "leave (active (idle 0m))" in lines["pr-204"]
        assert "keep (labelled prenv:keep)" in lines["pr-205"]
        assert "destroy (PR does not exist)" in lines["pr-206"]
        assert lines["pr-206"].endswith("destroyed")
        assert "destroy (idle 10d and warned 2d ago)" in lines["pr-207"]
        assert lines["pr-207"].endswith("destroyed")
        assert first.last_error_line.startswith(
            "prenv: 1 of 4 destroys failed: pr-202 (destroy-failed) [cleanup-failed]"
        )
        keys = _keys(boto, state_bucket)
        for number in PREVIEWS:
            has_state = f"prenv/pr-{number}/preview.tfstate" in keys
            assert has_state is (number not in DESTROYED or number == 202), number
        assert "prenv/pr-203/prenv-warned.json" in keys
        # The PR-state lists: one page of open PRs, one of closed ones (1 + ceil(N/100) each at most).
        lists = [r for r in fake.requests if r.operation == "pulls/list"]
        assert [r.query["state"] for r in lists] == ["open", "closed"]
        assert not [r for r in fake.requests if r.operation == "pulls/get"]
        warning = next(c for c in fake.comments[203] if "prenv" in c["body"])
        assert "will be destroyed" in warning["body"]
        assert "prenv:keep" in warning["body"]
        summary = (tmp_path / "summary.md").read_text()
        assert "| pr-201 | #201 | merged |" in summary
        # Every GitHub request of the run is counted: the PR lists, the warning, the destroys' comments
        # and Deployments (all through one adapter, shared by the concurrent destroys).
        assert f"GitHub API requests: {len(fake.requests)}\n" in first.stdout
        assert {r.operation for r in fake.requests} > {"pulls/list"}

        # The next run retries the failed destroy once its cause is gone, and changes nothing else.
        boto("s3").delete_object(Bucket=stuck, Key="keep-me.txt")
        second = run_cli(["cleanup"], env=env, cwd=tmp_path, clock=lambda: now)
        assert second.exit_code == 0, second.stdout + second.stderr
        lines = {line.split()[0]: line for line in second.stdout.splitlines() if line.startswith("pr-")}
        assert set(lines) == {"pr-202", "pr-203", "pr-204", "pr-205"}
        assert lines["pr-202"].endswith("destroyed")
        assert "leave (idle, warned; destroyed after" in lines["pr-203"]
        keys = _keys(boto, state_bucket)
        assert sorted({k.split("/")[1] for k in keys}) == ["pr-203", "pr-204", "pr-205"]
        marker = json.loads(
            boto("s3").get_object(Bucket=state_bucket, Key="prenv/pr-203/prenv-warned.json")["Body"].read()
        )
        assert set(marker) == {"warned_at", "expires_at"}
