"""Values that are secret by their name (pure): `db_password`, `api_token`, `client_secret`, ...

Terraform hides what a root or a provider marks `sensitive`; a plain output named `db_password`, an
attribute a provider does not mark, or a tag called `token` it shows like any value. prenv treats every
value whose name holds one of the words of `secret_names` (the config; `DEFAULT_SECRET_NAMES`) as
sensitive too: masked in the log, never in the comment or the job summary. Names are compared without
case and separators (`dbPassword`, `DB-PASSWORD` and `db_password` all hold `password`). A name whose last
part says it is about the secret rather than the secret itself (`secret_arn`, `password_length`,
`token_ttl`, ...) is not secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prenv.core.mask import leaves

DEFAULT_SECRET_NAMES = (
    "password",
    "passwd",
    "secret",
    "token",
    "private_key",
    "credential",
    "api_key",
    "access_key_secret",
)
# Last parts of a name that describe a secret without being one.
_ABOUT = frozenset(
    {"arn", "id", "ids", "name", "names", "status", "length", "ttl", "version", "versions", "enabled"}
    | {"type", "count", "policy", "rotation", "expiration", "expires", "created", "updated", "path", "kms"}
)
MIN_SECRET_LENGTH = 4  # shorter values (`true`, `5432`, `on`) would mask every occurrence of common text
_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def looks_secret(name: str, words: Sequence[str] = DEFAULT_SECRET_NAMES) -> bool:
    """Whether a value called `name` is a secret by its name."""
    parts = [part.lower() for part in _PARTS.findall(str(name))]
    if not parts or parts[-1] in _ABOUT:
        return False
    squashed = _squash(name)
    return any(_squash(word) and _squash(word) in squashed for word in words)


def named_secrets(value: Any, words: Sequence[str] = DEFAULT_SECRET_NAMES) -> Iterator[str]:
    """The strings of `value` held under a secret name (a mapping key), at any depth. Under a secret key
    a list's strings are secret; a mapping's keys are judged on their own (`master_user_secret` holds a
    `secret_arn`, which is not)."""
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, secret = stack.pop()
        if isinstance(item, str):
            if secret and len(item) >= MIN_SECRET_LENGTH:
                yield item
        elif isinstance(item, Mapping):
            stack += [(child, looks_secret(str(key), words)) for key, child in item.items()]
        elif isinstance(item, list | tuple):
            stack += [(child, secret) for child in item]


def _modules(module: Any) -> Iterator[Mapping[str, Any]]:
    """Every module of a `planned_values` or `prior_state.values` tree (`root_module`, `child_modules`)."""
    stack = [module]
    while stack:
        current = stack.pop()
        if isinstance(current, Mapping):
            yield current
            stack += list(current.get("child_modules") or [])


def plan_secrets(document: Mapping[str, Any], words: Sequence[str] = DEFAULT_SECRET_NAMES) -> tuple[str, ...]:
    """Every value of a `terraform show -json` plan that is secret by its name or marked sensitive by
    the root: variables, outputs, resource attributes (planned, prior and in the changes), tags."""
    found: list[str] = []
    for name, variable in (document.get("variables") or {}).items():
        if looks_secret(name, words) and isinstance(variable, Mapping):
            found += leaves(variable.get("value"))
    for name, output in ((document.get("planned_values") or {}).get("outputs") or {}).items():
        if isinstance(output, Mapping) and (output.get("sensitive") or looks_secret(name, words)):
            found += leaves(output.get("value"))
    trees = [
        (document.get("planned_values") or {}).get("root_module"),
        ((document.get("prior_state") or {}).get("values") or {}).get("root_module"),
    ]
    for tree in trees:
        for module in _modules(tree):
            for resource in module.get("resources") or []:
                found += named_secrets(resource.get("values"), words)
    for change in document.get("resource_changes") or []:
        details = change.get("change") or {}
        found += named_secrets([details.get("before"), details.get("after")], words)
    return tuple(dict.fromkeys(value for value in found if len(value) >= MIN_SECRET_LENGTH))
