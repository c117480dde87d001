"""What prenv reads from GitHub's REST answers, as plain frozen values, and the pure functions that read
them (field names as in GitHub's REST API; a missing or null field reads as empty)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str
    issue_url: str = ""  # the API URL of the issue or PR the comment is on

    @property
    def issue_number(self) -> int:
        """The number of the issue or PR the comment is on (0 when GitHub did not say)."""
        tail = self.issue_url.rstrip("/").rpartition("/")[2]
        return int(tail) if tail.isdigit() else 0


@dataclass(frozen=True)
class PullDetail:
    """A PR as GET /repos/{owner}/{repo}/pulls/{number} shows it."""

    number: int
    head_sha: str
    head_ref: str
    title: str
    state: str
    is_fork: bool


@dataclass(frozen=True)
class PullSummary:
    """A PR as the list endpoint shows it: enough for cleanup's decisions."""

    number: int
    state: str  # open, closed
    merged: bool
    labels: tuple[str, ...]
    updated_at: str


@dataclass(frozen=True)
class Deployment:
    id: int
    environment: str
    sha: str
    creator: str


def comment_from(data: Any) -> Comment:
    user = data.get("user") or {}
    return Comment(
        id=int(data["id"]),
        body=str(data.get("body") or ""),
        author=str(user.get("login") or ""),
        issue_url=str(data.get("issue_url") or ""),
    )


def deployment_from(data: Any) -> Deployment:
    creator = data.get("creator") or {}
    return Deployment(
        id=int(data["id"]),
        environment=str(data.get("environment") or ""),
        sha=str(data.get("sha") or ""),
        creator=str(creator.get("login") or ""),
    )


def pull_detail_from(data: Any, number: int) -> PullDetail:
    """A PR from GET /repos/{owner}/{repo}/pulls/{number}."""
    head, base = data.get("head") or {}, data.get("base") or {}
    head_repo, base_repo = head.get("repo") or {}, base.get("repo") or {}
    return PullDetail(
        number=int(data.get("number") or number),
        head_sha=str(head.get("sha") or ""),
        head_ref=str(head.get("ref") or ""),
        title=str(data.get("title") or ""),
        state=str(data.get("state") or ""),
        # A deleted fork leaves head.repo null: that is a fork too.
        is_fork=str(head_repo.get("full_name") or "").lower() != str(base_repo.get("full_name")).lower(),
    )


def pull_summary_from(item: Any) -> PullSummary:
    """A PR from the list endpoint (GET /repos/{owner}/{repo}/pulls)."""
    return PullSummary(
        number=int(item["number"]),
        state=str(item.get("state") or ""),
        merged=bool(item.get("merged_at")),
        labels=tuple(str(label.get("name") or "") for label in item.get("labels") or []),
        updated_at=str(item.get("updated_at") or ""),
    )
