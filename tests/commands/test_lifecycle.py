"""deploy -> redeploy -> destroy -> destroy again, with real Terraform against moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import names_for
from tests.helpers import light_config, run_cli, write_config

pytestmark = pytest.mark.terraform


def _objects(boto: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in boto("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_deploy_redeploy_destroy(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    names = names_for(12, repository)

    first = run_cli(["deploy", "--pr", "12"], env=aws_env, cwd=tmp_path)
    assert first.exit_code == 0, first.stderr
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in first.stdout
    assert f"Preview URL: http://{names.name_prefix}.preview.invalid/" in first.stdout
    assert _objects(boto, state_bucket) == ["prenv/pr-12/prenv-deployed.json", "prenv/pr-12/preview.tfstate"]
    marker = json.loads(
        boto("s3").get_object(Bucket=state_bucket, Key="prenv/pr-12/prenv-deployed.json")["Body"].read()
    )
    assert marker["pr"] == 12
    assert marker["deployed_at"].endswith("+00:00")
    groups = boto("logs").describe_log_groups(logGroupNamePrefix=f"/prenv/{names.name_prefix}")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [f"/prenv/{names.name_prefix}"]
    tags = boto("logs").list_tags_for_resource(resourceArn=groups[0]["logGroupArn"])["tags"]
    assert tags == {"prenv:repository": repository, "prenv:pr": "12", "prenv:workspace": "pr-12"}

    again = run_cli(["deploy", "--pr", "12"], env=aws_env, cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
    assert "No changes: nothing was applied." in again.stdout

    gone = run_cli(["destroy", "--pr", "12"], env=aws_env, cwd=tmp_path)
    assert gone.exit_code == 0, gone.stderr
    assert "Destroyed 3 resource(s); workspace pr-12 deleted." in gone.stdout
    assert _objects(boto, state_bucket) == []
    assert (
        boto("logs").describe_log_groups(logGroupNamePrefix=f"/prenv/{names.name_prefix}")["logGroups"] == []
    )

    twice = run_cli(["destroy", "--pr", "12"], env=aws_env, cwd=tmp_path)
    assert twice.exit_code == 0, twice.stderr
    assert "Nothing to destroy: workspace pr-12 does not exist." in twice.stdout

    # The PR is reopened: the same data directory last selected the deleted workspace.
    reopened = run_cli(["deploy", "--pr", "12"], env=aws_env, cwd=tmp_path)
    assert reopened.exit_code == 0, reopened.stdout + reopened.stderr
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in reopened.stdout
    closed = run_cli(["destroy", "--pr", "12"], env=aws_env, cwd=tmp_path)
    assert closed.exit_code == 0, closed.stderr
    assert "Destroyed 3 resource(s); workspace pr-12 deleted." in closed.stdout
    assert _objects(boto, state_bucket) == []
