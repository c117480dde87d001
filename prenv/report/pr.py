"""The PR conversation: the sticky comment and GitHub Deployments (a `Reporter`).

`GitHubReporter` keeps exactly one comment per PR and `comment.environment` (`prenv.report.sticky`:
found by its hidden marker among the comments the token's own identity wrote, or directly by the id
the last deploy remembered through its `CommentMemory`; edited in place; nothing is written when the
body is unchanged). It also records the preview as a GitHub Deployment of `ctx.environment`
(in_progress -> success / failure; on destroy, inactive on each one whose newest status is not
inactive yet, all read in one GraphQL request).

`LocalCommentReporter` is the same comment for `prenv sandbox`: written to a file and printed, never
sent anywhere.

Requests of a deploy: create the deployment and set it in_progress first (its `creator` tells who the
token is, so neither checking a remembered comment nor searching needs GET /user), then the "deploying"
comment; at the end, the "ready" comment and the success status. With the comment remembered: 5
requests; without: one more to list the comments (one per 100 comments). A destroy: one GraphQL request,
one `inactive` status per deployment still active, the "destroyed" comment (+1 to list the comments
when not remembered).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from prenv.core.config import Config
from prenv.core.domain import (
    Command,
    CommentState,
    Context,
    DeployOutcome,
    DestroyOutcome,
    PlanOutcome,
    sensitive_values,
)
from prenv.core.errors import PrenvError
from prenv.core.limits import COMMENT_LIMIT
from prenv.core.marker import Marker, format_marker
from prenv.core.readiness import Phase, Progress
from prenv.github.client import GitHub
from prenv.github.http import GitHubError
from prenv.render import markdown
from prenv.report.sticky import CommentMemory, StickyComment

Warn = Callable[[str], None]
# The "deploying" comment shows what the deploy waits for, edited at most this often (seconds).
WAITING_EVERY = 30.0


def comment_body(state: CommentState, ctx: Context, config: Config, **parts: Any) -> str:
    """The whole comment: the marker line, then the rendered body, within GitHub's size limit."""
    marker = format_marker(Marker(env=ctx.comment_environment))
    limit = COMMENT_LIMIT - len(marker) - 1
    return marker + "\n" + markdown.comment(state, ctx, config=config, limit=limit, **parts)


@dataclass
class _Comments:
    """Which comment states a command goes through; subclasses say where the comment goes."""

    config: Config
    template_dir: Path | None = None  # the repository, where comment.templates overrides are found
    clock: Callable[[], float] = field(default=time.monotonic, kw_only=True)
    _waiting_shown: float | None = field(default=None, init=False)

    def _publish(self, ctx: Context, body: str, *, create: bool) -> None:
        raise NotImplementedError

    def _comment(self, state: CommentState, ctx: Context, *, create: bool = True, **parts: Any) -> None:
        if self.config.comment.enabled:
            body = comment_body(state, ctx, self.config, template_dir=self.template_dir, **parts)
            self._publish(ctx, body, create=create)

    def started(self, ctx: Context) -> None:
        if ctx.command is Command.DEPLOY:
            self._comment(CommentState.DEPLOYING, ctx)

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        if ctx.command is Command.PLAN:
            self._comment(CommentState.PLANNED, ctx, plan=outcome)

    def waiting(self, ctx: Context, progress: Progress) -> None:
        """The "deploying" comment with what AWS says the deploy waits for (ready or failed: the next
        comment says it), edited at most every WAITING_EVERY seconds."""
        now = self.clock()
        shown = self._waiting_shown
        if progress.phase is not Phase.WAITING or (shown is not None and now - shown < WAITING_EVERY):
            return
        self._waiting_shown = now
        self._comment(CommentState.DEPLOYING, ctx, waiting=progress)

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        state = CommentState.READY if outcome.applied else CommentState.NO_CHANGES
        self._comment(state, ctx, deploy=outcome, masks=sensitive_values(outcome.outputs))

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        # A PR that never had a preview gets no "destroyed" comment; an existing comment is updated.
        self._comment(CommentState.DESTROYED, ctx, destroy=outcome, create=outcome.existed)

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        self._comment(CommentState.FAILED, ctx, error=error, plan=plan)

    def warn_idle(self, ctx: Context, expires_at: datetime) -> None:
        """Warn on the PR that its idle preview will be destroyed at `expires_at` (cleanup)."""
        self._comment(CommentState.IDLE_WARNING, ctx, expires_at=expires_at)


@dataclass
class LocalCommentReporter(_Comments):
    """The sandbox's PR: each comment prenv would post is printed and written to `path`."""

    path: Path = field(default_factory=lambda: Path("prenv-sandbox-comment.md"))
    out: TextIO | None = None
    _last: str = ""

    def _publish(self, ctx: Context, body: str, *, create: bool) -> None:
        if body == self._last or (not create and not self._last):
            return
        self._last = body
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(body, encoding="utf-8")
        if self.out is not None:
            rule = "-" * 78
            self.out.write(f"{rule}\nThe PR comment prenv would post (also in {self.path}):\n{rule}\n")
            self.out.write(body.rstrip("\n") + f"\n{rule}\n")
            self.out.flush()


@dataclass
class GitHubReporter(_Comments):
    """The sticky comment and the Deployments of one command run."""

    github: GitHub = field(kw_only=True)
    warn: Warn = field(default=lambda message: None)
    # Where the comment is remembered between runs (None: it is searched for every time).
    memory: CommentMemory | None = None
    _sticky: StickyComment | None = None
    _deployment: int | None = None

    @property
    def sticky(self) -> StickyComment:
        """The PR's comment as this run knows it."""
        if self._sticky is None:
            self._sticky = StickyComment(self.github, warn=self.warn, memory=self.memory)
        return self._sticky

    def _publish(self, ctx: Context, body: str, *, create: bool) -> None:
        self.sticky.publish(ctx, body, create=create)

    # -- deployments ------------------------------------------------------------------------------------

    def _deploying(self, ctx: Context) -> None:
        if not self.config.deployments.enabled:
            return
        ref = ctx.head_sha or f"refs/pull/{ctx.pr_number}/head"
        deployment = self.github.create_deployment(
            ref, ctx.environment, f"prenv preview of PR #{ctx.pr_number}"
        )
        self._deployment = deployment.id
        self.github.create_deployment_status(
            deployment.id,
            "in_progress",
            description=f"Deploying {ctx.head_sha[:7] or ref}",
            log_url=ctx.run_url,
        )

    def _mark_inactive(self, ctx: Context) -> None:
        for deployment_id, state in list(self.github.deployment_states(ctx.environment)):
            if state != "inactive":
                self.github.create_deployment_status(
                    deployment_id, "inactive", description="Preview destroyed", log_url=ctx.run_url
                )

    def _delete_environment(self, ctx: Context) -> None:
        try:
            self.github.delete_environment(ctx.environment)
        except GitHubError as exc:
            if exc.status not in (403, 404):
                raise
            self.warn(
                f"could not delete the GitHub environment {ctx.environment} (HTTP {exc.status}); "
                "deleting an environment needs a token with `administration: write` (the Actions token "
                "cannot): set deployments.delete_environment to false, or use such a token"
            )

    # -- the Reporter port ------------------------------------------------------------------------------

    def started(self, ctx: Context) -> None:
        if ctx.command is Command.DEPLOY:
            self._deploying(ctx)
        super().started(ctx)

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        super().ready(ctx, outcome)
        if self._deployment is not None:
            self.github.create_deployment_status(
                self._deployment,
                "success",
                description="Preview ready" if outcome.applied else "Preview up to date",
                log_url=ctx.run_url,
                environment_url=outcome.url,
            )

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        if self.config.deployments.enabled:
            self._mark_inactive(ctx)
            if self.config.deployments.delete_environment:
                self._delete_environment(ctx)
        super().destroyed(ctx, outcome)

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        """Report the failure; a GitHub error here is a warning, so the original error stays the one shown."""
        try:
            super().failed(ctx, error, plan)
            if self._deployment is not None:
                self.github.create_deployment_status(
                    self._deployment,
                    "failure",
                    description=f"prenv failed: {error.reason}",
                    log_url=ctx.run_url,
                )
        except PrenvError as exc:
            self.warn(f"could not report the failure on the pull request: {exc.one_line()}")
