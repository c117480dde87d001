"""The GitHub operations prenv needs (REST, and one GraphQL query; PyGithub underneath), as plain values.

Requests go through `prenv.github.http.Transport` (its rules: `prenv.github.policy`): bounded retries
with patchable waits, secondary rate limits honoured, a permission 403 reported at once with the
permission to grant, and no request to any host but the configured API. The values it returns are
those of `prenv.github.types`. The token is never logged, printed or put in an error message.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from prenv.core.errors import FailureReason
from prenv.github.http import DEFAULT_API_URL, GitHubError, Transport
from prenv.github.policy import RetryPolicy
from prenv.github.types import (
    Comment,
    Deployment,
    PullDetail,
    PullSummary,
    comment_from,
    deployment_from,
    pull_detail_from,
    pull_summary_from,
)

__all__ = [
    "DEFAULT_API_URL",
    "Comment",
    "Deployment",
    "GitHub",
    "GitHubError",
    "PullDetail",
    "PullSummary",
    "RetryPolicy",
]

# The login of the token Actions gives every workflow run (GET /user is refused for it).
ACTIONS_BOT = "github-actions[bot]"
# Installation tokens (the Actions token and GitHub App tokens) start with this; GitHub refuses GET /user
# for all of them, but GraphQL's `viewer` answers with the app's bot login (`<app-slug>[bot]`).
INSTALLATION_TOKEN_PREFIX = "ghs_"  # noqa: S105 - a token prefix, not a password
VIEWER = "query { viewer { login } }"


# Every deployment of one environment with the state of its newest status, newest first (GitHub's
# GraphQL schema: Repository.deployments, Deployment.databaseId = the REST id, DeploymentStatusState).
DEPLOYMENT_STATES = """
query($owner: String!, $name: String!, $environment: String!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    deployments(environments: [$environment], first: 100, after: $cursor,
                orderBy: {field: CREATED_AT, direction: DESC}) {
      nodes { databaseId state latestStatus { state } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
""".strip()


class GitHub:
    """The REST operations prenv needs, for one repository."""

    def __init__(
        self,
        token: str,
        repository: str,
        *,
        api_url: str = DEFAULT_API_URL,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        policy: RetryPolicy | None = None,
        timeout: int = 30,
        login: str = "",
    ) -> None:
        self.http = Transport(
            token, api_url=api_url, sleep=sleep, clock=clock, policy=policy, timeout=timeout
        )
        self.repository = repository.strip().strip("/")
        self._owner, _, self._name = self.repository.partition("/")
        self._installation_token = token.startswith(INSTALLATION_TOKEN_PREFIX)
        self._login = login.strip()

    @property
    def api_url(self) -> str:
        return self.http.api_url

    @property
    def calls(self) -> int:
        """Requests sent so far, retries included."""
        return self.http.calls

    def __repr__(self) -> str:  # never shows the token
        return f"GitHub({self.repository!r}, api_url={self.api_url!r})"

    # -- identity ----------------------------------------------------------------------------------------

    def learn_login(self, login: str) -> None:
        if login and not self._login:
            self._login = login

    def login(self) -> str:
        """Who the token acts as, asked at most once: the login given (`PRENV_GITHUB_LOGIN`; the action
        gives `github-actions[bot]` for the workflow's own token), else the creator of something it
        created in this run (a deployment, a status, a comment), else GraphQL's `viewer` for an
        installation token (GET /user is refused for those; a GitHub App's answer is `<slug>[bot]`),
        else GET /user. When GitHub refuses to say, the Actions bot is assumed."""
        if self._login:
            return self._login
        try:
            if self._installation_token:
                data = self.http.graphql(VIEWER, {}, what="read the token's login", permission="none")
                login = (data.get("viewer") or {}).get("login")
            else:
                _, user = self.http.request("GET", "/user", what="read the token's user", permission="none")
                login = (user or {}).get("login")
        except GitHubError as exc:
            if exc.status not in (401, 403):
                raise
            login = None
        self._login = str(login or ACTIONS_BOT)
        return self._login

    # -- pull requests and comments ---------------------------------------------------------------------

    def pull_request(self, number: int) -> PullDetail:
        try:
            _, data = self.http.request(
                "GET",
                f"/repos/{self.repository}/pulls/{number}",
                what=f"read pull request #{number}",
                permission="pull-requests: read",
            )
        except GitHubError as exc:
            if exc.status != 404:
                raise
            raise GitHubError(
                f"pull request #{number} does not exist in {self.repository}",
                status=404,
                reason=FailureReason.PR_NOT_FOUND,
                hint="check the PR number (--pr) and GITHUB_REPOSITORY",
            ) from None
        return pull_detail_from(data, number)

    def pulls(self, state: str, *, sort: str = "created", direction: str = "desc") -> Iterator[PullSummary]:
        """Every PR in `state` (open, closed), 100 per request, newest first by `sort`."""
        for item in self.http.pages(
            f"/repos/{self.repository}/pulls",
            what=f"list the {state} pull requests",
            permission="pull-requests: read",
            parameters={"state": state, "sort": sort, "direction": direction},
        ):
            yield pull_summary_from(item)

    def comments(self, number: int) -> Iterator[Comment]:
        for item in self.http.pages(
            f"/repos/{self.repository}/issues/{number}/comments",
            what=f"list the comments of PR #{number}",
            permission="pull-requests: read",
            parameters={},
        ):
            yield comment_from(item)

    def create_comment(self, number: int, body: str) -> Comment:
        _, data = self.http.request(
            "POST",
            f"/repos/{self.repository}/issues/{number}/comments",
            what=f"comment on PR #{number}",
            permission="pull-requests: write",
            body={"body": body},
        )
        comment = comment_from(data)
        self.learn_login(comment.author)
        return comment

    def update_comment(self, comment_id: int, body: str) -> Comment:
        _, data = self.http.request(
            "PATCH",
            f"/repos/{self.repository}/issues/comments/{comment_id}",
            what=f"edit comment {comment_id}",
            permission="pull-requests: write",
            body={"body": body},
        )
        return comment_from(data)

    # -- deployments ----------------------------------------------------------------------------------

    def create_deployment(self, ref: str, environment: str, description: str) -> Deployment:
        _, data = self.http.request(
            "POST",
            f"/repos/{self.repository}/deployments",
            what=f"create a deployment of {environment}",
            permission="deployments: write",
            body={
                "ref": ref,
                "environment": environment,
                "description": description[:140],
                "transient_environment": True,
                "production_environment": False,
                "auto_merge": False,
                "required_contexts": [],
            },
        )
        deployment = deployment_from(data)
        self.learn_login(deployment.creator)
        return deployment

    def create_deployment_status(
        self,
        deployment_id: int,
        state: str,
        *,
        description: str = "",
        log_url: str = "",
        environment_url: str = "",
    ) -> None:
        body: dict[str, Any] = {"state": state}
        if description:
            body["description"] = description[:140]
        if log_url:
            body["log_url"] = log_url
        if environment_url:
            body["environment_url"] = environment_url
        _, data = self.http.request(
            "POST",
            f"/repos/{self.repository}/deployments/{deployment_id}/statuses",
            what=f"set deployment {deployment_id} to {state}",
            permission="deployments: write",
            body=body,
        )
        # Its creator is this token: who wrote it is then known without asking GET /user.
        self.learn_login(str(((data or {}).get("creator") or {}).get("login") or ""))

    def deployment_states(self, environment: str) -> Iterator[tuple[int, str]]:
        """(id, state of its newest status, lowercase; '' when it has none) of every deployment of
        `environment`, newest first: one GraphQL request per 100 deployments."""
        cursor: str | None = None
        while True:
            data = self.http.graphql(
                DEPLOYMENT_STATES,
                {"owner": self._owner, "name": self._name, "environment": environment, "cursor": cursor},
                what=f"list the deployments of {environment}",
                permission="deployments: read",
            )
            connection = ((data.get("repository") or {}).get("deployments")) or {}
            for node in connection.get("nodes") or []:
                if isinstance(node, dict) and isinstance(node.get("databaseId"), int):
                    latest = node.get("latestStatus") or {}
                    yield node["databaseId"], str(latest.get("state") or "").lower()
            page = connection.get("pageInfo") or {}
            cursor = page.get("endCursor")
            if not page.get("hasNextPage") or not cursor:
                return

    def delete_environment(self, name: str) -> None:
        self.http.request(
            "DELETE",
            f"/repos/{self.repository}/environments/{urllib.parse.quote(name, safe='')}",
            what=f"delete the environment {name}",
            permission="administration: write",
        )
