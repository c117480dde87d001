"""Shared by `prenv status`, `logs` and `exec`: which preview, where its parts are, and the AWS adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prenv.aws.client import Aws
from prenv.commands.common import Services, Target, engine, target
from prenv.core.errors import FailureReason, PrenvError, UsageError
from prenv.core.troubleshoot import Location, locate

# Tests may replace how the AWS adapter is made (region -> Aws); the default builds boto3 clients.
AwsMaker = Callable[[Services, str], Aws]


def pr_argument(positional: str | None, option: str | None) -> str | None:
    """The PR from `prenv status 12` or `prenv status --pr 12` (both: they must agree)."""
    if positional is not None and option is not None and positional.lstrip("#") != option.lstrip("#"):
        raise UsageError(f"the PR is given twice, as {positional} and as --pr {option}", hint="give it once")
    return positional if positional is not None else option


def default_aws(services: Services, region: str) -> Aws:
    return Aws.from_env(services.env, region)


@dataclass
class Preview:
    target: Target
    location: Location
    aws: Aws
    cluster: str = ""  # found by `find_service`
    service: dict[str, Any] | None = None


def open_preview(
    services: Services, command: str, pr: str | None, make_aws: AwsMaker = default_aws
) -> Preview:
    """Read the workspace's Terraform outputs (never creating anything) and locate the preview's parts."""
    tgt = target(services, command, pr)
    with engine(services, tgt) as eng:
        outputs = eng.read_outputs()
    env = services.env
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or tgt.config.backend.region
    location = locate(outputs, tgt.names, default_region=region)
    return Preview(target=tgt, location=location, aws=make_aws(services, location.region))


def find_service(preview: Preview) -> Preview:
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


def not_found(preview: Preview) -> PrenvError:
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
