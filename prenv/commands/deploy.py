"""`prenv deploy`: plan the PR's workspace, apply exactly that plan, read the outputs, report the URL."""

from __future__ import annotations

from prenv.commands import activity
from prenv.commands.common import Services, engine, target
from prenv.errors import ExitStatus, PrenvError
from prenv.report import PlanOutcome


def run(services: Services, pr: str | None, *, sha: str = "", image: str = "") -> ExitStatus:
    tgt = activity.with_comment_hint(services, target(services, "deploy", pr, sha=sha, image=image))
    reporter = services.reporters(tgt.config, tgt.ctx)
    planned: PlanOutcome | None = None
    reporter.started(tgt.ctx)
    try:
        with engine(services, tgt) as eng:
            planned, plan_file, changed = eng.plan()
            reporter.planned(tgt.ctx, planned)
            outcome = eng.apply(planned, plan_file, changed)
            if tgt.config.health_check.enabled and outcome.url:
                from prenv.health import wait_healthy

                wait_healthy(outcome.url, tgt.config.health_check)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error, planned)
        raise
    try:
        reporter.ready(tgt.ctx, outcome)
    finally:  # the deploy happened, and the marker remembers where the "ready" comment went
        activity.record_deploy(services, tgt, reporter)
    return ExitStatus.SUCCESS
