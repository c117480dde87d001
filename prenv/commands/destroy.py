"""`prenv destroy`: run the pre_destroy hook, destroy the PR's resources, then delete its workspace only
if its state is empty."""

from __future__ import annotations

import dataclasses
import shlex
from typing import TextIO

from prenv.aws import orphans
from prenv.aws.client import AwsError
from prenv.aws.preview import LivePreview, find_service, one_off_task
from prenv.aws.tasks import LogLine
from prenv.commands import wiring
from prenv.commands.wiring import Ports, Services, Target
from prenv.core.config import Config
from prenv.core.domain import Command, DestroyOutcome
from prenv.core.errors import Cancelled, ExitStatus, FailureReason, PrenvError
from prenv.core.event import PullRequestEvent
from prenv.core.troubleshoot import CONTAINER, locate
from prenv.engine.lifecycle import Engine

_PARTLY = "the preview may be partly destroyed: its workspace and state were kept"
_AGAIN = "comment `/prenv destroy` or run `prenv destroy` again (the scheduled cleanup also retries)"


def pre_destroy(ports: Ports, config: Config, tgt: Target, eng: Engine, err: TextIO) -> str:
    """Run hooks.pre_destroy as a one-off task of the preview (its lines on `err`, prefixed) and say
    how it failed ("" when it succeeded or there was nothing to run it in). With
    hooks.pre_destroy_blocking a failure stops the destroy (`pre-destroy-failed`)."""
    command = config.hooks.pre_destroy
    if not command:
        return ""
    outputs = eng.read_outputs()
    if outputs is None:
        return ""
    location = locate(outputs, tgt.names, default_region=wiring.default_region(ports, config))
    preview = find_service(LivePreview(location=location, aws=ports.aws(location.region)))
    if preview.service is None or not preview.service.get("taskDefinition"):
        ports.services.note(f"the pre_destroy hook is skipped: {tgt.names.workspace} has no ECS service")
        return ""
    timeout = config.hooks.pre_destroy_timeout
    err.write(f"prenv: pre_destroy: {shlex.join(command)} (at most {int(timeout.total_seconds())}s)\n")
    err.flush()

    def show(line: LogLine) -> None:
        err.write(f"[pre_destroy] {line.message}\n")  # prefixed: never a workflow command
        err.flush()

    try:
        task = one_off_task(preview, list(command), container=CONTAINER, started_by="prenv pre_destroy")
        task.start()
        outcome = task.wait(timeout, show)
        failure = "" if outcome.succeeded else f"task {outcome.task_id}: {outcome.why()}"
    except AwsError as exc:
        failure = exc.message
    if not failure:
        return ""
    message = f"the pre_destroy hook failed: {failure}"
    if config.hooks.pre_destroy_blocking:
        raise PrenvError(
            message,
            reason=FailureReason.PRE_DESTROY_FAILED,
            hint=f"fix it and destroy again, or set hooks.pre_destroy_blocking to false in {config.path} "
            "to destroy anyway",
        )
    ports.warn(f"{message}; the destroy goes on (hooks.pre_destroy_blocking is false)")
    return message


def destroy_preview(
    ports: Ports,
    config: Config,
    number: int,
    *,
    out: TextIO,
    err: TextIO | None = None,
    event: PullRequestEvent | None = None,
    actions: bool = True,
) -> DestroyOutcome:
    """Destroy PR `number`'s preview and report it (`prenv destroy`, and each of cleanup's destroys):
    the terminal lines go to `out`, Terraform's output to `err`; `actions` False leaves the step's
    outputs and summary to the caller."""
    tgt = wiring.target(ports, config, Command.DESTROY, number, event)
    record = wiring.deploy_record(ports, config, tgt)
    reporter = wiring.reporter(ports, config, tgt, out=out, record=record, actions=actions)
    reporter.started(tgt.ctx)
    eng: Engine | None = None
    try:
        with wiring.engine(ports, config, tgt, err=err) as eng:
            warning = pre_destroy(ports, config, tgt, eng, err or ports.services.err)
            # Shared mode: the PR's database goes once its tasks are gone, before the workspace.
            finish = None
            if config.database.mode == "shared":
                finish = lambda: wiring.drop_database(ports, config, tgt)  # noqa: E731
            outcome = eng.destroy(finish=finish)
    except KeyboardInterrupt:  # a signal while no Terraform command ran
        error = wiring.cancelled(_PARTLY, hint=_AGAIN)
        reporter.failed(tgt.ctx, error)
        raise error from None
    except Cancelled as error:
        wiring.explain_cancel(error, _PARTLY, hint=_AGAIN)
        wiring.release_own_lock(ports, tgt, eng, error)
        reporter.failed(tgt.ctx, error)
        raise
    except PrenvError as error:
        reporter.failed(tgt.ctx, error)
        raise
    if warning:
        outcome = dataclasses.replace(outcome, warnings=(warning,))
    if outcome.workspace_deleted:
        record.forget()
    try:
        check_nothing_left(ports, config, tgt)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error)
        raise
    reporter.destroyed(tgt.ctx, outcome)
    return outcome


def check_nothing_left(ports: Ports, config: Config, tgt: wiring.Target) -> None:
    """A destroy succeeds only when no resource tagged for the workspace remains: a run killed during
    an apply can leave resources that no state tracks (they are then orphans, listed here)."""
    aws = ports.aws(config.backend.region)
    left = orphans.workspace_resources(aws, ports.repository, tgt.names.workspace)
    if left:
        shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        raise PrenvError(
            f"{len(left)} resource(s) tagged for workspace {tgt.names.workspace} remain after the destroy, "
            f"outside its state: {shown}",
            reason=FailureReason.DESTROY_FAILED,
            hint="they were left by an interrupted run: delete them with `prenv cleanup --delete-orphans` "
            "(it lists the kinds it cannot delete) or in the AWS console, then run `prenv destroy` again",
        )


def run(services: Services, pr: str | None) -> ExitStatus:
    job = wiring.invocation(services, pr)
    destroy_preview(job.ports, job.config, job.number, out=services.out, event=job.event)
    return ExitStatus.SUCCESS
