"""`prenv run PR -- COMMAND...`: a one-off task in the preview, like `heroku run` or `kubectl run`.

The task is the preview's current task definition, in its network, with the app container's command
replaced by COMMAND (an argument list: no shell unless COMMAND runs one). Its log lines are printed as
CloudWatch receives them, in `prenv logs`' format; its exit code is prenv's. A task that never ran its
command, or did not finish within --timeout (it is then stopped), is `run-failed`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from datetime import timedelta

from prenv.aws.preview import find_service, not_found, one_off_task
from prenv.aws.tasks import LogLine, OneOffTask, Outcome
from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core import troubleshoot
from prenv.core.domain import Command
from prenv.core.errors import FailureReason, PrenvError, UsageError
from prenv.render import describe


def split_words(words: Sequence[str], pr_option: str | None) -> tuple[str | None, list[str]]:
    """`12 -- cmd ...` -> ("12", [cmd, ...]); with --pr every word is the command."""
    if pr_option is not None:
        return pr_option, list(words)
    if not words:
        raise UsageError("give the PR and the command: prenv run 12 -- python app.py migrate")
    return words[0], list(words[1:])


def _record(task: OneOffTask, line: LogLine) -> describe.LogRecord:
    return describe.LogRecord(
        at=line.at, stream="", task=task.arn.rsplit("/", 1)[-1], message=line.message, event_id=""
    )


def result_document(task: OneOffTask, outcome: Outcome) -> dict[str, object]:
    return {
        "task": outcome.task_id,
        "cluster": task.launch.cluster,
        "task_definition": task.launch.task_definition.rsplit("/", 1)[-1],
        "container": outcome.container,
        "command": list(task.command),
        "exit_code": outcome.exit_code,
        "timed_out": outcome.timed_out,
        "stopped_reason": outcome.stopped_reason,
        "stop_code": outcome.stop_code,
    }


def run(
    services: Services,
    pr: str | None,
    command: Sequence[str],
    *,
    timeout: timedelta,
    container: str = troubleshoot.CONTAINER,
    as_json: bool = False,
) -> int:
    if not command:
        raise UsageError("no command: give it after --, such as prenv run 12 -- python app.py migrate")
    preview = find_service(wiring.open_preview(services, Command.RUN, pr))
    if preview.service is None:
        raise not_found(preview)
    task = one_off_task(preview, list(command), container=container, started_by="prenv run")
    task.start()
    services.err.write(
        f"prenv: task {task.arn.rsplit('/', 1)[-1]} of {task.launch.task_definition.rsplit('/', 1)[-1]} "
        f"started in {preview.cluster}: {shlex.join(command)}\n"
    )
    services.err.flush()

    def emit(line: LogLine) -> None:
        record = _record(task, line)
        services.out.write((describe.log_json(record) if as_json else describe.render_log(record)) + "\n")
        services.out.flush()

    outcome = task.wait(timeout, emit)
    if as_json:
        services.out.write(json.dumps(result_document(task, outcome)) + "\n")
    if outcome.exit_code is None:
        loc = preview.location
        raise PrenvError(
            f"task {outcome.task_id}: {outcome.why()}",
            reason=FailureReason.RUN_FAILED,
            hint=f"see `prenv logs {loc.pr}` and `prenv status {loc.pr}`"
            + ("; give it more time with --timeout" if outcome.timed_out else ""),
        )
    services.err.write(f"prenv: task {outcome.task_id}: {outcome.why()}\n")
    return outcome.exit_code
