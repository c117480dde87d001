"""`prenv plan`: plan the PR's workspace and report it; nothing is applied."""

from __future__ import annotations

from prenv.commands.common import Services, engine, target
from prenv.core.errors import ExitStatus, PrenvError


def run(services: Services, pr: str | None, *, sha: str = "", image: str = "") -> ExitStatus:
    tgt = target(services, "plan", pr, sha=sha, image=image)
    reporter = services.reporters(tgt.config, tgt.ctx)
    reporter.started(tgt.ctx)
    try:
        with engine(services, tgt) as eng:
            planned, _, _ = eng.plan()
    except PrenvError as error:
        reporter.failed(tgt.ctx, error)
        raise
    reporter.planned(tgt.ctx, planned)
    return ExitStatus.SUCCESS
