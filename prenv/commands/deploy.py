"""`prenv deploy`: plan the PR's workspace, apply exactly that plan, read the outputs, report the URL."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.config import Config
from prenv.core.domain import Command, PlanOutcome
from prenv.core.errors import ExitStatus, PrenvError
from prenv.core.event import PullRequestEvent
from prenv.core.phases import Stopwatch
from prenv.engine.health import wait_healthy
from prenv.engine.shared_db import SharedDatabase


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
    watch = Stopwatch(services.clock)
    reporter.started(tgt.ctx)
    try:
        with (
            wiring.engine(ports, config, tgt, watch=watch) as eng,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="prenv-database") as pool,
        ):
            # Shared mode: the server is woken beside terraform init; the PR's database is made once
            # its workspace exists, before the plan (the root reads its secret).
            prepare = None
            if config.database.mode == "shared":
                woken: Future[SharedDatabase] = pool.submit(wiring.wake_database, ports, config)
                prepare = lambda: wiring.provision_database(  # noqa: E731
                    ports, config, tgt, watch, woken.result
                )
            planned, plan_file, changed = eng.plan(prepare=prepare)
            reporter.planned(tgt.ctx, planned)
            outcome = eng.apply(planned, plan_file, changed)
            if config.health_check.enabled and outcome.url:
                with watch.phase("readiness"):
                    wait_healthy(outcome.url, config.health_check)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error, planned)
        raise
    outcome = replace(outcome, phases=watch.result())
    try:
        reporter.ready(tgt.ctx, outcome)
    finally:  # the deploy happened, and the record remembers where the "ready" comment went
        record.write(outcome.phases)
    return ExitStatus.SUCCESS
