"""What the commands tell the outside world, as a port: the terminal, the Actions runtime, the PR.

Commands call a `Reporter` at each step of the lifecycle. `Reporters` fans one call out to several
(terminal + Actions outputs + the GitHub conversation); tests pass their own small fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from prenv.errors import PrenvError
from prenv.plan import PlanSummary


@dataclass(frozen=True)
class Context:
    """Which preview a command works on, and where it runs."""

    pr_number: int
    repository: str
    workspace: str
    environment: str  # the GitHub Deployment environment, `pr-<N>`
    command: str  # deploy, plan, destroy
    head_sha: str = ""
    image: str = ""
    run_url: str = ""
    title: str = ""
    head_ref: str = ""
    names: Mapping[str, Any] = field(default_factory=dict)
    comment_environment: str = ""  # config comment.environment: separates several set-ups per repository
    sandbox: bool = False
    # The sticky comment as the last deploy left it (its deploy marker in the state bucket; see
    # prenv.sticky): edited directly instead of searched for. 0 / "": no hint.
    comment_id: int = 0
    comment_sha: str = ""  # sha256 (hex) of the body prenv last wrote there
    comment_author: str = ""  # who wrote it: the token's identity then


@dataclass(frozen=True)
class Output:
    name: str
    value: Any
    sensitive: bool


@dataclass(frozen=True)
class DeployOutcome:
    summary: PlanSummary
    plan_text: str
    applied: bool
    url: str = ""
    outputs: tuple[Output, ...] = ()


@dataclass(frozen=True)
class PlanOutcome:
    summary: PlanSummary
    plan_text: str


@dataclass(frozen=True)
class DestroyOutcome:
    existed: bool
    destroyed: int = 0  # resources in the state before the destroy
    workspace_deleted: bool = False


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


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, sort_keys=True)


@dataclass
class TerminalReporter:
    """Plain lines on the terminal: what is happening, the one-line plan summary, the URL."""

    out: TextIO
    show_plan: bool = False

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def started(self, ctx: Context) -> None:
        self._say(f"prenv {ctx.command}: PR #{ctx.pr_number} of {ctx.repository}, workspace {ctx.workspace}")

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        if self.show_plan and outcome.plan_text:
            self._say(outcome.plan_text.rstrip())
        if outcome.summary.has_changes:
            self._say(f"Plan: {outcome.summary.line()}.")
        else:
            self._say("No changes. The preview matches the configuration.")

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        if outcome.applied:
            self._say(f"Applied: {outcome.summary.line()}.")
        else:
            self._say("No changes: nothing was applied.")
        for output in outcome.outputs:
            shown = "(sensitive value)" if output.sensitive else _format_value(output.value)
            self._say(f"  {output.name} = {shown}")
        if outcome.url:
            self._say(f"Preview URL: {outcome.url}")

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        if not outcome.existed:
            self._say(f"Nothing to destroy: workspace {ctx.workspace} does not exist.")
        else:
            self._say(
                f"Destroyed {outcome.destroyed} resource(s); workspace {ctx.workspace} "
                + ("deleted." if outcome.workspace_deleted else "kept.")
            )

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        return None  # the CLI prints the error line itself
