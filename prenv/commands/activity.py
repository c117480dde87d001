"""prenv's markers beside a workspace's state: when it was last deployed (cleanup's idleness clock),
and where the PR's sticky comment is (so the next run edits it without searching the PR's comments).

A marker that cannot be written is a warning, never a failed deploy or destroy: cleanup then judges
idleness by the state object's own age. A marker that cannot be read is no hint: the comment is
searched for as if there were none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from prenv.commands.common import Services, Target
from prenv.report.port import Reporter


def _best_effort(services: Services, what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as exc:  # any AWS or network error: the preview itself is fine
        line = (
            f"could not {what}: {type(exc).__name__}: {exc}; cleanup will judge idleness by the state's age"
        )
        services.err.write(f"prenv: warning: {line}\n")
        services.runtime().annotate("warning", line, title="prenv")


def with_comment_hint(services: Services, tgt: Target) -> Target:
    """`tgt` with the sticky comment the last deploy remembered (one S3 read), when this run edits the
    comment on GitHub; `tgt` unchanged when there is no marker or it cannot be read."""
    from prenv.report.pr import wants_hint

    if not wants_hint(services.env, tgt.config):
        return tgt
    try:
        from prenv.aws.state_bucket import StateBucket, s3_client

        bucket = StateBucket(tgt.config, s3_client(tgt.config, services.env))
        record = bucket.read_deploy(tgt.names.workspace)
    except Exception as exc:  # any AWS or network error: searching the comments still works
        services.err.write(
            f"prenv: note: could not read the deploy marker of {tgt.names.workspace} "
            f"({type(exc).__name__}); the PR's comment will be searched for\n"
        )
        return tgt
    from prenv.report.sticky import hint_from_record

    hint = hint_from_record(record or {}, tgt.ctx)
    return replace(tgt, ctx=replace(tgt.ctx, **hint)) if hint else tgt


def record_deploy(services: Services, tgt: Target, reporter: Reporter | None = None) -> None:
    """Write the deploy marker: this deploy's time and commit, and the comment as `reporter` left it."""
    from prenv.aws.state_bucket import StateBucket, s3_client
    from prenv.report.pr import comment_record

    def write() -> None:
        details = {
            "pr": tgt.names.pr_number,
            "repository": tgt.ctx.repository,
            "head_sha": tgt.ctx.head_sha,
            "run_url": tgt.ctx.run_url,
        }
        comment = comment_record(reporter, tgt.ctx) if reporter is not None else None
        if comment:
            details["comment"] = comment
        bucket = StateBucket(tgt.config, s3_client(tgt.config, services.env))
        bucket.record_deploy(tgt.names.workspace, details)

    _best_effort(services, f"record the deploy time of {tgt.names.workspace}", write)


def forget(services: Services, tgt: Target) -> None:
    from prenv.aws.state_bucket import StateBucket, s3_client

    def drop() -> None:
        StateBucket(tgt.config, s3_client(tgt.config, services.env)).forget(tgt.names.workspace)

    _best_effort(services, f"remove prenv's markers of {tgt.names.workspace}", drop)
