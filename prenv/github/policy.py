"""When a GitHub request is retried and how long prenv waits, and which URLs it may follow (all pure).

- 5xx answers and connection errors: exponential backoff;
- secondary rate limits (403 or 429 with `retry-after`, `x-ratelimit-remaining: 0` / `x-ratelimit-reset`,
  or GitHub's rate-limit message): the wait GitHub asks for;
- any other 403: no retry (a permission refusal);
- GraphQL errors (HTTP 200 with an `errors` list) read as the status a REST request would have got;
- pagination links and the GraphQL endpoint must be on the configured API host.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_RATE_LIMIT_WORDS = ("rate limit", "abuse detection")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # the first try and three retries
    backoff: float = 2.0  # seconds before the first retry of a 5xx; doubles each time
    rate_limit_wait: float = 60.0  # a secondary rate limit that names no time: GitHub says wait a minute
    max_wait: float = 300.0  # longer waits are not worth blocking a job for: fail instead


def _header(headers: Mapping[str, Any] | None, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return ""


def _message(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return ""


def is_rate_limited(status: int, headers: Mapping[str, Any] | None, message: str) -> bool:
    """A 403/429 that is a (primary or secondary) rate limit rather than a refusal."""
    if status == 429:
        return True
    if status != 403:
        return False
    if _header(headers, "retry-after") or _header(headers, "x-ratelimit-remaining") == "0":
        return True
    return any(word in message.lower() for word in _RATE_LIMIT_WORDS)


def retry_delay(
    status: int,
    headers: Mapping[str, Any] | None,
    message: str,
    *,
    attempt: int,
    now: float,
    policy: RetryPolicy,
) -> float | None:
    """Seconds to wait before retrying a failed request, or None when it must not be retried (pure).

    `status` 0 means the request got no answer (connection error or timeout). `attempt` counts from 1.
    """
    if status == 0 or status >= 500:
        return float(policy.backoff * 2.0 ** (attempt - 1))
    if not is_rate_limited(status, headers, message):
        return None
    retry_after = _header(headers, "retry-after")
    if retry_after.strip().isdigit():
        return float(retry_after.strip())
    reset = _header(headers, "x-ratelimit-reset")
    if _header(headers, "x-ratelimit-remaining") == "0" and reset.strip().isdigit():
        return max(float(reset.strip()) - now, 0.0) + 1.0
    return float(policy.rate_limit_wait * 2.0 ** (attempt - 1))


def next_link(headers: Mapping[str, Any] | None) -> str:
    """The `rel="next"` URL of a `Link` header, or ''."""
    match = _NEXT_LINK.search(_header(headers, "link"))
    return match.group(1) if match else ""


def same_origin(url: str, base: str) -> bool:
    """True when `url` is on the host (scheme, host, port) and under the path of the API base URL."""
    path, base_path = urllib.parse.urlsplit(url).path, urllib.parse.urlsplit(base).path
    return same_host(url, base) and path.startswith(base_path.rstrip("/") + "/")


def same_host(url: str, base: str) -> bool:
    """True when `url` is on the host (scheme, host, port) of the API base URL."""
    a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(base)
    port = {"http": 80, "https": 443}
    return (
        a.scheme == b.scheme
        and (a.hostname or "").lower() == (b.hostname or "").lower()
        and (a.port or port.get(a.scheme)) == (b.port or port.get(b.scheme))
    )


# GraphQL error types (https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api)
# as the HTTP status a REST request would have got, so that one retry policy serves both.
_GRAPHQL_STATUS = {"RATE_LIMITED": 403, "FORBIDDEN": 403, "NOT_FOUND": 404}


def graphql_status(status: int, data: Any) -> tuple[int, str]:
    """The status and message of a failed request; for GraphQL `errors`, those of its first error (pure)."""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return status, _message(data)
    first = errors[0]
    message = str(first.get("message") or "")
    kind = str(first.get("type") or "")
    if kind == "RATE_LIMITED" and "rate limit" not in message.lower():
        message = f"rate limit: {message}"
    return _GRAPHQL_STATUS.get(kind, status), message
