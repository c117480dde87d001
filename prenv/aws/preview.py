"""A running preview's parts in AWS, for `prenv status`, `logs`, `exec` and `run`: where they are (from
the workspace's Terraform outputs, `prenv.core.troubleshoot.locate`), its ECS service, and one-off tasks
started like the service's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prenv.aws.client import Aws
from prenv.aws.tasks import OneOffTask, launch_like
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.troubleshoot import Location


@dataclass
class LivePreview:
    """A preview located in AWS: its parts, the adapter for its region, and its ECS service once found."""

    location: Location
    aws: Aws
    cluster: str = ""  # found by `find_service`
    service: dict[str, Any] | None = None
    asleep: dict[str, Any] | None = None  # its sleep record (`prenv status` reads it): it sleeps
    last_deploy: Mapping[str, Any] | None = None  # the deploy record beside the state, if any


def find_service(preview: LivePreview) -> LivePreview:
    """The ECS service: in the `ecs_cluster` output's cluster, else in whichever cluster holds it."""
    loc = preview.location
    if loc.cluster:
        preview.cluster, preview.service = loc.cluster, preview.aws.ecs_service(loc.cluster, loc.service)
        return preview
    for arn in preview.aws.ecs_clusters():
        found = preview.aws.ecs_service(arn, loc.service)
        if found is not None and found.get("status") == "ACTIVE":
            preview.cluster, preview.service = arn.rsplit("/", 1)[-1], found
            return preview
    return preview


def not_found(preview: LivePreview) -> PrenvError:
    loc = preview.location
    where = (
        f"in cluster {preview.cluster or loc.cluster}"
        if (preview.cluster or loc.cluster)
        else "in any cluster"
    )
    state = "" if loc.from_state else f"; workspace {loc.workspace} has no Terraform state either"
    return PrenvError(
        f"PR {loc.pr} has no running preview: no ECS service {loc.service} {where} of {loc.region}{state}",
        reason=FailureReason.PREVIEW_NOT_FOUND,
        hint=f"deploy it (push to the PR or `prenv deploy --pr {loc.pr}`); check the region (AWS_REGION)",
    )


def one_off_task(preview: LivePreview, command: list[str], *, container: str, started_by: str) -> OneOffTask:
    """A one-off task of the found service's current task definition, in its network, with
    `container`'s command replaced by `command` (not started yet)."""
    if preview.service is None:
        raise not_found(preview)
    launch = launch_like(preview.service, preview.cluster)
    return OneOffTask(preview.aws, launch, container=container, command=command, started_by=started_by)
