"""`prenv unlock --pr N --lock-id ID`: release a stale state lock, only the one with that ID."""

from __future__ import annotations

from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.domain import Command
from prenv.core.errors import ExitStatus, UsageError


def run(services: Services, pr: str | None, lock_id: str) -> ExitStatus:
    lock_id = lock_id.strip()
    if not lock_id:
        raise UsageError(
            "--lock-id is required: prenv releases only the lock you name",
            hint="copy the ID from the state-locked error or from `prenv cleanup`'s stale-lock report",
        )
    job = wiring.invocation(services, pr)
    config, ports = job.config, job.ports
    tgt = wiring.target(ports, config, Command.UNLOCK, job.number, job.event)
    with wiring.engine(ports, config, tgt) as eng:
        eng.unlock(lock_id)
    services.out.write(f"Released lock {lock_id} of workspace {tgt.names.workspace}.\n")
    return ExitStatus.SUCCESS
