"""`prenv destroy`: destroy the PR's resources, then delete its workspace only if its state is empty."""

from __future__ import annotations

from typing import TextIO

from prenv.commands import wiring
from prenv.commands.wiring import Ports, Services
from prenv.core.config import Config
from prenv.core.domain import Command, DestroyOutcome
from prenv.core.errors import ExitStatus, PrenvError
from prenv.core.event import PullRequestEvent


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
    try:
        with wiring.engine(ports, config, tgt, err=err) as eng:
            # Shared mode: the PR's database goes once its tasks are gone, before the workspace.
            finish = None
            if config.database.mode == "shared":
                finish = lambda: wiring.drop_database(ports, config, tgt)  # noqa: E731
            outcome = eng.destroy(finish=finish)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error)
        raise
    if outcome.workspace_deleted:
        record.forget()
    reporter.destroyed(tgt.ctx, outcome)
    return outcome


def run(services: Services, pr: str | None) -> ExitStatus:
    job = wiring.invocation(services, pr)
    destroy_preview(job.ports, job.config, job.number, out=services.out, event=job.event)
    return ExitStatus.SUCCESS
