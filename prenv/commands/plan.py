"""`prenv plan`: plan the PR's workspace and report it; nothing is applied."""

from __future__ import annotations

from prenv.commands import wiring
from prenv.commands.deploy import seed_now
from prenv.commands.wiring import Services
from prenv.core.domain import Command
from prenv.core.errors import ExitStatus, PrenvError


def run(services: Services, pr: str | None, *, sha: str = "", image: str = "") -> ExitStatus:
    job = wiring.invocation(services, pr)
    config, ports = job.config, job.ports
    tgt = wiring.target(ports, config, Command.PLAN, job.number, job.event, sha=sha, image=image)
    reporter = wiring.reporter(ports, config, tgt, out=services.out)
    reporter.started(tgt.ctx)
    try:
        # The plan a deploy would apply: with the seed step when the preview was not seeded yet.
        with wiring.engine(ports, config, tgt, seed=seed_now(ports, config, tgt, reseed=False)) as eng:
            # Shared mode: the root reads the PR's database secret, so the database exists first.
            prepare = None
            if config.database.mode == "shared":
                prepare = lambda: wiring.provision_database(ports, config, tgt)  # noqa: E731
            planned, _, _ = eng.plan(prepare=prepare)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error)
        raise
    reporter.planned(tgt.ctx, planned)
    return ExitStatus.SUCCESS
