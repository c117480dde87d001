"""The reporter for the GitHub Actions runtime: step outputs, the job summary, masks and annotations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prenv.core.config import Config
from prenv.core.domain import (
    Command,
    CommentState,
    Context,
    DeployOutcome,
    DestroyOutcome,
    Output,
    PlanOutcome,
    sensitive_values,
)
from prenv.core.errors import PrenvError
from prenv.core.readiness import ReadyProgress
from prenv.render import markdown
from prenv.report.runtime import Runtime


def _mask_outputs(runtime: Runtime, outputs: tuple[Output, ...]) -> None:
    """`::add-mask::` every form of each sensitive output (whole, as JSON, each leaf, each line)."""
    for value in sensitive_values(outputs):
        runtime.mask(value)


@dataclass
class ActionsReporter:
    runtime: Runtime
    config: Config
    template_dir: Path | None = None  # the repository, where comment.templates overrides are found

    def _outputs(self, ctx: Context, **values: str) -> None:
        self.runtime.set_outputs({"workspace": ctx.workspace, "pr-number": str(ctx.pr_number), **values})

    def _counts(self, outcome: PlanOutcome | DeployOutcome) -> dict[str, str]:
        summary = outcome.summary
        return {
            "changes": "true" if summary.has_changes else "false",
            "to-add": str(summary.add),
            "to-change": str(summary.change),
            "to-destroy": str(summary.destroy),
            "to-replace": str(summary.replace),
        }

    def _summary(self, ctx: Context, kind: CommentState, **kwargs: Any) -> None:
        if not self.runtime.has_summary:
            return  # rendering only when there is a summary to write
        text = markdown.job_summary(ctx, kind, config=self.config, template_dir=self.template_dir, **kwargs)
        self.runtime.write_summary(text)

    def started(self, ctx: Context) -> None:
        return None

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        if ctx.command is Command.PLAN:
            self._outputs(ctx, **self._counts(outcome), **{"failure-reason": ""})
            self._summary(ctx, CommentState.PLANNED, plan=outcome)

    def waiting(self, ctx: Context, progress: ReadyProgress) -> None:
        return None  # the terminal reporter's lines are the log; outputs come with the outcome

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        _mask_outputs(self.runtime, outcome.outputs)
        for value in outcome.secrets:
            self.runtime.mask(value)
        self._outputs(ctx, url=outcome.url, **self._counts(outcome), **{"failure-reason": ""})
        self._summary(ctx, CommentState.READY, deploy=outcome)

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        self._outputs(ctx, **{"failure-reason": "", "destroyed": str(outcome.destroyed)})
        self._summary(ctx, CommentState.DESTROYED, destroy=outcome)

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        # The failure-reason output and the error annotation are written by the CLI, for every failure.
        self._summary(ctx, CommentState.FAILED, error=error, plan=plan)
