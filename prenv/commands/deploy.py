"""`prenv deploy`: plan the PR's workspace, apply exactly that plan, read the outputs, wait until AWS says
the preview is ready, report the URL."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from prenv.aws.client import AwsError
from prenv.commands import wiring
from prenv.commands.wiring import Ports, Services, Target
from prenv.core.config import Config
from prenv.core.contract import MIGRATE_STEP, SEED_STEP
from prenv.core.domain import Command, DeployOutcome, PlanOutcome, sensitive_values
from prenv.core.errors import ExitStatus, PrenvError
from prenv.core.event import PullRequestEvent, comment_options
from prenv.core.mask import redact
from prenv.core.troubleshoot import locate
from prenv.engine import readiness
from prenv.engine.health import wait_healthy
from prenv.report.port import Reporter

RESEED = "--reseed"


def wants_preview(config: Config, event: PullRequestEvent | None) -> bool:
    """The label opt-in: with `label` configured, a PR event deploys only a PR carrying that label.

    An explicit request (a `/prenv deploy` comment, or `prenv deploy --pr N` without an event about
    that PR) is honoured without the label.
    """
    label = config.label
    return not label or event is None or bool(event.comment_body) or label in event.labels


def seed_now(ports: Ports, config: Config, tgt: Target, *, reseed: bool) -> bool:
    """Whether this deploy runs hooks.seed: when asked to, or when the preview has no seed record."""
    if not config.hooks.seed:
        return False
    if reseed:
        return True
    try:
        return ports.bucket.read_seeded(tgt.names.workspace) is None
    except AwsError as exc:
        ports.warn(
            f"could not read the seed record of {tgt.names.workspace} ({exc.code or exc.reason}); "
            "the seed step runs again (seeds must be safe to run twice)"
        )
        return True


@dataclass
class SeedRecord:
    """Remembers, once, that this deploy's seed step ran, so the next deploys leave it out: as soon as
    ECS says the seed step exited 0 (even if the app then fails to get ready), or when the deploy is
    ready (a root prenv does not wait for)."""

    ports: Ports
    tgt: Target
    seeding: bool  # this deploy passes hooks.seed to the root
    written: bool = False

    def step_succeeded(self, step: str) -> None:
        if step == SEED_STEP:
            self.write()

    def write(self) -> None:
        if not self.seeding or self.written:
            return
        self.written = True
        ctx, workspace = self.tgt.ctx, self.tgt.names.workspace
        try:
            self.ports.bucket.record_seeded(
                workspace, {"pr": ctx.pr_number, "head_sha": ctx.head_sha, "run_url": ctx.run_url}
            )
        except AwsError as exc:
            self.ports.warn(
                f"could not record that {workspace} was seeded: {exc.message}; "
                "the next deploy runs the seed step again"
            )


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


def run(
    services: Services, pr: str | None, *, sha: str = "", image: str = "", reseed: bool = False
) -> ExitStatus:
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
    reseed = reseed or RESEED in comment_options(tgt.event, "deploy")
    record = wiring.deploy_record(ports, config, tgt)
    reporter = wiring.reporter(ports, config, tgt, out=services.out, record=record)
    planned: PlanOutcome | None = None
    reporter.started(tgt.ctx)
    try:
        seeded = SeedRecord(ports, tgt, seeding=seed_now(ports, config, tgt, reseed=reseed))
        with wiring.engine(ports, config, tgt, seed=seeded.seeding) as eng:
            planned, plan_file, changed = eng.plan()
            reporter.planned(tgt.ctx, planned)
            outcome = eng.apply(planned, plan_file, changed)
            become_ready(ports, config, tgt, outcome, reporter, step_succeeded=seeded.step_succeeded)
            if config.health_check.enabled and outcome.url:
                wait_healthy(outcome.url, config.health_check)
    except PrenvError as error:
        reporter.failed(tgt.ctx, error, planned)
        raise
    seeded.write()
    try:
        reporter.ready(tgt.ctx, outcome)
    finally:  # the deploy happened, and the record remembers where the "ready" comment went
        record.write()
    return ExitStatus.SUCCESS
