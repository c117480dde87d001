"""`prenv destroy`: destroy the PR's resources, then delete its workspace only if its state is empty."""

from __future__ import annotations

from prenv.commands import activity
from prenv.commands.common import Services, engine, target
from prenv.core.errors import ExitStatus, PrenvError


def run(services: Services, pr: str | None) -> ExitStatus:
    tgt = activity.with_comment_hint(services, target(services, "destroy", pr))
    reporter = services.reporters(tgt.config, tgt.ctx)
    reporter.started(tgt.ctx)
    try:
        with engine(services, tgt) as eng:
            outcome = eng.destroy()
    except PrenvError as error:
        reporter.failed(tgt.ctx, error)
        raise
    if outcome.workspace_deleted:
        activity.forget(services, tgt)
    reporter.destroyed(tgt.ctx, outcome)
    return ExitStatus.SUCCESS
