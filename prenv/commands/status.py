"""`prenv status PR`: a preview's ECS service, tasks, events, targets and database (`kubectl describe`)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from prenv.aws.preview import LivePreview, find_service, not_found
from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core import sleep, troubleshoot
from prenv.core.diagnose import diagnose
from prenv.core.domain import Command
from prenv.core.errors import ExitStatus
from prenv.core.sleep import SleepRecord
from prenv.render import describe


def gather(preview: LivePreview, *, events: int, stopped: int) -> troubleshoot.Status:
    """Ask AWS about each part of the located preview (read-only calls) and build its status."""
    preview = find_service(preview)
    loc, aws = preview.location, preview.aws
    if preview.service is None:
        raise not_found(preview)
    service = troubleshoot.service(preview.service, events=events)
    running = [troubleshoot.task(t) for t in aws.ecs_tasks(preview.cluster, loc.service, "RUNNING")]
    finished = [troubleshoot.task(t) for t in aws.ecs_tasks(preview.cluster, loc.service, "STOPPED")]
    group = loc.target_group_arn or next(
        (
            str(lb["targetGroupArn"])
            for lb in preview.service.get("loadBalancers") or []
            if lb.get("targetGroupArn")
        ),
        "",
    )
    targets = tuple(troubleshoot.target_health(t) for t in aws.target_health(group)) if group else None
    db = aws.db_instance(loc.db_identifier) if loc.db_identifier else None
    status = troubleshoot.Status(
        location=dataclasses.replace(loc, cluster=preview.cluster),
        service=service,
        running=troubleshoot.newest_first(running, stopped=False),
        stopped=troubleshoot.newest_first(finished, stopped=True)[:stopped],
        targets=targets,
        database=troubleshoot.database(db) if db else None,
        asleep=_asleep(preview),
    )
    return dataclasses.replace(status, hints=diagnose(status))


def _asleep(preview: LivePreview) -> SleepRecord | None:
    try:
        return sleep.from_record(preview.asleep) if preview.asleep is not None else None
    except sleep.SleepRecordError:
        return None  # a record prenv cannot read is no sleep it can wake: the parts say the rest


def run(
    services: Services,
    pr: str | None,
    *,
    as_json: bool = False,
    events: int = 10,
    stopped: int = 5,
) -> ExitStatus:
    preview = wiring.open_preview(services, Command.STATUS, pr)
    status = gather(preview, events=events, stopped=stopped)
    if as_json:
        document = describe.status_document(status)
        document["last_deploy"] = describe.last_deploy_document(preview.last_deploy)
        services.out.write(json.dumps(document, indent=2) + "\n")
    else:
        services.out.write(describe.render_status(status, datetime.now(UTC)))
        services.out.write("".join(line + "\n" for line in describe.last_deploy_lines(preview.last_deploy)))
    return ExitStatus.SUCCESS
