"""prenv's sticky comment on a PR: found, edited in place, and remembered between runs.

Without a hint the comment is searched for: the first comment carrying prenv's marker for this
environment among the comments the token's own identity wrote, every page. Each `prenv deploy`
remembers the comment in its deploy marker beside the workspace's state (`record()`: id, author,
sha256 of the body prenv last wrote there); the next deploy or destroy reads it back into the
`Context` (`hint_from_record()`) and edits that comment directly, without listing the PR's comments.

The hint is used only when it cannot point at someone else's comment:

- it comes from the state bucket, which only prenv (and whoever already controls the previews'
  Terraform state) writes, and is bound to the repository, the PR and `comment.environment`;
- before writing, its author must be the token's own identity (known without a request for the
  Actions token, and learnt from the deployment created first in a deploy);
- after writing, GitHub's answer must show a comment of that identity, on this PR, with prenv's marker.
  If it does not (which needs a tampered bucket), prenv says so and searches as without a hint.

A hinted comment that was deleted (404) is searched for, and posted again if needed. The remembered hash
skips the first write of a run when the body is the one prenv last wrote (after that, what this run
wrote is compared); a comment edited by hand since is then not corrected until its next state.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prenv.marker import parse_marker
from prenv.report import Context

if TYPE_CHECKING:
    from prenv.github import Comment, GitHub

Warn = Callable[[str], None]
_SHA256 = re.compile(r"[0-9a-f]{64}")


def body_sha(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def hint_from_record(record: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """The `Context` fields (comment_id, comment_sha, comment_author) a deploy marker gives, or {}
    when it has no comment for this repository, PR and comment environment (pure)."""
    comment = record.get("comment")
    if (
        not isinstance(comment, Mapping)
        or record.get("pr") != ctx.pr_number
        or str(record.get("repository", "")).lower() != ctx.repository.lower()
        or comment.get("environment") != ctx.comment_environment
    ):
        return {}
    number, sha, author = comment.get("id"), comment.get("sha256"), comment.get("author")
    if not (isinstance(number, int) and not isinstance(number, bool) and number > 0):
        return {}
    if not (isinstance(author, str) and author) or not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        return {}
    return {"comment_id": number, "comment_sha": sha, "comment_author": author}


def hint_of(ctx: Context) -> dict[str, Any] | None:
    """The record a run that did not touch the comment passes on: the hint it was given (pure)."""
    if not ctx.comment_id:
        return None
    return {
        "id": ctx.comment_id,
        "sha256": ctx.comment_sha,
        "author": ctx.comment_author,
        "environment": ctx.comment_environment,
    }


@dataclass
class StickyComment:
    """The comment of one PR and comment environment, for one command run."""

    github: GitHub
    warn: Warn = field(default=lambda message: None)
    id: int = 0  # 0: there is none (yet)
    sha: str = ""  # of the body the comment has, as far as this run knows
    author: str = ""
    environment: str = ""
    resolved: bool = False  # known (from the hint or a search): no more looking for it

    def publish(self, ctx: Context, body: str, *, create: bool) -> None:
        """Make the comment's body `body`: edit it, post it (if `create`, or it was deleted), or nothing."""
        from prenv.github import GitHubError

        sha = body_sha(body)
        if not self.resolved and ctx.comment_id and self._by_hint(ctx, body, sha):
            return
        if not self.resolved:
            self._search(ctx)
        if self.id and self.sha == sha:
            return
        existed = bool(self.id)
        if self.id:
            try:
                self._keep(self.github.update_comment(self.id, body), sha, ctx)
            except GitHubError as exc:
                if exc.status != 404:
                    raise
                self.id = 0  # deleted since it was found (by a person, or another run): post a new one
            else:
                return
        if existed or create:
            self._keep(self.github.create_comment(ctx.pr_number, body), sha, ctx)

    def record(self) -> dict[str, Any] | None:
        """What the deploy marker keeps of the comment (None when there is none)."""
        if not self.id:
            return None
        return {"id": self.id, "sha256": self.sha, "author": self.author, "environment": self.environment}

    # -- internals --------------------------------------------------------------------------------------

    def _keep(self, comment: Comment, sha: str, ctx: Context) -> None:
        self.id, self.sha, self.author = comment.id, sha, comment.author
        self.environment, self.resolved = ctx.comment_environment, True

    def _search(self, ctx: Context) -> None:
        self.resolved, self.environment = True, ctx.comment_environment
        for comment in self.github.comments(ctx.pr_number):
            marker = parse_marker(comment.body)
            if marker is None or marker.env != ctx.comment_environment:
                continue
            if comment.author.lower() == self.github.login().lower():
                self._keep(comment, body_sha(comment.body), ctx)
                return

    def _by_hint(self, ctx: Context, body: str, sha: str) -> bool:
        """Edit the hinted comment; False when the hint does not hold (then the comment is searched for)."""
        from prenv.github import GitHubError

        login = self.github.login()
        if ctx.comment_author.lower() != login.lower():
            return False  # written by another identity (the workflow's token changed): not ours now
        if sha == ctx.comment_sha:
            self.id, self.sha, self.author = ctx.comment_id, sha, ctx.comment_author
            self.environment, self.resolved = ctx.comment_environment, True
            return True
        try:
            updated = self.github.update_comment(ctx.comment_id, body)
        except GitHubError as exc:
            if exc.status != 404:
                raise
            return False  # deleted: search, and post it again
        wrong = _not_ours(updated, ctx, login)
        if wrong:
            self.warn(
                f"comment {ctx.comment_id}, remembered in prenv's deploy marker as PR #{ctx.pr_number}'s "
                f"comment, was edited but is not prenv's ({wrong}); check the state bucket's contents: "
                "prenv now looks for its own comment instead"
            )
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
