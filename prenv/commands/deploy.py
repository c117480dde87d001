"""`prenv deploy`: plan the PR's workspace, apply exactly that plan, read the outputs, wait until AWS says
the preview is ready, report the URL."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from prenv.aws import orphans
from prenv.aws.client import AwsError
from prenv.commands import costing, ready, wiring
from prenv.commands.wake import read_sleep, wake
from prenv.commands.wiring import Ports, Services, Target
from prenv.core import cleanup
from prenv.core.config import Config
from prenv.core.contract import SEED_STEP
from prenv.core.domain import Command, Context, DeployOutcome, PlanOutcome
from prenv.core.errors import Cancelled, ExitStatus, FailureReason, PrenvError
from prenv.core.event import PullRequestEvent, comment_options
from prenv.core.phases import Stopwatch
from prenv.engine.health import wait_healthy
from prenv.engine.lifecycle import Engine
from prenv.engine.shared_db import SharedDatabase
from prenv.report.port import Reporter

RESEED = "--reseed"


def wants_preview(config: Config, event: PullRequestEvent | None) -> bool:
    """The label opt-in: with `label` configured, a PR event deploys only a PR carrying that label.

    An explicit request (a `/prenv deploy` comment, or `prenv deploy --pr N` without an event about
    that PR) is honoured without the label.
    """
    label = config.label
    return not label or event is None or bool(event.comment_body) or label in event.labels


# What a cancelled deploy left, by how far it got.
_UNCHANGED = "the preview was not changed"
_APPLYING = (
    "the preview may be partly updated: the state holds what was created, and the next deploy completes it"
)
_APPLIED = "the changes were applied, so the preview is up; only the rest of the deploy was cut short"
_AGAIN = "push a commit or comment `/prenv deploy` to deploy again (no `prenv unlock` needed)"


@dataclass
class _Progress:
    """How far the deploy got, told by `Engine.deploy` as it goes: the plan is reported while it applies
    (the apply starts as soon as the plan is saved), so what a cancellation left is known by whether
    the apply had started, or ended, not by whether the plan was reported."""

    reporter: Reporter
    ctx: Context
    planned: PlanOutcome | None = None
    phase: str = _UNCHANGED  # what a cancellation left of the preview

    def report_plan(self, outcome: PlanOutcome) -> None:
        self.planned = outcome
        self.reporter.planned(self.ctx, outcome)

    def applying(self) -> None:  # just before the apply starts
        self.phase = _APPLYING

    def applied(self) -> None:  # from the apply's thread, once the apply ended without an error
        self.phase = _APPLIED


def _report_untracked(ports: wiring.Ports, config: Config, tgt: wiring.Target, error: PrenvError) -> None:
    """After a failed apply, name the resources tagged for the workspace that its state does not hold
    (left by an earlier run that was killed: the usual cause of "already exists" errors)."""
    try:
        aws = ports.aws(config.backend.region)
        tagged = orphans.workspace_resources(aws, ports.repository, tgt.names.workspace)
        left = cleanup.untracked(tagged, ports.bucket.read_state(tgt.names.workspace)) if tagged else []
    except PrenvError as exc:  # the apply's error stays the one reported
        ports.services.note(f"could not look for resources outside the state: {exc.message}")
        return
    if left:
        shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        error.message += (
            f"; {len(left)} resource(s) tagged for {tgt.names.workspace} are outside its state (left by an "
            f"interrupted run): {shown}"
        )
        error.hint = "delete them (or `terraform import` them into the workspace), then deploy again"


def _database_step(
    ports: wiring.Ports, config: Config, tgt: wiring.Target, watch: Stopwatch, pool: ThreadPoolExecutor
) -> Callable[[], None] | None:
    """Shared mode: the server is woken beside terraform init; the PR's database is made once its
    workspace exists, before the plan (the root reads its secret). None in the other modes."""
    if config.database.mode != "shared":
        return None
    woken: Future[SharedDatabase] = pool.submit(wiring.wake_database, ports, config)
    return lambda: wiring.provision_database(ports, config, tgt, watch, woken.result)


def _warn_unmarked_secrets(services: Services, outcome: DeployOutcome) -> None:
    named = [output.name for output in outcome.outputs if output.by_name]
    if named:
        services.warn(
            f"the output(s) {', '.join(named)} look secret by their name but are not marked "
            "sensitive: prenv hides their values; mark them `sensitive = true` in the Terraform root"
        )


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


def _wait_ready(
    ports: Ports,
    config: Config,
    tgt: Target,
    outcome: DeployOutcome,
    *,
    reporter: Reporter,
    seeded: SeedRecord,
    watch: Stopwatch,
) -> None:
    """Readiness from AWS, then the optional HTTP probe: the phase `readiness`, when either waits."""
    probe = config.health_check.enabled and bool(outcome.url)
    if not (config.readiness.enabled or probe):
        return
    with watch.phase("readiness"):
        ready.become_ready(ports, config, tgt, outcome, reporter, step_succeeded=seeded.step_succeeded)
        if probe:
            wait_healthy(outcome.url, config.health_check)


def _skipped(services: Services, ports: Ports, config: Config, tgt: Target) -> ExitStatus:
    services.out.write(
        f"PR #{tgt.ctx.pr_number} does not carry the label {config.label!r}: no preview is deployed "
        "(add the label to get one).\n"
    )
    ports.runtime.set_outputs({"workspace": tgt.ctx.workspace, "skipped": "true", "failure-reason": ""})
    return ExitStatus.SUCCESS


def run(
    services: Services, pr: str | None, *, sha: str = "", image: str = "", reseed: bool = False
) -> ExitStatus:
    job = wiring.invocation(services, pr)
    config, ports = job.config, job.ports
    tgt = wiring.target(ports, config, Command.DEPLOY, job.number, job.event, sha=sha, image=image)
    if not wants_preview(config, tgt.event):
        return _skipped(services, ports, config, tgt)
    reseed = reseed or RESEED in comment_options(tgt.event, "deploy")
    record = wiring.deploy_record(ports, config, tgt)
    reporter = wiring.reporter(ports, config, tgt, out=services.out, record=record)
    watch = Stopwatch(services.clock)
    reporter.started(tgt.ctx)
    progress = _Progress(reporter, tgt.ctx)
    eng: Engine | None = None
    try:
        seeded = SeedRecord(ports, tgt, seeding=seed_now(ports, config, tgt, reseed=reseed))
        with (
            wiring.engine(ports, config, tgt, watch=watch, seed=seeded.seeding) as eng,
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="prenv-beside-init") as pool,
        ):
            # Issue 17: a push wakes a sleeping preview, before the plan (which would otherwise see it
            # scaled to zero). Its record is read while terraform init runs; the wake itself follows init.
            asleep = pool.submit(read_sleep, ports, tgt)

            def wake_if_asleep() -> None:
                record = asleep.result()
                if record is not None:
                    wake(ports, tgt, record, out=services.out)

            outcome = eng.deploy(
                progress.report_plan,
                prepare=_database_step(ports, config, tgt, watch, pool),
                before_plan=wake_if_asleep,
                applying=progress.applying,
                applied=progress.applied,
            )
            _warn_unmarked_secrets(services, outcome)
            _wait_ready(ports, config, tgt, outcome, reporter=reporter, seeded=seeded, watch=watch)
    except KeyboardInterrupt:  # a signal while no Terraform command ran
        error = wiring.cancelled(progress.phase, hint=_AGAIN)
        reporter.failed(tgt.ctx, error, progress.planned)
        raise error from None
    except Cancelled as error:
        wiring.explain_cancel(error, progress.phase, hint=_AGAIN)
        wiring.release_own_lock(ports, tgt, eng, error)
        reporter.failed(tgt.ctx, error, progress.planned)
        raise
    except PrenvError as error:
        if error.reason is FailureReason.APPLY_FAILED:
            _report_untracked(ports, config, tgt, error)
        reporter.failed(tgt.ctx, error, progress.planned)
        raise
    seeded.write()
    slept = asleep.result()  # the deploy got here, so the preview was woken if it slept
    # Issue 17: what the preview costs, and the ledger the deploy record keeps.
    outcome = costing.priced(
        ports, config, outcome, record, now=services.clock(), slept_at=slept.slept_at if slept else None
    )
    outcome = replace(outcome, phases=watch.result())
    try:
        reporter.ready(tgt.ctx, outcome)
    finally:  # the deploy happened, and the record remembers where the "ready" comment went
        record.write(outcome.phases)
    return ExitStatus.SUCCESS
