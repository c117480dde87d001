"""prenv's sticky comment on a PR: found, edited in place, and remembered between runs.

Without a hint the comment is searched for: the first comment carrying prenv's marker for this
environment among the comments the token's own identity wrote, every page. The comment is remembered
through a `CommentMemory` (the deploy record beside the workspace's state, written by each
`prenv deploy`: id, author, sha256 of the body prenv last wrote there); the next deploy or destroy
recalls it (`hint_from_record()`) and edits that comment directly, without listing the PR's comments.

The hint is trusted only as far as it must be:

- it comes from the state bucket, which only prenv writes (anyone else who can write there controls
  the previews' Terraform state, far worse), and is bound to the repository, the PR and
  `comment.environment`;
- before writing, its author must be the token's own identity (known without a request for the
  Actions token, learnt from the deployment a deploy creates first, else asked once with GET /user,
  as a search would);
- after writing, GitHub's answer must show a comment of that identity, on this PR, with prenv's marker.
  If it does not (only a tampered marker can cause that; the comment has then been overwritten, as
  reading it first would cost a request on every run), prenv warns and searches as without a hint.

Until an edit's answer has confirmed it, every edit of the remembered comment is checked that way. A
remembered comment that was deleted (404) is searched for, and posted again if needed. The remembered
hash skips a write when the body is the one prenv last wrote there (after this run's first write, what
this run wrote is compared); a comment edited by hand since is then not corrected until its next state.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from prenv.core.domain import Context
from prenv.core.marker import parse_marker
from prenv.github.client import Comment, GitHub
from prenv.github.http import GitHubError

Warn = Callable[[str], None]
_SHA256 = re.compile(r"[0-9a-f]{64}")


def body_sha(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class CommentMemory(Protocol):
    """Where the PR's comment is remembered between runs (the deploy record in the state bucket)."""

    def recall(self) -> Mapping[str, Any] | None:
        """The record the last deploy left (None: none, or it could not be read)."""
        ...

    def remember(self, comment: Mapping[str, Any] | None) -> None:
        """What to remember of the comment after this run (None: there is none)."""
        ...


@dataclass(frozen=True)
class Hint:
    """The comment as the last deploy left it: edited directly instead of searched for."""

    id: int
    sha: str  # sha256 (hex) of the body prenv last wrote there
    author: str  # who wrote it: the token's identity then


def hint_from_record(record: Mapping[str, Any] | None, ctx: Context) -> Hint | None:
    """The hint a deploy record gives, or None when it has no comment for this repository, PR and
    comment environment (pure)."""
    comment = (record or {}).get("comment")
    if (
        record is None
        or not isinstance(comment, Mapping)
        or record.get("pr") != ctx.pr_number
        or str(record.get("repository", "")).lower() != ctx.repository.lower()
        or comment.get("environment") != ctx.comment_environment
    ):
        return None
    number, sha, author = comment.get("id"), comment.get("sha256"), comment.get("author")
    if not (isinstance(number, int) and not isinstance(number, bool) and number > 0):
        return None
    if not (isinstance(author, str) and author) or not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        return None
    return Hint(id=number, sha=sha, author=author)


def comment_record(hint: Hint, environment: str) -> dict[str, Any]:
    """What the deploy record keeps of a comment (pure)."""
    return {"id": hint.id, "sha256": hint.sha, "author": hint.author, "environment": environment}


@dataclass
class StickyComment:
    """The comment of one PR and comment environment, for one command run."""

    github: GitHub
    warn: Warn = field(default=lambda message: None)
    memory: CommentMemory | None = None
    id: int = 0  # 0: there is none (yet)
    sha: str = ""  # of the body the comment has, as far as this run knows
    author: str = ""
    environment: str = ""
    resolved: bool = False  # located (from the hint or by a search): no more looking for it
    verified: bool = False  # known to be prenv's (found, posted, or confirmed by an edit's answer)

    def publish(self, ctx: Context, body: str, *, create: bool) -> None:
        """Make the comment's body `body`: edit it, post it (if `create`, or it was deleted), or nothing;
        then remember where it is."""
        self._publish(ctx, body, create=create)
        if self.memory is not None and self.resolved:
            self.memory.remember(self.record())

    def _publish(self, ctx: Context, body: str, *, create: bool) -> None:
        sha = body_sha(body)
        if not self.resolved and not self._adopt_hint(ctx):
            self._search(ctx)
        if self.id and self.sha == sha:
            return
        if self.id:
            if self._edit(ctx, body, sha):
                return
            if not self.verified:  # the remembered comment is gone or not prenv's: look for it
                self._search(ctx)
                self._publish(ctx, body, create=create)
                return
            create = True  # deleted since it was found (by a person, or another run): post it again
        if create:
            self._keep(self.github.create_comment(ctx.pr_number, body), sha, ctx)

    def record(self) -> dict[str, Any] | None:
        """What the deploy record keeps of the comment (None when there is none)."""
        if not self.id:
            return None
        return comment_record(Hint(self.id, self.sha, self.author), self.environment)

    # -- internals --------------------------------------------------------------------------------------

    def _keep(self, comment: Comment, sha: str, ctx: Context) -> None:
        self.id, self.sha, self.author = comment.id, sha, comment.author
        self.environment, self.resolved, self.verified = ctx.comment_environment, True, True

    def _adopt_hint(self, ctx: Context) -> bool:
        """Take the remembered comment, unless another identity wrote it (the workflow's token changed)."""
        hint = hint_from_record(self.memory.recall(), ctx) if self.memory is not None else None
        if hint is None or hint.author.lower() != self.github.login().lower():
            return False
        self.id, self.sha, self.author = hint.id, hint.sha, hint.author
        self.environment, self.resolved, self.verified = ctx.comment_environment, True, False
        return True

    def _search(self, ctx: Context) -> None:
        self.id, self.sha, self.author = 0, "", ""
        self.environment, self.resolved, self.verified = ctx.comment_environment, True, True
        for comment in self.github.comments(ctx.pr_number):
            marker = parse_marker(comment.body)
            if marker is None or marker.env != ctx.comment_environment:
                continue
            if comment.author.lower() == self.github.login().lower():
                self._keep(comment, body_sha(comment.body), ctx)
                return

    def _edit(self, ctx: Context, body: str, sha: str) -> bool:
        """Edit the comment; False when it is gone (404) or, not verified yet, proves not to be prenv's."""
        try:
            updated = self.github.update_comment(self.id, body)
        except GitHubError as exc:
            if exc.status != 404:
                raise
            self.id = 0
            return False
        wrong = "" if self.verified else _not_ours(updated, ctx, self.github.login())
        if wrong:
            self.warn(
                f"comment {self.id}, remembered in prenv's deploy record as PR #{ctx.pr_number}'s "
                f"comment, was edited but is not prenv's ({wrong}); check the state bucket's contents: "
                "prenv now looks for its own comment instead"
            )
            self.id = 0
            return False
        self._keep(updated, sha, ctx)
        return True


def _not_ours(comment: Comment, ctx: Context, login: str) -> str:
    """Why `comment` is not prenv's comment of this PR and environment ('' when it is)."""
    if comment.author.lower() != login.lower():
        return f"written by {comment.author or 'nobody'}, not {login}"
    if comment.issue_number and comment.issue_number != ctx.pr_number:
        return f"it is on #{comment.issue_number}"
    marker = parse_marker(comment.body)
    if marker is None or marker.env != ctx.comment_environment:
        return "it lacks prenv's marker for this environment"
    return ""
