"""Readiness after a change to a preview (a deploy, a wake): wait until AWS says the preview serves
(`prenv.engine.readiness`: the ECS service steady on its task definition, its targets healthy)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from prenv.commands import wiring
from prenv.commands.wiring import Ports, Target
from prenv.core.config import Config
from prenv.core.contract import MIGRATE_STEP, SEED_STEP
from prenv.core.domain import DeployOutcome, sensitive_values
from prenv.core.mask import redact
from prenv.core.troubleshoot import locate
from prenv.engine import readiness
from prenv.report.port import Reporter


def become_ready(
    ports: Ports,
    config: Config,
    tgt: Target,
    outcome: DeployOutcome,
    reporter: Reporter,
    *,
    step_succeeded: Callable[[str], None],
) -> None:
    """Wait until AWS says the applied preview is ready (`prenv.engine.readiness`), reporting what it
    waits for. A root whose outputs name no ECS service is not waited for (a note says so)."""
    if not config.readiness.enabled:
        return
    outputs = {o.name: {"value": o.value, "sensitive": o.sensitive} for o in outcome.outputs}
    location = locate(outputs, tgt.names, default_region=wiring.default_region(ports, config))
    where = readiness.watch(location)
    if where is None:
        ports.services.note(
            "not waiting for readiness: the Terraform root has no ecs_cluster and ecs_service outputs"
        )
        return
    secrets = sensitive_values(outcome.outputs)
    patterns = tuple(config.comment.mask_patterns)
    waiter = readiness.Waiter(
        aws=ports.aws(location.region),
        where=where,
        timeout=config.readiness.timeout,
        report=functools.partial(reporter.waiting, tgt.ctx),
        scrub=lambda text: redact(text, secrets, patterns),
        commands={MIGRATE_STEP: config.hooks.migrate, SEED_STEP: config.hooks.seed},
        step_succeeded=step_succeeded,
    )
    waiter.wait()
