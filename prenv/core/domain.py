"""The values a command works with and reports: which preview (`Context`) and what happened to it
(the plan, the deploy, the destroy), as plain frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prenv.core.plan import PlanSummary


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
