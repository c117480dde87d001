"""The pull request a GitHub event is about, read from its webhook payload (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PullRequestEvent:
    """What prenv needs from a `pull_request` or `issue_comment` payload."""

    number: int
    head_sha: str = ""
    head_ref: str = ""
    title: str = ""
    action: str = ""
    is_fork: bool = False
    merged: bool = False
    labels: tuple[str, ...] = ()
    comment_body: str = ""
    author_association: str = ""


def pull_request_event(event: Mapping[str, Any] | None) -> PullRequestEvent | None:
    """The pull request an event is about: `pull_request.*` events and comments on a PR."""
    if not event:
        return None
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        head = pr.get("head") or {}
        head_repo = head.get("repo") or {}
        base_repo = (pr.get("base") or {}).get("repo") or {}
        return PullRequestEvent(
            number=pr["number"],
            head_sha=str(head.get("sha") or ""),
            head_ref=str(head.get("ref") or ""),
            title=str(pr.get("title") or ""),
            action=str(event.get("action") or ""),
            # From another repository (or one since deleted). `head.repo.fork` alone would also flag every
            # PR of a repository that is itself a fork.
            is_fork=not head_repo.get("full_name")
            or head_repo.get("full_name") != base_repo.get("full_name"),
            merged=bool(pr.get("merged")),
            labels=tuple(str(label.get("name", "")) for label in pr.get("labels") or []),
        )
    issue = event.get("issue")
    if isinstance(issue, dict) and issue.get("pull_request") and isinstance(issue.get("number"), int):
        comment = event.get("comment") or {}
        return PullRequestEvent(
            number=issue["number"],
            title=str(issue.get("title") or ""),
            action=str(event.get("action") or ""),
            labels=tuple(str(label.get("name", "")) for label in issue.get("labels") or []),
            comment_body=str(comment.get("body") or ""),
            author_association=str(comment.get("author_association") or ""),
        )
    return None


# Who may give prenv commands in a PR comment (the workflow's `if:` lets only these run; checked again here).
TRUSTED_ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR")


def comment_options(event: PullRequestEvent | None, command: str) -> tuple[str, ...]:
    """The options after `/prenv <command>` on the first line of a trusted commenter's comment
    (`/prenv deploy --reseed` -> ("--reseed",)); () for anything else."""
    if event is None or not event.comment_body or event.author_association not in TRUSTED_ASSOCIATIONS:
        return ()
    lines = event.comment_body.strip().splitlines()
    words = lines[0].split() if lines else []
    if words[:2] != ["/prenv", command]:
        return ()
    return tuple(word for word in words[2:] if word.startswith("--"))
