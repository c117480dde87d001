"""What the commands tell the outside world, as a port: the terminal, the Actions runtime, the PR.

Commands call a `Reporter` at each step of the lifecycle. `Reporters` fans one call out to several
(terminal + Actions outputs + the PR conversation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from prenv.core.domain import Context, DeployOutcome, DestroyOutcome, PlanOutcome
from prenv.core.errors import PrenvError
from prenv.core.readiness import ReadyProgress


class Reporter(Protocol):
    def started(self, ctx: Context) -> None: ...

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None: ...

    def waiting(self, ctx: Context, progress: ReadyProgress) -> None:
        """The applied preview is not ready yet (or just got ready): what AWS says it waits for."""
        ...

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None: ...

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None: ...

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None: ...


@dataclass
class Reporters:
    """Calls each reporter in order. A reporter that fails does not stop the others, then re-raises."""

    members: Sequence[Reporter]

    def _each(self, call: Callable[[Reporter], None]) -> None:
        first: BaseException | None = None
        for member in self.members:
            try:
                call(member)
            except Exception as exc:  # a boundary: every reporter gets its turn; the first error is re-raised
                first = first or exc
        if first is not None:
            raise first

    def started(self, ctx: Context) -> None:
        self._each(lambda member: member.started(ctx))

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        self._each(lambda member: member.planned(ctx, outcome))

    def waiting(self, ctx: Context, progress: ReadyProgress) -> None:
        self._each(lambda member: member.waiting(ctx, progress))

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        self._each(lambda member: member.ready(ctx, outcome))

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        self._each(lambda member: member.destroyed(ctx, outcome))

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        self._each(lambda member: member.failed(ctx, error, plan))
