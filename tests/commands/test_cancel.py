"""A deploy cancelled during `terraform apply`, as a cancelled Actions step is: real prenv in its own
process, real Terraform, AWS on the emulator, GitHub on the local stand-in API.

The root gets one more resource after its three AWS resources: a `terraform_data` whose provisioner
marks that the apply got there, then sleeps. The signal comes while it sleeps, so the apply has created
real resources that must end up in the state.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.action import fake_github
from tests.commands.test_faults import _outputs
from tests.helpers import GITHUB_FIXTURES, light_config, run_cli, write_config

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

PAUSE = """
variable "apply_pause" {
  type    = number
  default = 0
}

variable "pause_marker" {
  type    = string
  default = "/dev/null"
}

# Created after the AWS resources; its provisioner says so (the marker file), then waits.
resource "terraform_data" "pause" {
  triggers_replace = [var.apply_pause]
  depends_on       = [aws_cloudwatch_log_group.this, aws_security_group.this, aws_ssm_parameter.image]

  provisioner "local-exec" {
    command = "touch ${var.pause_marker} && exec sleep ${var.apply_pause}"
  }
}
"""
AWS_RESOURCES = ["aws_cloudwatch_log_group.this", "aws_security_group.this", "aws_ssm_parameter.image"]
EVENT = GITHUB_FIXTURES / "webhooks" / "pull_request.opened.json"  # PR #2


@pytest.fixture
def github_api() -> Iterator[fake_github.FakeGitHub]:
    with fake_github.serve() as fake:
        yield fake


def _state(boto: Any, bucket: str) -> dict[str, Any]:
    body = boto("s3").get_object(Bucket=bucket, Key="prenv/pr-2/preview.tfstate")["Body"].read()
    document: dict[str, Any] = json.loads(body)
    return document


def _addresses(state: dict[str, Any]) -> list[str]:
    return sorted(f"{r['type']}.{r['name']}" for r in state["resources"] if r["mode"] == "managed")


def _tagged(boto: Any, repository: str) -> list[str]:
    pages = boto("resourcegroupstaggingapi").get_resources(
        TagFilters=[
            {"Key": "prenv:repository", "Values": [repository]},
            {"Key": "prenv:workspace", "Values": ["pr-2"]},
        ]
    )
    return sorted(item["ResourceARN"] for item in pages["ResourceTagMappingList"])


@pytest.mark.parametrize(("number", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_cancel_during_apply_loses_nothing(
    tmp_path: Path,
    aws_env: dict[str, str],
    boto: Any,
    state_bucket: str,
    light_root: Path,
    repository: str,
    github_api: fake_github.FakeGitHub,
    number: signal.Signals,
    status: int,
) -> None:
    (light_root / "pause.tf").write_text(PAUSE, encoding="utf-8")
    marker = tmp_path / "apply-reached-the-pause"
    variables = {"apply_pause": 120, "pause_marker": str(marker)}
    write_config(
        tmp_path,
        light_config(state_bucket, light_root, repository=repository, terraform={"variables": variables}),
    )
    output = tmp_path / "github_output"
    output.touch()
    env = {
        **aws_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": "ghs_fake-token-for-tests",
        "GITHUB_API_URL": github_api.url,
        "GITHUB_REPOSITORY": repository,
        "GITHUB_EVENT_PATH": str(EVENT),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_RUN_ID": "9",
    }
    prenv = subprocess.Popen(
        [sys.executable, "-m", "prenv", "deploy"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert prenv.poll() is None, prenv.communicate()
        assert time.monotonic() < deadline, "the apply never reached its pause"
        time.sleep(0.2)

    sent = time.monotonic()
    os.kill(prenv.pid, number)  # to prenv's process only, as the runner sends it
    stdout, stderr = prenv.communicate(timeout=120)
    print(f"{number.name}: prenv ended {time.monotonic() - sent:.2f}s after the signal")  # the figure

    assert prenv.returncode == status, stderr
    last = [line for line in stderr.splitlines() if line.startswith("prenv:")][-1]
    assert last.startswith(
        f"prenv: cancelled ({number.name}) during terraform apply: Terraform stopped gracefully"
    )
    assert last.endswith(
        "saved the state of what it had changed and released its lock; the preview may be partly updated: "
        "the state holds what was created, and the next deploy completes it [cancelled]; push a commit or "
        "comment `/prenv deploy` to deploy again (no `prenv unlock` needed)"
    )
    assert _outputs(output)["failure-reason"] == "cancelled"
    assert (
        f"::error title=prenv failed (cancelled)::cancelled ({number.name}) during terraform apply" in stdout
    )

    # Terraform saved what it had created and released its lock.
    keys = [item["Key"] for item in boto("s3").list_objects_v2(Bucket=state_bucket)["Contents"]]
    assert "prenv/pr-2/preview.tfstate.tflock" not in keys
    assert set(AWS_RESOURCES) <= set(_addresses(_state(boto, state_bucket)))
    assert len(_tagged(boto, repository)) == len(AWS_RESOURCES)

    # The PR says so: the comment (created as "deploying", then edited) and the Deployment's status.
    comments = [r for r in github_api.requests if r.operation.startswith("issues.") and r.method != "GET"]
    assert "Deploy of PR #2 cancelled" in json.loads(comments[-1].body)["body"]
    statuses = [
        json.loads(r.body)["state"]
        for r in github_api.requests
        if r.operation == "repos.create-deployment-status"
    ]
    assert statuses == ["in_progress", "error"]
    assert github_api.errors == []

    # The next deploy goes on from that state (no unlock), and the destroy leaves nothing tagged.
    variables["apply_pause"] = 0
    write_config(
        tmp_path,
        light_config(state_bucket, light_root, repository=repository, terraform={"variables": variables}),
    )
    again = run_cli(["deploy", "--pr", "2"], env=aws_env, cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
    assert set(AWS_RESOURCES) <= set(_addresses(_state(boto, state_bucket)))
    gone = run_cli(["destroy", "--pr", "2"], env=aws_env, cwd=tmp_path)
    assert gone.exit_code == 0, gone.stderr
    assert _tagged(boto, repository) == []
