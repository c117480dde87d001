"""The terminal reporter: what a person running prenv reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from prenv.core.domain import Context, DeployOutcome, DestroyOutcome, PlanOutcome
from prenv.core.errors import PrenvError
from prenv.core.readiness import ReadyPhase, ReadyProgress


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        return value
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

    def waiting(self, ctx: Context, progress: ReadyProgress) -> None:
        # Indented detail lines: nothing AWS reports can start a line (as a workflow command would).
        label = "Ready" if progress.phase is ReadyPhase.READY else "Waiting"
        self._say(f"{label}: {progress.summary.removeprefix('ready: ').removeprefix('waiting for ')}")
        for line in progress.details:
            self._say(f"  - {line}")

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
        if outcome.cost is not None:
            self._say(outcome.cost.line())

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
