"""`prenv unlock --pr N --lock-id ID`: release a stale state lock, only the one with that ID."""

from __future__ import annotations

from prenv.commands.common import Services, engine, target
from prenv.core.errors import ExitStatus, FailureReason, PrenvError, UsageError


def run(services: Services, pr: str | None, lock_id: str) -> ExitStatus:
    lock_id = lock_id.strip()
    if not lock_id:
        raise UsageError(
            "--lock-id is required: prenv releases only the lock you name",
            hint="copy the ID from the state-locked error or from `prenv cleanup`'s stale-lock report",
        )
    tgt = target(services, "unlock", pr)
    with engine(services, tgt) as eng:
        eng.init()
        if tgt.names.workspace not in eng.tf.workspaces():
            raise PrenvError(
                f"workspace {tgt.names.workspace} does not exist, so it holds no lock",
                reason=FailureReason.UNLOCK_FAILED,
                hint="check the PR number",
            )
        eng.tf.select_workspace(tgt.names.workspace, create=False)
        eng.tf.force_unlock(lock_id)
    services.out.write(f"Released lock {lock_id} of workspace {tgt.names.workspace}.\n")
    return ExitStatus.SUCCESS
