"""deploy -> redeploy -> destroy -> destroy again, with real Terraform against moto."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import names_for
from tests.helpers import light_config, recording_terraform, run_cli, terraform_calls, write_config

pytestmark = pytest.mark.terraform


def _objects(boto: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in boto("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


# The Terraform calls of each command, with the workspace each runs in (TF_WORKSPACE): the least the job
# needs. No `workspace list`, `select` or `new` (TF_WORKSPACE names it; `plan` creates a new one), one
# `show` (the human-readable plan is plan's own output) run beside the apply, no `state list` or `output`
# (the bucket holds the state).
FIRST_DEPLOY = [
    ("default", "init"),
    ("pr-12", "plan"),
    ("pr-12", "apply -auto-approve"),  # and, at the same time, the next (in any order: `ordered`)
    ("pr-12", "show -json"),
]
REDEPLOY = [("default", "init"), ("pr-12", "plan"), ("pr-12", "show -json")]
DESTROY = [("default", "init"), ("pr-12", "destroy -auto-approve"), ("default", "workspace delete pr-12")]


def ordered(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A deploy's calls, the two that run at once (after init and plan) sorted."""
    return calls[:2] + sorted(calls[2:])


def test_deploy_redeploy_destroy(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    names = names_for(12, repository)
    wrapper, log = recording_terraform(tmp_path / "bin", str(shutil.which("terraform")))
    aws_env = {**aws_env, "PRENV_TERRAFORM": str(wrapper)}

    def calls_of(*argv: str) -> tuple[Any, list[tuple[str, str]]]:
        before = len(terraform_calls(log))
        result = run_cli(argv, env=aws_env, cwd=tmp_path)
        return result, [(c.workspace, c.command) for c in terraform_calls(log, since=before)]

    first, calls = calls_of("deploy", "--pr", "12")
    assert first.exit_code == 0, first.stderr
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in first.stdout
    assert f"Preview URL: http://{names.name_prefix}.preview.invalid/" in first.stdout
    assert ordered(calls) == FIRST_DEPLOY
    show, apply = sorted(terraform_calls(log)[-2:], key=lambda c: c.command != "show -json")
    assert show.start < apply.end  # they ran at the same time
    assert apply.start < show.end
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

    again, calls = calls_of("deploy", "--pr", "12")
    assert again.exit_code == 0, again.stderr
    assert "No changes: nothing was applied." in again.stdout
    assert calls == REDEPLOY

    gone, calls = calls_of("destroy", "--pr", "12")
    assert gone.exit_code == 0, gone.stderr
    assert "Destroyed 3 resource(s); workspace pr-12 deleted." in gone.stdout
    assert calls == DESTROY
    assert _objects(boto, state_bucket) == []
    assert (
        boto("logs").describe_log_groups(logGroupNamePrefix=f"/prenv/{names.name_prefix}")["logGroups"] == []
    )

    twice, calls = calls_of("destroy", "--pr", "12")
    assert twice.exit_code == 0, twice.stderr
    assert "Nothing to destroy: workspace pr-12 does not exist." in twice.stdout
    assert calls == [("default", "init")]

    # The PR is reopened: the same data directory last selected the deleted workspace.
    reopened, calls = calls_of("deploy", "--pr", "12")
    assert reopened.exit_code == 0, reopened.stdout + reopened.stderr
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in reopened.stdout
    assert ordered(calls) == FIRST_DEPLOY
    closed, calls = calls_of("destroy", "--pr", "12")
    assert closed.exit_code == 0, closed.stderr
    assert calls == DESTROY
    assert "Destroyed 3 resource(s); workspace pr-12 deleted." in closed.stdout
    assert _objects(boto, state_bucket) == []
