"""prenv's markers beside a workspace's state: when it was last deployed (cleanup's idleness clock).

A marker that cannot be written is a warning, never a failed deploy or destroy: cleanup then judges
idleness by the state object's own age.
"""

from __future__ import annotations

from collections.abc import Callable

from prenv.commands.common import Services, Target


def _best_effort(services: Services, what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as exc:  # any AWS or network error: the preview itself is fine
        line = (
            f"could not {what}: {type(exc).__name__}: {exc}; cleanup will judge idleness by the state's age"
        )
        services.err.write(f"prenv: warning: {line}\n")
        services.runtime().annotate("warning", line, title="prenv")


def record_deploy(services: Services, tgt: Target) -> None:
    from prenv.state_bucket import StateBucket, s3_client

    def write() -> None:
        bucket = StateBucket(tgt.config, s3_client(tgt.config, services.env))
        bucket.record_deploy(
            tgt.names.workspace,
            {"pr": tgt.names.pr_number, "head_sha": tgt.ctx.head_sha, "run_url": tgt.ctx.run_url},
        )

    _best_effort(services, f"record the deploy time of {tgt.names.workspace}", write)


def forget(services: Services, tgt: Target) -> None:
    from prenv.state_bucket import StateBucket, s3_client

    def drop() -> None:
        StateBucket(tgt.config, s3_client(tgt.config, services.env)).forget(tgt.names.workspace)

    _best_effort(services, f"remove prenv's markers of {tgt.names.workspace}", drop)
