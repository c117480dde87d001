"""`prenv wake PR`: bring a sleeping preview back, and its PR's comment back to ready.

The database is started and waited for, the service scaled back to its count before sleep and waited
for until its tasks run, then readiness from AWS and the health check when configured, as after a deploy
(`prenv.engine.sleep`, `prenv.engine.health`). The sleep record goes, and the deploy record is written
again: a wake counts as activity for cleanup, and it settles the cost ledger at the asleep rate. A push
wakes a preview too: `prenv deploy` calls `wake` before it plans (having read the sleep record while
`terraform init` ran). `/prenv wake` on a PR runs this command (same permission rule as the other
comment commands, .github/workflows/preview.yml).
"""

from __future__ import annotations

from typing import TextIO

from prenv.commands import costing, ready, wiring
from prenv.commands.wiring import Ports, Services, Target
from prenv.core.config import Config
from prenv.core.domain import Command, DeployOutcome, Output, outputs_of
from prenv.core.errors import ExitStatus, FailureReason, PrenvError
from prenv.core.plan import PlanSummary
from prenv.core.sleep import SleepRecord, SleepRecordError, WakeNotice, from_record
from prenv.engine.health import wait_healthy
from prenv.engine.sleep import Waits, wake_up
from prenv.report.port import Reporters
from prenv.report.pr import GitHubReporter


def read_sleep(ports: Ports, tgt: Target) -> SleepRecord | None:
    """The preview's sleep record, or None when it is not asleep."""
    body = ports.bucket.read_sleep(tgt.names.workspace)
    if body is None:
        return None
    try:
        return from_record(body)
    except SleepRecordError as exc:
        raise PrenvError(
            f"the sleep record of {tgt.names.workspace} cannot be used: {exc}",
            reason=FailureReason.WAKE_FAILED,
            hint="deploy the PR again (push a commit or comment `/prenv deploy`): the apply brings it back",
        ) from None


def wake(ports: Ports, tgt: Target, record: SleepRecord, *, out: TextIO, waits: Waits | None = None) -> None:
    """Before a deploy's plan: wake the preview that sleeps as `record` says (the apply then meets an
    available database), and drop the record."""
    out.write(f"PR #{tgt.ctx.pr_number}'s preview is asleep: waking it before the deploy\n")
    for line in wake_up(ports.aws(record.region), record, waits or Waits()):
        out.write(f"  {line}\n")
    out.flush()
    ports.bucket.drop_sleep(tgt.names.workspace)


def _outputs(ports: Ports, config: Config, tgt: Target) -> tuple[Output, ...]:
    with wiring.engine(ports, config, tgt) as eng:
        found = eng.read_outputs()
    if found is None:
        raise PrenvError(
            f"PR #{tgt.ctx.pr_number} has no preview: workspace {tgt.names.workspace} does not exist",
            reason=FailureReason.PREVIEW_NOT_FOUND,
            hint="deploy it (push a commit or comment `/prenv deploy`)",
        )
    return outputs_of(found, config.secret_names)


def run(services: Services, pr: str | None, *, waits: Waits | None = None) -> ExitStatus:
    job = wiring.invocation(services, pr)
    config, ports = job.config, job.ports
    tgt = wiring.target(ports, config, Command.WAKE, job.number, job.event)
    ctx, out = tgt.ctx, services.out
    record = read_sleep(ports, tgt)
    if record is None:
        out.write(f"PR #{ctx.pr_number}'s preview is not asleep: nothing to wake.\n")
        ports.runtime.set_outputs({"workspace": ctx.workspace, "woken": "false", "failure-reason": ""})
        return ExitStatus.SUCCESS
    deploy_record = wiring.deploy_record(ports, config, tgt)
    gh = wiring.pr_github(ports, config) if config.comment.enabled else None
    reporter = (
        GitHubReporter(
            config=config, template_dir=services.cwd, github=gh, warn=ports.warn, memory=deploy_record
        )
        if gh is not None
        else None
    )
    out.write(f"Waking PR #{ctx.pr_number}'s preview (asleep since {record.slept_at:%Y-%m-%d %H:%M} UTC)\n")
    try:
        done = wake_up(ports.aws(record.region), record, waits or Waits())
        outputs = _outputs(ports, config, tgt)
        url = next((str(o.value) for o in outputs if o.name == config.terraform.url_output), record.url)
        outcome = DeployOutcome(summary=PlanSummary(), plan_text="", applied=False, url=url, outputs=outputs)
        # Ready as after a deploy: AWS says the service is steady and its targets healthy (the tasks
        # run the init steps of their task definition again; the seed record is not touched).
        ready.become_ready(
            ports,
            config,
            tgt,
            outcome,
            Reporters([reporter] if reporter is not None else []),
            step_succeeded=lambda step: None,
        )
        if config.health_check.enabled and url:
            wait_healthy(url, config.health_check)
    except PrenvError as error:
        if reporter is not None:
            reporter.failed(ctx, error)
        raise
    ports.bucket.drop_sleep(tgt.names.workspace)
    now = services.clock()
    deploy_record.extra.update(costing.carried(deploy_record.previous(), now, record.slept_at))
    try:
        if reporter is not None:
            reporter.awake(ctx, outcome, WakeNotice(slept_at=record.slept_at, woken_at=now, done=tuple(done)))
    finally:  # the wake happened: idleness restarts now, and the record remembers the comment
        deploy_record.write()
    for line in done:
        out.write(f"  {line}\n")
    out.write(f"PR #{ctx.pr_number}'s preview is awake: {url or '(no URL output)'}\n")
    ports.runtime.set_outputs({"workspace": ctx.workspace, "url": url, "woken": "true", "failure-reason": ""})
    return ExitStatus.SUCCESS
