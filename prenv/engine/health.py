"""Wait for a deployed preview to answer its health check."""

from __future__ import annotations

import time
from collections.abc import Callable

from prenv.core.config import HealthCheck
from prenv.core.errors import FailureReason, PrenvError


def _status(url: str, timeout: float) -> int:
    import urllib.error  # loaded only when a health check is configured
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "prenv-health-check"})  # noqa: S310 - http(s) URL from our own output
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def wait_healthy(
    url: str,
    check: HealthCheck,
    *,
    probe: Callable[[str, float], int] = _status,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Poll `url` + `check.path` until it answers 2xx or `check.timeout` passes. Returns the last status."""
    if not url.startswith(("http://", "https://")):
        raise PrenvError(
            f"the preview URL {url!r} is not an http(s) URL",
            reason=FailureReason.HEALTH_CHECK_FAILED,
            hint="check the url output of the Terraform root",
        )
    target = url.rstrip("/") + "/" + check.path.lstrip("/")
    deadline = clock() + check.timeout.total_seconds()
    status, delay = 0, 2.0
    while True:
        status = probe(target, 10.0)
        if 200 <= status < 300:
            return status
        if clock() + delay > deadline:
            break
        sleep(delay)
        delay = min(delay * 1.5, 15.0)
    seen = f"HTTP {status}" if status else "no answer"
    raise PrenvError(
        f"the preview at {target} did not become healthy within "
        f"{int(check.timeout.total_seconds())}s ({seen})",
        reason=FailureReason.HEALTH_CHECK_FAILED,
        hint="run `prenv status` and `prenv logs` for this PR to see why the service is not answering",
    )
