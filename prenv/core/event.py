"""The pull request a GitHub event is about, read from its webhook payload (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prenv.core.errors import UsageError


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


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _malformed(where, "an object", value)
    return value


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _malformed(where, "a string", value)
    return value


def _labels(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _malformed(where, "a list", value)
    return tuple(_text(_object(label, f"{where}[]").get("name"), f"{where}[].name") for label in value)


def _malformed(where: str, expected: str, value: Any) -> UsageError:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else type(value).__name__
    )
    return UsageError(
        f"the event payload is malformed: {where} is {kind}, not {expected}",
        hint="GITHUB_EVENT_PATH must be the webhook payload GitHub gives the workflow run",
    )


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pull_request_event(event: Mapping[str, Any] | None) -> PullRequestEvent | None:
    """The pull request an event is about: `pull_request.*` events and comments on a PR. A field of the
    wrong type is `bad-usage` (UsageError), never a crash."""
    if not event:
        return None
    pr = event.get("pull_request")
    if isinstance(pr, dict) and _number(pr.get("number")) is not None:
        head = _object(pr.get("head"), "pull_request.head")
        head_repo = _object(head.get("repo"), "pull_request.head.repo")
        base_repo = _object(
            _object(pr.get("base"), "pull_request.base").get("repo"), "pull_request.base.repo"
        )
        head_name = _text(head_repo.get("full_name"), "pull_request.head.repo.full_name")
        return PullRequestEvent(
            number=pr["number"],
            head_sha=_text(head.get("sha"), "pull_request.head.sha"),
            head_ref=_text(head.get("ref"), "pull_request.head.ref"),
            title=_text(pr.get("title"), "pull_request.title"),
            action=_text(event.get("action"), "action"),
            # From another repository (or one since deleted). `head.repo.fork` alone would also flag every
            # PR of a repository that is itself a fork.
            is_fork=not head_name
            or head_name != _text(base_repo.get("full_name"), "pull_request.base.repo.full_name"),
            merged=bool(pr.get("merged")),
            labels=_labels(pr.get("labels"), "pull_request.labels"),
        )
    issue = event.get("issue")
    if isinstance(issue, dict) and issue.get("pull_request") and _number(issue.get("number")) is not None:
        comment = _object(event.get("comment"), "comment")
        return PullRequestEvent(
            number=issue["number"],
            title=_text(issue.get("title"), "issue.title"),
            action=_text(event.get("action"), "action"),
            labels=_labels(issue.get("labels"), "issue.labels"),
            comment_body=_text(comment.get("body"), "comment.body"),
            author_association=_text(comment.get("author_association"), "comment.author_association"),
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
