"""What the commands tell the outside world, as a port: the terminal, the Actions runtime, the PR.

Commands call a `Reporter` at each step of the lifecycle. `Reporters` fans one call out to several
(terminal + Actions outputs + the GitHub conversation); tests pass their own small fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prenv.core.domain import Context, DeployOutcome, DestroyOutcome, PlanOutcome
from prenv.core.errors import PrenvError


class Reporter(Protocol):
    def started(self, ctx: Context) -> None: ...

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None: ...

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None: ...

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None: ...

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None: ...


class NullReporter:
    def started(self, ctx: Context) -> None:
        return None

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        return None

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        return None

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        return None

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        return None


@dataclass
class Reporters:
    """Calls each reporter in order. A reporter that fails does not stop the others, then re-raises."""

    members: Sequence[Reporter]

    def _each(self, method: str, *args: Any) -> None:
        first: BaseException | None = None
        for member in self.members:
            try:
                getattr(member, method)(*args)
            except Exception as exc:  # re-raised below once every reporter had its turn
                first = first or exc
        if first is not None:
            raise first

    def started(self, ctx: Context) -> None:
        self._each("started", ctx)

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        self._each("planned", ctx, outcome)

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        self._each("ready", ctx, outcome)

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        self._each("destroyed", ctx, outcome)

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        self._each("failed", ctx, error, plan)
