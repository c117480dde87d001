"""`prenv exec PR`: the exact `aws ecs execute-command` for a running task of the preview; `--run` runs it."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from prenv.aws.preview import find_service, not_found
from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core import troubleshoot
from prenv.core.domain import Command
from prenv.core.errors import FailureReason, PrenvError

Runner = Callable[..., subprocess.CompletedProcess[Any]]


def _unavailable(message: str, hint: str) -> PrenvError:
    return PrenvError(message, reason=FailureReason.EXEC_UNAVAILABLE, hint=hint)


def run(
    services: Services,
    pr: str | None,
    *,
    container: str = troubleshoot.CONTAINER,
    command: str = "/bin/sh",
    execute: bool = False,
    as_json: bool = False,
    runner: Runner = subprocess.run,
) -> int:
    preview = find_service(wiring.open_preview(services, Command.EXEC, pr))
    loc = preview.location
    if preview.service is None:
        raise not_found(preview)
    tasks = [troubleshoot.task(t) for t in preview.aws.ecs_tasks(preview.cluster, loc.service, "RUNNING")]
    chosen = troubleshoot.running_task_for_exec(tasks)
    if chosen is None:
        raise _unavailable(
            f"service {loc.service} has no running task to open a shell in",
            hint=f"see why with `prenv status {loc.pr}`",
        )
    names = [c.name for c in chosen.containers]
    if names and container not in names:
        raise _unavailable(
            f"task {chosen.id} has no container {container!r} (it has {', '.join(names)})",
            hint="pass --container NAME",
        )
    argv = troubleshoot.exec_argv(loc, preview.cluster, chosen.id, container=container, command=command)
    enabled = bool(preview.service.get("enableExecuteCommand"))
    if as_json:
        document = {
            "task": chosen.id,
            "container": container,
            "cluster": preview.cluster,
            "region": loc.region,
            "exec_enabled": enabled,
            "argv": argv,
            "command": shlex.join(argv),
        }
        services.out.write(json.dumps(document, indent=2) + "\n")
    elif not execute:
        services.out.write(shlex.join(argv) + "\n")
    if not enabled:
        message = f"ECS Exec is off for service {loc.service}: the command above would be refused"
        hint = "turn on enable_execute_command in terraform/preview and redeploy"
        if execute:
            raise _unavailable(message, hint)
        services.warn(f"{message}; {hint}")
    if not execute:
        return 0
    return _execute(services, argv, runner)


def _execute(services: Services, argv: list[str], runner: Runner) -> int:
    path = services.environment.path
    aws = shutil.which("aws", path=path)
    if aws is None:
        raise _unavailable(
            "the AWS CLI (aws) is not on PATH",
            hint="install AWS CLI v2, or run the printed command elsewhere",
        )
    if shutil.which("session-manager-plugin", path=path) is None:
        raise _unavailable(
            "session-manager-plugin is not on PATH: aws ecs execute-command needs it",
            hint="install the Session Manager plugin for the AWS CLI (AWS Systems Manager docs)",
        )
    services.err.write(f"prenv: running {shlex.join(argv)}\n")
    done = runner([aws, *argv[1:]], env=dict(services.env), check=False)
    return int(done.returncode)
