"""`prenv deploy`: plan the PR's workspace, apply exactly that plan, read the outputs, report the URL."""

from __future__ import annotations

from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.config import Config
from prenv.core.domain import Command, PlanOutcome
from prenv.core.errors import ExitStatus, PrenvError
from prenv.core.event import PullRequestEvent
from prenv.engine.health import wait_healthy


def wants_preview(config: Config, event: PullRequestEvent | None) -> bool:
    """The label opt-in: with `label` configured, a PR event deploys only a PR carrying that label.

    An explicit request (a `/prenv deploy` comment, or `prenv deploy --pr N` without an event about
    that PR) is honoured without the label.
    """
    label = config.label
    return not label or event is None or bool(event.comment_body) or label in event.labels


def run(services: Services, pr: str | None, *, sha: str = "", image: str = "") -> ExitStatus:
    job = wiring.invocation(services, pr)
    config, ports = job.config, job.ports
    tgt = wiring.target(ports, config, Command.DEPLOY, job.number, job.event, sha=sha, image=image)
    if not wants_preview(config, tgt.event):
        services.out.write(
            f"PR #{tgt.ctx.pr_number} does not carry the label {config.label!r}: no preview is deployed "
            "(add the label to get one).\n"
        )
        ports.runtime.set_outputs({"workspace": tgt.ctx.workspace, "skipped": "true", "failure-reason": ""})
        return ExitStatus.SUCCESS
    record = wiring.deploy_record(ports, config, tgt)
    reporter = wiring.reporter(ports, config, tgt, out=services.out, record=record)
    planned: PlanOutcome | None = None
    reporter.started(tgt.ctx)

    def report_plan(outcome: PlanOutcome) -> None:  # while the plan is applied (`Engine.deploy`)
        nonlocal planned
        planned = outcome
        reporter.planned(tgt.ctx, outcome)

    try:
        with wiring.engine(ports, config, tgt) as eng:
            outcome = eng.deploy(report_plan)
            if config.health_check.enabled and outcome.url:
                wait_healthy(outcome.url, config.health_check)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error, planned)
        raise
    try:
        reporter.ready(tgt.ctx, outcome)
    finally:  # the deploy happened, and the record remembers where the "ready" comment went
        record.write()
    return ExitStatus.SUCCESS
