"""`prenv exec` against the emulator: the exact `aws ecs execute-command`, printed or run (no shell)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.commands.troubleshoot import planting
from tests.commands.troubleshoot.conftest import Deployed

pytestmark = [pytest.mark.terraform, pytest.mark.usefixtures("tasks_stay_running")]

Deploy = Callable[[int, dict[str, str]], Deployed]


def _preview(
    boto: Any, deploy_outputs: Deploy, pr: int, *, exec_enabled: bool = True
) -> tuple[Deployed, Any]:
    probe = deploy_outputs(pr, {"url": f"https://pr-{pr}.preview.example.com/"})
    names = probe.names
    cluster = f"prenv-{names.repository_hash}"
    planted = planting.plant_preview(
        boto,
        cluster=cluster,
        service=names.ecs_service,
        target_group=names.target_group,
        exec_enabled=exec_enabled,
    )
    planting.plant_stopped_task(
        boto, planted, reason="Scaling activity", stop_code="ServiceSchedulerInitiated", exit_code=0
    )
    outputs = {"ecs_cluster": cluster, "ecs_service": names.ecs_service, "region": "us-east-1"}
    return deploy_outputs(pr, outputs), planted


def test_exec_prints_the_command_for_the_running_task(boto: Any, deploy_outputs: Deploy) -> None:
    deployed, planted = _preview(boto, deploy_outputs, 41)
    result = deployed.cli("exec", "41")
    assert result.exit_code == 0, result.stderr
    assert shlex.split(result.stdout) == [
        "aws", "ecs", "execute-command", "--region", "us-east-1", "--cluster", planted.cluster,
        "--task", planted.running[0], "--container", "app", "--interactive", "--command", "/bin/sh",
    ]  # fmt: skip
    assert result.stderr == ""

    document = json.loads(deployed.cli("exec", "--pr", "41", "--json", "--command", "python -V").stdout)
    assert document["task"] == planted.running[0]
    assert document["exec_enabled"] is True
    assert document["argv"][-2:] == ["--command", "python -V"]
    assert shlex.split(document["command"]) == document["argv"]


def test_exec_run_runs_the_aws_cli_with_an_argument_list(
    boto: Any, deploy_outputs: Deploy, tmp_path: Path
) -> None:
    deployed, planted = _preview(boto, deploy_outputs, 42)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.txt"
    for name, body in (
        ("aws", f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{record}"\nexit 7\n'),
        ("session-manager-plugin", "#!/bin/sh\nexit 0\n"),
    ):
        path = bin_dir / name
        path.write_text(body, encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    env = {**deployed.env, "PATH": f"{bin_dir}{os.pathsep}{deployed.env.get('PATH', '')}"}
    result = Deployed(deployed.directory, env, deployed.names).cli(
        "exec", "42", "--run", "--command", "ls -la; id"
    )
    assert result.exit_code == 7  # the AWS CLI's own exit status
    assert record.read_text(encoding="utf-8").splitlines() == [
        "ecs", "execute-command", "--region", "us-east-1", "--cluster", planted.cluster,
        "--task", planted.running[0], "--container", "app", "--interactive", "--command", "ls -la; id",
    ]  # fmt: skip
    assert "prenv: running aws ecs execute-command" in result.stderr


def test_exec_run_without_the_aws_cli_says_what_to_install(
    boto: Any, deploy_outputs: Deploy, tmp_path: Path
) -> None:
    deployed, _ = _preview(boto, deploy_outputs, 43)
    only_terraform = tmp_path / "bin"
    only_terraform.mkdir()
    (only_terraform / "terraform").symlink_to(shutil.which("terraform") or "terraform")
    env = {**deployed.env, "PATH": str(only_terraform)}
    result = Deployed(deployed.directory, env, deployed.names).cli("exec", "43", "--run")
    assert result.exit_code == 1
    assert result.last_error_line == (
        "prenv: the AWS CLI (aws) is not on PATH [exec-unavailable]; "
        "install AWS CLI v2, or run the printed command elsewhere"
    )


def test_exec_warns_when_ecs_exec_is_off_and_refuses_to_run(boto: Any, deploy_outputs: Deploy) -> None:
    deployed, planted = _preview(boto, deploy_outputs, 44, exec_enabled=False)
    printed = deployed.cli("exec", "44")
    assert printed.exit_code == 0
    assert printed.stdout.startswith("aws ecs execute-command ")
    warning = (
        f"ECS Exec is off for service {planted.service}: the command above would be refused; "
        "turn on enable_execute_command in terraform/preview and redeploy"
    )
    assert printed.stderr == f"prenv: warning: {warning}\n"
    refused = deployed.cli("exec", "44", "--run")
    assert refused.exit_code == 1
    assert refused.last_error_line == (
        f"prenv: ECS Exec is off for service {planted.service}: the command above would be refused "
        "[exec-unavailable]; turn on enable_execute_command in terraform/preview and redeploy"
    )


def test_exec_needs_a_running_task(boto: Any, deploy_outputs: Deploy) -> None:
    probe = deploy_outputs(45, {"url": "https://pr-45.preview.example.com/"})
    names = probe.names
    cluster = f"prenv-{names.repository_hash}"
    planting.plant_preview(
        boto, cluster=cluster, service=names.ecs_service, target_group=names.target_group, running=0
    )
    result = probe.cli("exec", "45")
    assert result.exit_code == 1
    assert result.last_error_line == (
        f"prenv: service {names.ecs_service} has no running task to open a shell in [exec-unavailable]; "
        "see why with `prenv status 45`"
    )
