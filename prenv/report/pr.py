"""The PR conversation: the sticky comment and GitHub Deployments (a `Reporter`).

`GitHubReporter` keeps exactly one comment per PR and `comment.environment` (`prenv.report.sticky`:
found by its hidden marker among the comments the token's own identity wrote, or directly by the id
the last deploy remembered through its `CommentMemory`; edited in place; nothing is written when the
body is unchanged). It also records the preview as a GitHub Deployment of `ctx.environment`
(in_progress -> success / failure; on destroy, inactive on each one whose newest status is not
inactive yet, all read in one GraphQL request).

`LocalCommentReporter` is the same comment for `prenv sandbox`: each state written to a file of its
own and announced (printed whole with `--verbose`), never sent anywhere.

GitHub down does not block a deploy: when GitHub is unavailable at the start (and the event payload
gave what the deploy needs), the deploy goes on with a warning and the conversation is tried again at the
end; if GitHub still fails, the run ends `github-unavailable` after the preview is up (the job summary
and the step outputs carry the URL). A Deployment that an earlier run left `in_progress` (killed, or GitHub
failing at its end) is settled (`error`) when the next deploy starts.

Requests of a deploy: the PR's deployments that are still in progress (one GraphQL request), then create
the deployment and set it in_progress (its `creator` tells who the
token is, so neither checking a remembered comment nor searching needs GET /user), then the "deploying"
comment; at the end, the "ready" comment and the success status. With the comment remembered: 6
requests; without: one more to list the comments (one per 100 comments). A destroy: one GraphQL request,
one `inactive` status per deployment still active, the "destroyed" comment (+1 to list the comments
when not remembered).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

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
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.limits import COMMENT_LIMIT
from prenv.core.marker import Marker, format_marker
from prenv.core.readiness import ReadyPhase, ReadyProgress
from prenv.core.sleep import SleepNotice, WakeNotice
from prenv.github.client import GitHub
from prenv.github.http import GitHubError
from prenv.render import markdown
from prenv.report.sticky import CommentMemory, StickyComment

Warn = Callable[[str], None]
_UNFINISHED = frozenset({"in_progress", "queued", "pending"})
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

    def _publish(self, ctx: Context, body: str, *, create: bool, state: CommentState) -> None:
        raise NotImplementedError

    def _comment(self, state: CommentState, ctx: Context, *, create: bool = True, **parts: Any) -> None:
        if self.config.comment.enabled:
            body = comment_body(state, ctx, self.config, template_dir=self.template_dir, **parts)
            self._publish(ctx, body, create=create, state=state)

    def started(self, ctx: Context) -> None:
        if ctx.command is Command.DEPLOY:
            self._comment(CommentState.DEPLOYING, ctx)

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        if ctx.command is Command.PLAN:
            self._comment(CommentState.PLANNED, ctx, plan=outcome)

    def waiting(self, ctx: Context, progress: ReadyProgress) -> None:
        """The "deploying" comment with what AWS says the deploy waits for (ready or failed: the next
        comment says it), edited at most every WAITING_EVERY seconds."""
        now = self.clock()
        shown = self._waiting_shown
        if progress.phase is not ReadyPhase.WAITING or (shown is not None and now - shown < WAITING_EVERY):
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

    def asleep(self, ctx: Context, notice: SleepNotice) -> None:
        """Say on the PR that its preview sleeps, what that saves and how to wake it (cleanup)."""
        self._comment(CommentState.SLEEPING, ctx, asleep=notice)

    def awake(self, ctx: Context, outcome: DeployOutcome, notice: WakeNotice) -> None:
        """The comment back to ready after `prenv wake`: the URL, the outputs, what the wake did."""
        self._comment(
            CommentState.AWAKE, ctx, deploy=outcome, woken=notice, masks=sensitive_values(outcome.outputs)
        )


# The files LocalCommentReporter writes: `<n>-<state>.md` (a later run removes an earlier run's).
COMMENT_FILE = re.compile(r"^[0-9]+-[a-z-]+\.md$")


@dataclass
class LocalCommentReporter(_Comments):
    """The sandbox's PR: each comment prenv would post goes to a file of its own in `directory`,
    numbered in order and named after its state (`1-deploying.md`, `2-ready.md`, ...), so no stage
    overwrites another. `say` announces each file in one line (but "deploying", which says only that a
    deploy started), or prints each comment whole (`full`)."""

    directory: Path = field(default_factory=lambda: Path("prenv-sandbox-comments"))
    say: Callable[[str], None] | None = None
    full: bool = False
    written: list[Path] = field(default_factory=list)
    _last: str = ""

    def clear(self) -> None:
        """Remove the comment files an earlier run left in `directory` (only files named like ours)."""
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                if COMMENT_FILE.match(path.name) and path.is_file():
                    path.unlink()

    def _publish(self, ctx: Context, body: str, *, create: bool, state: CommentState) -> None:
        if body == self._last or (not create and not self._last):
            return
        self._last = body
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{len(self.written) + 1}-{state.value.replace('_', '-')}.md"
        path.write_text(body, encoding="utf-8")
        self.written.append(path)
        if self.say is None:
            return
        if self.full:
            rule = "-" * 78
            self.say(f"{rule}\nThe PR comment prenv would post ({state.value}, also in {path}):\n{rule}")
            self.say(body.rstrip("\n") + f"\n{rule}")
        elif state is not CommentState.DEPLOYING:  # "deploying" says only that a deploy started
            self.say(f"comment ({state.value.replace('_', ' ')}): {path} ({len(body):,} characters)")


@dataclass
class GitHubReporter(_Comments):
    """The sticky comment and the Deployments of one command run."""

    github: GitHub = field(kw_only=True)
    warn: Warn = field(default=lambda message: None)
    # Where the comment is remembered between runs (None: it is searched for every time).
    memory: CommentMemory | None = None
    _sticky: StickyComment | None = None
    _deployment: int | None = None
    _down: PrenvError | None = None  # GitHub was unavailable at the start: the conversation waits for the end

    @property
    def sticky(self) -> StickyComment:
        """The PR's comment as this run knows it."""
        if self._sticky is None:
            self._sticky = StickyComment(self.github, warn=self.warn, memory=self.memory)
        return self._sticky

    def _publish(self, ctx: Context, body: str, *, create: bool, state: CommentState) -> None:
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

    def _settle(self, ctx: Context) -> None:
        """Mark `error` the deployments of the environment that earlier runs left unfinished."""
        for deployment_id, state in itertools.islice(self.github.deployment_states(ctx.environment), 100):
            if state in _UNFINISHED:
                self.github.create_deployment_status(
                    deployment_id,
                    "error",
                    description="Superseded: its run ended before it finished",
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
        if ctx.command is not Command.DEPLOY:
            return super().started(ctx)
        try:
            if self.config.deployments.enabled:
                self._settle(ctx)
            self._deploying(ctx)
            super().started(ctx)
        except GitHubError as exc:
            if exc.reason is not FailureReason.GITHUB_UNAVAILABLE:
                raise
            self._down = exc
            self.warn(
                f"{exc.message}: deploying anyway; the pull request's comment and Deployment are updated "
                "at the end"
            )
        return None

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        try:
            if self._down is not None and self._deployment is None:
                self._deploying(ctx)  # the start's requests, once more
            super().ready(ctx, outcome)
            if self._deployment is not None:
                self.github.create_deployment_status(
                    self._deployment,
                    "success",
                    description="Preview ready" if outcome.applied else "Preview up to date",
                    log_url=ctx.run_url,
                    environment_url=outcome.url,
                )
        except GitHubError as exc:
            if exc.reason is not FailureReason.GITHUB_UNAVAILABLE:
                raise
            raise GitHubError(
                f"the preview is up ({outcome.url or 'no URL output'}), but the pull request could not be "
                f"updated: {exc.message}",
                status=exc.status,
                reason=exc.reason,
                hint="the URL is in the job summary and the step outputs; re-run the job once GitHub answers "
                "(https://www.githubstatus.com): it changes nothing and updates the pull request",
            ) from None

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
                # A cancelled run is an `error` (it did not finish), not a `failure` of the change.
                cancelled = error.reason is FailureReason.CANCELLED
                self.github.create_deployment_status(
                    self._deployment,
                    "error" if cancelled else "failure",
                    description="prenv was cancelled" if cancelled else f"prenv failed: {error.reason}",
                    log_url=ctx.run_url,
                )
        except PrenvError as exc:
            self.warn(f"could not report the failure on the pull request: {exc.one_line()}")
