"""Links for reviewers in the ready comment: the AWS console and the prenv commands (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from prenv.core.domain import Context, Output


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    target: str


def _console(region: str) -> str:
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def links(outputs: Sequence[Output], ctx: Context) -> tuple[list[Link], list[str]]:
    """Console links for the log group and the ECS service, and the prenv commands, from the outputs."""
    from urllib.parse import quote

    values = {o.name: o.value for o in outputs if not o.sensitive and isinstance(o.value, str) and o.value}
    region = values.get("region", "")
    region = region if re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d{1,2}", region) else ""
    log_group, cluster, service = (values.get(k, "") for k in ("log_group", "ecs_cluster", "ecs_service"))
    links: list[Link] = []
    commands: list[str] = []
    if log_group:
        if region and not ctx.sandbox:
            group = quote(log_group, safe="").replace("%", "$25")
            href = f"{_console(region)}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{group}"
            links.append(Link("CloudWatch log group", href, log_group))
        commands.append(f"prenv logs --pr {ctx.pr_number}")
    if cluster and service:
        if region and not ctx.sandbox:
            names = [quote(v.rsplit("/", 1)[-1], safe="") for v in (cluster, service)]
            href = f"{_console(region)}/ecs/v2/clusters/{names[0]}/services/{names[1]}/health?region={region}"
            links.append(Link("ECS service", href, service.rsplit("/", 1)[-1]))
        commands.append(f"prenv exec --pr {ctx.pr_number}")
    return links, commands
