"""Exit statuses, failure reasons and the one error type every known failure is raised as."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ExitStatus(IntEnum):
    SUCCESS = 0
    FAILURE = 1  # a known failure: one clear line and what to do
    USAGE = 2  # bad usage or configuration
    UNEXPECTED = 3  # a bug or an unforeseen condition: traceback with versions
    # Cancelled by a signal, as a shell reports it (128 + the signal number): SIGINT, SIGTERM.
    INTERRUPTED = 130
    TERMINATED = 143


class FailureReason(StrEnum):
    """Values of the documented `failure-reason` step output."""

    CONFIG_INVALID = "config-invalid"
    USAGE = "bad-usage"
    PR_NOT_FOUND = "pr-not-found"
    TERRAFORM_NOT_FOUND = "terraform-not-found"
    STATE_LOCKED = "state-locked"
    INIT_FAILED = "init-failed"
    WORKSPACE_FAILED = "workspace-failed"
    PLAN_FAILED = "plan-failed"
    APPLY_FAILED = "apply-failed"
    OUTPUT_FAILED = "output-failed"
    DESTROY_FAILED = "destroy-failed"
    UNLOCK_FAILED = "unlock-failed"
    HEALTH_CHECK_FAILED = "health-check-failed"
    NOT_READY = "not-ready"  # ECS and the target group did not get to "ready" (prenv.engine.readiness)
    MIGRATE_FAILED = "migrate-failed"
    SEED_FAILED = "seed-failed"
    RUN_FAILED = "run-failed"  # a one-off task could not run, or did not finish in time
    PRE_DESTROY_FAILED = "pre-destroy-failed"
    GITHUB_UNAVAILABLE = "github-unavailable"
    GITHUB_TOKEN_MISSING = "github-token-missing"  # noqa: S105 - a failure reason, not a password
    GITHUB_PERMISSION_DENIED = "github-permission-denied"
    GITHUB_REQUEST_FAILED = "github-request-failed"
    AWS_UNAVAILABLE = "aws-unavailable"
    AWS_REQUEST_FAILED = "aws-request-failed"
    PREVIEW_NOT_FOUND = "preview-not-found"
    EXEC_UNAVAILABLE = "exec-unavailable"
    FORK_REFUSED = "fork-refused"
    CAP_REACHED = "cap-reached"
    CLEANUP_FAILED = "cleanup-failed"
    CANCELLED = "cancelled"
    SLEEP_FAILED = "sleep-failed"
    WAKE_FAILED = "wake-failed"
    SETUP_INVALID = "setup-invalid"  # `prenv doctor` found a set-up mistake
    SETUP_FAILED = "setup-failed"  # `prenv setup` could not set up, or tear down, the AWS side
    IMAGE_MISSING = "image-missing"
    IMAGE_FAILED = "image-failed"
    DATABASE_FAILED = "database-failed"  # the shared server refused a pull request's database or role
    UNEXPECTED = "unexpected-error"


class PrenvError(Exception):
    """A known failure: `message` says what happened, `hint` what to do about it.

    `detail` holds captured output (for example Terraform's error text) that is shown below the
    one-line message; it is never needed to understand what to do.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: FailureReason,
        hint: str = "",
        detail: str = "",
        exit_status: ExitStatus = ExitStatus.FAILURE,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.hint = hint
        self.detail = detail
        self.exit_status = exit_status
        self.detail_shown = False  # True once the detail was printed (Terraform output is shown as it fails)

    def one_line(self) -> str:
        """The message and the hint on one line, as used in annotations and comments."""
        return f"{self.message}; {self.hint}" if self.hint else self.message


class UsageError(PrenvError):
    """Bad usage: a missing or malformed argument. Exit status 2."""

    def __init__(self, message: str, *, hint: str = "", reason: FailureReason = FailureReason.USAGE) -> None:
        super().__init__(message, reason=reason, hint=hint, exit_status=ExitStatus.USAGE)


class ConfigError(PrenvError):
    """Invalid configuration; the message names the file, the line and the key. Exit status 2."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(
            message, reason=FailureReason.CONFIG_INVALID, hint=hint, exit_status=ExitStatus.USAGE
        )


class Cancelled(PrenvError):
    """The run was cancelled by a signal (SIGINT or SIGTERM: a cancelled Actions step, Ctrl-C).

    Exit status 130 or 143, as a shell reports a process ended by that signal; `message` says what state
    the preview was left in. `escalated`: a second signal came, so Terraform was not given time to finish
    its graceful stop."""

    def __init__(
        self,
        message: str,
        *,
        signal_name: str,
        hint: str = "",
        detail: str = "",
        escalated: bool = False,
        since: float = 0.0,
    ) -> None:
        status = ExitStatus.TERMINATED if signal_name == "SIGTERM" else ExitStatus.INTERRUPTED
        super().__init__(
            message, reason=FailureReason.CANCELLED, hint=hint, detail=detail, exit_status=status
        )
        self.signal_name = signal_name
        self.escalated = escalated
        self.since = since  # when the interrupted Terraform command started (epoch seconds; 0: none ran)
