"""Workflow commands planted in what Terraform prints (an output, a planned value, an error message)
never reach the log as commands, with real Terraform against the emulator, in Actions mode with
`--verbose` (Terraform's own output shown); the masks come before any line that could show a value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import light_config, run_cli, write_config
from tests.report.test_inert import PLANTED, acted_on

pytestmark = pytest.mark.terraform

PAYLOAD = "\n".join(["first line", *PLANTED, "last line"])
ROOT = """
variable "payload" {
  type    = string
  default = ""
}

variable "fail_with" {
  type    = string
  default = ""
}

# A planned value: the plan shows each line of it at the start of a line.
resource "terraform_data" "payload" {
  input = var.payload

  lifecycle {
    precondition {
      condition     = var.fail_with == ""
      error_message = "refused:\\n${var.fail_with}"
    }
  }
}

output "payload" {
  value = var.payload
}

output "db_password" {
  value = "hunter2-named-secret"
}
"""


@pytest.fixture
def root(light_root: Path) -> Path:
    (light_root / "payload.tf").write_text(ROOT, encoding="utf-8")
    return light_root


def _config(bucket: str, root: Path, repository: str, variables: dict[str, str]) -> dict[str, Any]:
    # Actions mode without GitHub: the log, the outputs and the job summary are what is checked here.
    return light_config(
        bucket,
        root,
        repository=repository,
        terraform={"variables": variables},
        comment={"enabled": False},
        deployments={"enabled": False},
    )


def _env(aws_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**aws_env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}


def _own(acted: list[str]) -> list[str]:
    """The commands of `acted` that carry planted text (none may)."""
    return [line for line in acted if "INJECTED" in line or line.startswith("::add-mask::Preview")]


def test_planted_commands_in_outputs_plan_values_and_errors_stay_text(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, root: Path, repository: str
) -> None:
    variables = {"payload": PAYLOAD}
    write_config(tmp_path, _config(state_bucket, root, repository, variables))

    deployed = run_cli(["deploy", "--pr", "5", "--verbose"], env=_env(aws_env, tmp_path), cwd=tmp_path)

    assert deployed.exit_code == 0, deployed.stderr
    for stream in (deployed.stdout, deployed.stderr):
        assert _own(acted_on(stream)) == []
    assert "\\::add-mask::Preview" in deployed.stdout  # the output, shown as text
    assert "\\::error title=INJECTED::pwned" in deployed.stderr  # the plan, as Terraform printed it
    # The masks come first: a sensitive value is masked before any other line, and never shown.
    arn = boto("ssm").get_parameter(Name=f"/prenv/{_prefix(repository)}/image")["Parameter"]["ARN"]
    first_mask = deployed.stdout.index(f"::add-mask::{arn}")
    assert first_mask < deployed.stdout.index("Applied:")
    assert arn not in deployed.stderr
    assert deployed.stdout.count(arn) == 1  # in the add-mask line only
    # An output that is secret by its name only: masked, never shown, and the root is told to mark it.
    secret = "hunter2-named-secret"
    assert deployed.stdout.index(f"::add-mask::{secret}") < deployed.stdout.index("Applied:")
    assert deployed.stdout.count(secret) == 1
    assert secret not in deployed.stderr
    assert secret not in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "db_password = (sensitive value)" in deployed.stdout
    assert (
        "prenv: warning: the output(s) db_password look secret by their name but are not marked sensitive"
        in deployed.stderr
    )

    # An error message that carries the commands (a failed precondition).
    write_config(tmp_path, _config(state_bucket, root, repository, {**variables, "fail_with": PAYLOAD}))
    failed = run_cli(["plan", "--pr", "5"], env=_env(aws_env, tmp_path), cwd=tmp_path)

    assert failed.exit_code == 1
    assert failed.last_error_line.startswith("prenv: terraform plan failed: Resource precondition failed")
    assert "\\::error title=INJECTED::pwned" in failed.stderr  # Terraform's error text, shown as text
    for stream in (failed.stdout, failed.stderr):
        assert _own(acted_on(stream)) == []
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "INJECTED" in summary  # the summary is Markdown, not the log: the text is there, escaped


def _prefix(repository: str) -> str:
    from prenv.core.naming import names_for

    return names_for(5, repository).name_prefix
