"""Faults with real Terraform against moto: lock contention and a destroy that fails lose nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import names_for
from tests.helpers import light_config, read_outputs, run_cli, write_config

pytestmark = pytest.mark.terraform

LOCK = {
    "ID": "5f2c0e8a-3b7d-4a51-9c1e-0d4b2a6f9e77",
    "Operation": "OperationTypeApply",
    "Info": "",
    "Who": "runner@fv-az123-456",
    "Version": "1.11.4",
    "Created": "2026-11-29T04:12:13.141592Z",
    "Path": "",
}


def _state(boto: Any, bucket: str, key: str) -> dict[str, Any]:
    head = boto("s3").head_object(Bucket=bucket, Key=key)
    return {"etag": head["ETag"], "version": head.get("VersionId")}


_outputs = read_outputs


def test_lock_contention_changes_nothing(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    write_config(
        tmp_path,
        light_config(state_bucket, light_root, repository=repository, terraform={"lock_timeout": "2s"}),
    )
    assert run_cli(["deploy", "--pr", "31"], env=aws_env, cwd=tmp_path).exit_code == 0
    key = "prenv/pr-31/preview.tfstate"
    before = _state(boto, state_bucket, key)
    # Hold the lock the way Terraform's S3 backend does: a lock object next to the state.
    boto("s3").put_object(
        Bucket=state_bucket, Key=key + ".tflock", Body=json.dumps({**LOCK, "Path": f"{state_bucket}/{key}"})
    )
    output = tmp_path / "github_output"
    output.touch()
    env = {**aws_env, "GITHUB_OUTPUT": str(output)}

    result = run_cli(["deploy", "--pr", "31", "--image", "example/changed:2"], env=env, cwd=tmp_path)

    assert result.exit_code == 1
    assert result.last_error_line == (
        f"prenv: the state is locked: lock {LOCK['ID']} held by runner@fv-az123-456 since "
        "2026-11-29 04:12:13.141592 +0000 UTC (OperationTypeApply) [state-locked]; wait for the other run to "
        "finish and retry; if no run holds it, release it with "
        f"`prenv unlock --pr <N> --lock-id {LOCK['ID']}`"
    )
    assert _outputs(output)["failure-reason"] == "state-locked"
    assert _state(boto, state_bucket, key) == before
    names = names_for(31, repository)
    parameter = boto("ssm").get_parameter(Name=f"/prenv/{names.name_prefix}/image")["Parameter"]
    assert parameter["Value"] != "example/changed:2"  # nothing was applied
    assert (
        boto("s3").get_object(Bucket=state_bucket, Key=key + ".tflock")["Body"].read()
    )  # their lock is theirs


def test_failed_destroy_keeps_workspace_and_state(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    names = names_for(32, repository)
    data_bucket = f"{names.name_prefix}-data"
    # A bucket that cannot be deleted while it holds an object: a real reason for a destroy to fail.
    (light_root / "data.tf").write_text(
        f'resource "aws_s3_bucket" "data" {{\n  bucket = "{data_bucket}"\n}}\n'
    )
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    assert run_cli(["deploy", "--pr", "32"], env=aws_env, cwd=tmp_path).exit_code == 0
    boto("s3").put_object(Bucket=data_bucket, Key="uploads/report.csv", Body=b"a,b\n")
    output = tmp_path / "github_output"
    output.touch()

    failed = run_cli(["destroy", "--pr", "32"], env={**aws_env, "GITHUB_OUTPUT": str(output)}, cwd=tmp_path)

    assert failed.exit_code == 1
    assert "BucketNotEmpty" in failed.stderr  # Terraform's own error is shown
    assert failed.last_error_line.startswith("prenv: terraform destroy failed: ")
    assert failed.last_error_line.endswith(
        "[destroy-failed]; the workspace and its state were kept; fix the cause and run `prenv destroy` again"
    )
    assert _outputs(output)["failure-reason"] == "destroy-failed"
    state = json.loads(
        boto("s3").get_object(Bucket=state_bucket, Key="prenv/pr-32/preview.tfstate")["Body"].read()
    )
    assert [r["type"] for r in state["resources"]] == ["aws_s3_bucket"]

    boto("s3").delete_object(Bucket=data_bucket, Key="uploads/report.csv")
    retried = run_cli(["destroy", "--pr", "32"], env=aws_env, cwd=tmp_path)
    assert retried.exit_code == 0, retried.stderr
    assert "Destroyed 1 resource(s); workspace pr-32 deleted." in retried.stdout
    assert boto("s3").list_objects_v2(Bucket=state_bucket).get("KeyCount") == 0


def test_plan_only_applies_nothing(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    result = run_cli(["plan", "--pr", "33"], env=aws_env, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in result.stdout
    names = names_for(33, repository)
    assert (
        boto("logs").describe_log_groups(logGroupNamePrefix=f"/prenv/{names.name_prefix}")["logGroups"] == []
    )


def test_pr_number_from_the_event(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, light_root: Path, repository: str
) -> None:
    from tests.helpers import GITHUB_FIXTURES

    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    event = GITHUB_FIXTURES / "webhooks" / "pull_request.opened.json"
    result = run_cli(["plan"], env={**aws_env, "GITHUB_EVENT_PATH": str(event)}, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert f"prenv plan: PR #2 of {repository}, workspace pr-2" in result.stdout


def test_unlock_releases_only_the_named_lock(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    write_config(
        tmp_path,
        light_config(state_bucket, light_root, repository=repository, terraform={"lock_timeout": "1s"}),
    )
    assert run_cli(["deploy", "--pr", "34"], env=aws_env, cwd=tmp_path).exit_code == 0
    key = "prenv/pr-34/preview.tfstate.tflock"
    boto("s3").put_object(
        Bucket=state_bucket, Key=key, Body=json.dumps({**LOCK, "Path": f"{state_bucket}/x"})
    )

    missing = run_cli(["unlock", "--pr", "34"], env=aws_env, cwd=tmp_path)
    assert missing.exit_code == 2
    assert missing.last_error_line == (
        "prenv: --lock-id is required: prenv releases only the lock you name [bad-usage]; "
        "copy the ID from the state-locked error or from `prenv cleanup`'s stale-lock report"
    )
    wrong = run_cli(["unlock", "--pr", "34", "--lock-id", "not-the-id"], env=aws_env, cwd=tmp_path)
    assert wrong.exit_code == 1
    assert wrong.last_error_line.startswith("prenv: terraform force-unlock not-the-id failed")
    assert "[unlock-failed]" in wrong.last_error_line
    assert boto("s3").get_object(Bucket=state_bucket, Key=key)["Body"].read()  # still held

    right = run_cli(["unlock", "--pr", "34", "--lock-id", LOCK["ID"]], env=aws_env, cwd=tmp_path)
    assert right.exit_code == 0, right.stderr
    assert right.stdout.endswith(f"Released lock {LOCK['ID']} of workspace pr-34.\n")
    assert boto("s3").list_objects_v2(Bucket=state_bucket, Prefix=key).get("KeyCount") == 0
    assert run_cli(["deploy", "--pr", "34"], env=aws_env, cwd=tmp_path).exit_code == 0


def test_resources_outside_the_state_are_reported_and_block_the_destroy(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    """What a killed run leaves: a tagged resource no state holds. The deploy that trips on it names it,
    and no destroy reports success while it exists."""
    names = names_for(44, repository)
    name = f"/prenv/{names.name_prefix}/image"
    tags = [
        {"Key": "prenv:repository", "Value": repository},
        {"Key": "prenv:workspace", "Value": "pr-44"},
    ]
    boto("ssm").put_parameter(Name=name, Value="left-behind", Type="String", Tags=tags)
    arn = boto("ssm").get_parameter(Name=name)["Parameter"]["ARN"]
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))

    deployed = run_cli(["deploy", "--pr", "44"], env=aws_env, cwd=tmp_path)

    assert deployed.exit_code == 1
    assert deployed.last_error_line.endswith(
        f"1 resource(s) tagged for pr-44 are outside its state (left by an interrupted run): {arn} "
        "[apply-failed]; delete them (or `terraform import` them into the workspace), then deploy again"
    )

    destroyed = run_cli(["destroy", "--pr", "44"], env=aws_env, cwd=tmp_path)

    assert destroyed.exit_code == 1
    assert destroyed.last_error_line == (
        f"prenv: 1 resource(s) tagged for workspace pr-44 remain after the destroy, outside its state: {arn} "
        "[destroy-failed]; they were left by an interrupted run: delete them with `prenv cleanup "
        "--delete-orphans` (it lists the kinds it cannot delete) or in the AWS console, then run "
        "`prenv destroy` again"
    )
    assert "Destroyed" not in destroyed.stdout
    boto("ssm").delete_parameter(Name=name)
    again = run_cli(["destroy", "--pr", "44"], env=aws_env, cwd=tmp_path)
    assert again.exit_code == 0, again.stderr


@pytest.mark.parametrize("ours", [True, False])
def test_after_an_escalated_cancel_prenv_releases_only_its_own_lock(
    tmp_path: Path,
    aws_env: dict[str, str],
    boto: Any,
    state_bucket: str,
    light_root: Path,
    repository: str,
    ours: bool,
) -> None:
    """Terraform stopped at once (a second signal) leaves its lock: prenv releases it when the lock is
    certainly that Terraform's (this machine's user, taken after the command started), and only then."""
    import time
    import uuid
    from datetime import UTC, datetime

    from prenv.commands import wiring
    from prenv.commands.wiring import Services
    from prenv.core.domain import Command
    from prenv.core.errors import Cancelled
    from prenv.engine.process import local_user

    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository))
    assert run_cli(["deploy", "--pr", "45"], env=aws_env, cwd=tmp_path).exit_code == 0
    key = "prenv/pr-45/preview.tfstate.tflock"
    started = time.time() - 5
    lock = {
        **LOCK,
        "ID": str(uuid.uuid4()),
        "Who": local_user() if ours else "runner@another-machine",
        "Created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    boto("s3").put_object(Bucket=state_bucket, Key=key, Body=json.dumps(lock))
    error = Cancelled(
        "cancelled (SIGINT, then SIGTERM) during terraform apply: Terraform was stopped before it finished "
        "stopping; its state was saved at the first signal, but its lock may still be held",
        signal_name="SIGINT",
        escalated=True,
        since=started,
    )
    services = Services(env=aws_env, cwd=tmp_path)
    job = wiring.invocation(services, "45")
    tgt = wiring.target(job.ports, job.config, Command.DEPLOY, 45)
    with wiring.engine(job.ports, job.config, tgt) as eng:
        wiring.release_own_lock(job.ports, tgt, eng, error)

    keys = [item["Key"] for item in boto("s3").list_objects_v2(Bucket=state_bucket).get("Contents", [])]
    assert (key in keys) is not ours
    released = f"its state was saved at the first signal, and prenv released the lock {lock['ID']} it left"
    assert (released in error.message) is ours
