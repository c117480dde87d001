"""The values a command works with and reports: which command, which preview (`Context`), what
happened to it (the plan, the deploy, the destroy) and the states of the PR's comment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from prenv.core.cost import PlanCost
from prenv.core.ledger import PreviewCost
from prenv.core.mask import secret_values
from prenv.core.phases import Phase
from prenv.core.plan import PlanSummary
from prenv.core.secrets import looks_secret


class Command(StrEnum):
    """The `prenv` commands, by the name the CLI gives them."""

    DEPLOY = "deploy"
    PLAN = "plan"
    DESTROY = "destroy"
    UNLOCK = "unlock"
    CLEANUP = "cleanup"
    STATUS = "status"
    LOGS = "logs"
    EXEC = "exec"
    RUN = "run"
    SANDBOX = "sandbox"
    WAKE = "wake"


class CommentState(StrEnum):
    """The states of the PR's sticky comment; each is the name of its template (`<state>.md.j2`)."""

    DEPLOYING = "deploying"
    PLANNED = "planned"
    READY = "ready"
    NO_CHANGES = "no_changes"
    FAILED = "failed"
    DESTROYED = "destroyed"
    IDLE_WARNING = "idle_warning"
    SLEEPING = "sleeping"  # cleanup put the preview to sleep
    AWAKE = "awake"  # `prenv wake` woke it: ready again


@dataclass(frozen=True)
class Context:
    """Which preview a command works on, and where it runs."""

    pr_number: int
    repository: str
    workspace: str
    environment: str  # the GitHub Deployment environment, `pr-<N>`
    command: Command
    head_sha: str = ""
    image: str = ""
    run_url: str = ""
    title: str = ""
    head_ref: str = ""
    comment_environment: str = ""  # config comment.environment: separates several set-ups per repository
    sandbox: bool = False


@dataclass(frozen=True)
class Output:
    name: str
    value: Any
    sensitive: bool
    by_name: bool = False  # sensitive because of its name (prenv.core.secrets), not marked in the root

    @classmethod
    def from_terraform(cls, name: str, document: Mapping[str, Any], secret_names: Sequence[str]) -> Output:
        """One output of `terraform output -json`; a secret name makes it sensitive too."""
        marked = bool(document.get("sensitive"))
        by_name = not marked and looks_secret(name, secret_names)
        return cls(name=name, value=document.get("value"), sensitive=marked or by_name, by_name=by_name)


def outputs_of(document: Mapping[str, Any], secret_names: Sequence[str]) -> tuple[Output, ...]:
    """`terraform output -json`'s outputs, by name (a secret name makes one sensitive too)."""
    return tuple(Output.from_terraform(name, doc, secret_names) for name, doc in sorted(document.items()))


def sensitive_values(outputs: Iterable[Output]) -> tuple[str, ...]:
    """The exact values to hide: every form of each sensitive output's value (whole, leaves, lines)."""
    found = [value for output in outputs if output.sensitive for value in secret_values(output.value)]
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class DeployOutcome:
    summary: PlanSummary
    plan_text: str
    applied: bool
    url: str = ""
    outputs: tuple[Output, ...] = ()
    secrets: tuple[str, ...] = ()  # the plan's values that are secret (prenv.core.secrets.plan_secrets)
    plan_cost: PlanCost | None = None  # the plan, priced (None: not priced)
    cost: PreviewCost | None = None  # what the comment says about the preview's cost (None: nothing)
    phases: tuple[Phase, ...] = ()  # how long each phase of the deploy took (prenv.core.phases)


@dataclass(frozen=True)
class PlanOutcome:
    summary: PlanSummary
    plan_text: str
    secrets: tuple[str, ...] = ()  # the plan's values that are secret (prenv.core.secrets.plan_secrets)
    plan_cost: PlanCost | None = None  # the plan, priced (None: not priced)


@dataclass(frozen=True)
class DestroyOutcome:
    existed: bool
    destroyed: int = 0  # resources in the state before the destroy
    workspace_deleted: bool = False
    warnings: tuple[str, ...] = ()  # what went wrong without stopping the destroy (a pre_destroy hook)
