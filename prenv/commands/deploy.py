"""`prenv deploy`: plan the PR's workspace, apply exactly that plan, read the outputs, report the URL."""

from __future__ import annotations

from prenv.commands import activity
from prenv.commands.common import Services, Target, engine, target
from prenv.core.domain import PlanOutcome
from prenv.core.errors import ExitStatus, PrenvError


def wants_preview(tgt: Target) -> bool:
    """The label opt-in: with `label` configured, a PR event deploys only a PR carrying that label.

    An explicit request (a `/prenv deploy` comment, or `prenv deploy --pr N` without an event about
    that PR) is honoured without the label.
    """
    label = tgt.config.label
    event = tgt.event
    return not label or event is None or bool(event.comment_body) or label in event.labels


def run(services: Services, pr: str | None, *, sha: str = "", image: str = "") -> ExitStatus:
    tgt = target(services, "deploy", pr, sha=sha, image=image)
    if not wants_preview(tgt):
        services.out.write(
            f"PR #{tgt.ctx.pr_number} does not carry the label {tgt.config.label!r}: no preview is deployed "
            "(add the label to get one).\n"
        )
        services.runtime().set_outputs(
            {"workspace": tgt.ctx.workspace, "skipped": "true", "failure-reason": ""}
        )
        return ExitStatus.SUCCESS
    tgt = activity.with_comment_hint(services, tgt)
    reporter = services.reporters(tgt.config, tgt.ctx)
    planned: PlanOutcome | None = None
    reporter.started(tgt.ctx)
    try:
        with engine(services, tgt) as eng:
            planned, plan_file, changed = eng.plan()
            reporter.planned(tgt.ctx, planned)
            outcome = eng.apply(planned, plan_file, changed)
            if tgt.config.health_check.enabled and outcome.url:
                from prenv.engine.health import wait_healthy

                wait_healthy(outcome.url, tgt.config.health_check)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error, planned)
        raise
    try:
        reporter.ready(tgt.ctx, outcome)
    finally:  # the deploy happened, and the marker remembers where the "ready" comment went
        activity.record_deploy(services, tgt, reporter)
    return ExitStatus.SUCCESS
