"""The action's `doctor` input: `prenv doctor --quick` before a deploy or a plan, whose failure ends the
step with the doctor's line (the preview workflow turns it on)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

import prenv
from tests.action.conftest import WORKFLOWS, MakeRunner, load_yaml
from tests.action.fake_github import FakeGitHub
from tests.action.runner import ActionRun, UsesStandIn
from tests.action.test_action_moto import STAND_INS
from tests.helpers import light_config, write_config

# A stand-in prenv that appends each call (one per line, NUL between arguments) and fails when told.
FAKE_PRENV = """#!/usr/bin/env bash
if [ "${1:-}" = "--version" ]; then echo "prenv, version PRENV_VERSION"; exit 0; fi
printf '%s\\0' "$@" >>"$FAKE_LOG/calls"
printf '\\n' >>"$FAKE_LOG/calls"
if [ "$1" = doctor ]; then exit "${FAKE_DOCTOR_EXIT:-0}"; fi
exit 0
""".replace("PRENV_VERSION", prenv.__version__)


def _restore(with_values: dict[str, str]) -> dict[str, str]:
    venv = Path(with_values["path"])
    prenv = venv / "bin" / "prenv"
    prenv.parent.mkdir(parents=True, exist_ok=True)
    prenv.write_text(FAKE_PRENV, encoding="utf-8")
    prenv.chmod(prenv.stat().st_mode | stat.S_IXUSR)
    (venv / ".prenv-key").write_text(with_values["key"] + "\n", encoding="utf-8")
    return {"cache-hit": "true"}


USES: dict[str, UsesStandIn] = {
    "python": lambda _with: {"python-path": sys.executable},
    "venv-cache": _restore,
}


def _calls(log: Path) -> list[list[str]]:
    text = (log / "calls").read_text(encoding="utf-8") if (log / "calls").exists() else ""
    return [line.split("\0")[:-1] for line in text.splitlines()]


def _run(
    make_runner: MakeRunner, tmp_path: Path, inputs: dict[str, str], **env: str
) -> tuple[ActionRun, Path]:
    log = tmp_path / "fake-log"
    log.mkdir(exist_ok=True)
    job_env = {"PATH": os.environ["PATH"], "FAKE_LOG": str(log), "LANG": "C.UTF-8", **env}
    runner = make_runner("pull_request", "pull_request.opened", env=job_env, uses=USES)
    return runner.run(inputs), log


CONFIG = ["--config", ".github/prenv.yml"]


@pytest.mark.parametrize(
    ("inputs", "calls"),
    [
        ({"doctor": "true"}, [["doctor", "--quick", *CONFIG], ["deploy", *CONFIG]]),
        (
            {"doctor": "true", "command": "plan", "pr-number": "7", "image": "ecr/app:abc", "sha": "a" * 40},
            [
                ["doctor", "--quick", "--pr", "7", "--image", "ecr/app:abc", *CONFIG],
                ["plan", "--pr", "7", "--sha", "a" * 40, "--image", "ecr/app:abc", *CONFIG],
            ],
        ),
        ({"doctor": "false"}, [["deploy", *CONFIG]]),
        ({}, [["deploy", *CONFIG]]),  # off by default
        # Destroying and cleaning up need no set-up check.
        ({"doctor": "true", "command": "destroy"}, [["destroy", *CONFIG]]),
        ({"doctor": "true", "command": "cleanup"}, [["cleanup", *CONFIG]]),
    ],
)
def test_the_doctor_runs_before_a_deploy_or_a_plan(
    make_runner: MakeRunner, tmp_path: Path, inputs: dict[str, str], calls: list[list[str]]
) -> None:
    run, log = _run(make_runner, tmp_path, inputs)
    assert run.failed is None, run.failed
    assert _calls(log) == calls


def test_a_failed_check_ends_the_step_before_the_deploy(make_runner: MakeRunner, tmp_path: Path) -> None:
    run, log = _run(make_runner, tmp_path, {"doctor": "true"}, FAKE_DOCTOR_EXIT="1")
    step = run.step("run")
    assert (step.outcome, step.exit_code) == ("failure", 1)
    assert _calls(log) == [["doctor", "--quick", *CONFIG]]
    assert "prenv: checking the set-up first: prenv doctor --quick --config .github/prenv.yml" in step.stdout


def test_a_bad_doctor_input_is_bad_usage(make_runner: MakeRunner, tmp_path: Path) -> None:
    run, log = _run(make_runner, tmp_path, {"doctor": "maybe"})
    step = run.step("run")
    assert (step.outcome, step.exit_code, step.outputs.get("failure-reason")) == ("failure", 2, "bad-usage")
    assert "input 'doctor' must be true or false" in step.stdout
    assert _calls(log) == []


def test_the_preview_workflow_turns_the_doctor_on() -> None:
    steps = load_yaml(WORKFLOWS / "preview.yml")["jobs"]["deploy"]["steps"]
    prenv = next(step for step in steps if step.get("uses") == "./")
    assert prenv["with"]["doctor"] is True


@pytest.mark.terraform
def test_with_the_real_prenv_a_set_up_mistake_fails_with_the_doctors_line(
    make_runner: MakeRunner,
    aws_env: dict[str, str],
    github_api: FakeGitHub,
    tmp_path: Path,
    state_bucket: str,
    light_root: Path,
    repository: str,
    boto: Any,
) -> None:
    """The emulator's credentials are not terraform/bootstrap's role: in a workflow, the doctor says so
    before Terraform or GitHub is touched."""
    workspace = tmp_path / "workspace"
    write_config(workspace, light_config(state_bucket, light_root, repository=repository))
    runner = make_runner(
        "pull_request",
        "pull_request.opened",
        env=aws_env,
        uses=STAND_INS,
        workspace=workspace,
        api_url=github_api.url,
    )
    run = runner.run({"doctor": "true"})
    step = run.step("run")
    assert (step.outcome, step.exit_code) == ("failure", 1), step.stdout + step.stderr
    assert run.outputs["failure-reason"] == "setup-invalid"
    assert "[FAIL] aws.identity: the AWS credentials are arn:aws:sts::123456789012:user/moto" in step.stdout
    assert "github-preview -> fix: set the repository variable PRENV_AWS_ROLE_ARN" in step.stdout
    assert "prenv: running prenv deploy" not in step.stdout
    # GitHub saw the doctor's probes only (this stand-in accepts any ref; GitHub refuses that one), no
    # comment, no deployment status; no state was written.
    assert [r.operation for r in github_api.requests] == [
        "repos.get",
        "pulls.list",
        "issues.update-comment",
        "repos.create-deployment",
    ]
    assert "prenv-doctor..probe~" in github_api.requests[-1].body
    assert boto("s3").list_objects_v2(Bucket=state_bucket).get("KeyCount", 0) == 0
