"""How prenv talks HTTP to GitHub, on PyGithub's requester: bounded retries, one host.

The REST operations of `prenv.github.client` go through PyGithub's `Requester` (authentication, base URL,
JSON, exception types) with PyGithub's own retries and pacing turned off, because this module does
both itself, testably:

- 5xx answers and connection errors are retried with exponential backoff;
- secondary rate limits (403 or 429 with `retry-after`, `x-ratelimit-remaining: 0` / `x-ratelimit-reset`,
  or GitHub's rate-limit message) wait as GitHub asks, then retry;
- any other 403 fails at once, saying which permission the token lacks;
- waits go through an injectable `sleep` and `clock`, so tests patch time instead of waiting;
- every URL, including pagination links sent by the server, must be on the configured API host;
- GraphQL goes to the endpoint PyGithub derives from the API base URL (same host), with the same
  retries; its errors (HTTP 200 with an `errors` list) are mapped to the status a REST request would get.

The token is never logged, printed or put in an error message.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prenv import __version__
from prenv.core.errors import FailureReason, PrenvError
from prenv.github.policy import RetryPolicy, graphql_status, next_link, retry_delay, same_host, same_origin

if TYPE_CHECKING:
    from github.Requester import Requester

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100


def _default_sleep(seconds: float) -> None:
    time.sleep(seconds)


def _default_clock() -> float:
    return time.time()


class GitHubError(PrenvError):
    """A GitHub request that failed for good; `status` is the HTTP status (0: no answer), `headers` the
    answer's headers (lower-case names), such as the permissions GitHub accepted for it."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: FailureReason,
        hint: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, hint=hint)
        self.status = status
        self.headers = {str(key).lower(): str(value) for key, value in (headers or {}).items()}


class Transport:
    """Sends requests to one GitHub API base URL with one token, retrying what is worth retrying."""

    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        policy: RetryPolicy | None = None,
        timeout: int = 30,
    ) -> None:
        if not token:
            raise ValueError("a GitHub token is required")
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.policy = policy or RetryPolicy()
        self.sleep = sleep or _default_sleep
        self.clock = clock or _default_clock
        self._calls = 0  # requests sent, retries included
        self._counting = threading.Lock()  # cleanup's destroys share one adapter across threads
        self._requester = self._make_requester(token, timeout)

    def _make_requester(self, token: str, timeout: int) -> Requester:
        from github import Auth, Github

        client = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=timeout,
            user_agent=f"prenv/{__version__}",
            per_page=PER_PAGE,
            retry=None,  # retries are done below, with waits that tests can patch
            seconds_between_requests=None,
            seconds_between_writes=None,
            api_version=API_VERSION,
        )
        return client.requester

    def __repr__(self) -> str:  # never shows the token
        return f"Transport(api_url={self.api_url!r})"

    @property
    def calls(self) -> int:
        """Requests sent so far, retries included."""
        return self._calls

    def _url(self, path: str) -> str:
        return path if "://" in path else f"{self.api_url}{path}"

    def request(
        self,
        verb: str,
        path: str,
        *,
        what: str,
        permission: str,
        parameters: dict[str, Any] | None = None,
        body: Any = None,
    ) -> tuple[dict[str, Any], Any]:
        """Send one request (with retries); `what` and `permission` word the error when it fails."""
        url = self._url(path)
        if not same_origin(url, self.api_url):
            raise self._elsewhere(url, what)
        return self._send(
            lambda: self._requester.requestJsonAndCheck(verb, path, parameters=parameters, input=body),
            what=what,
            permission=permission,
        )

    @property
    def graphql_url(self) -> str:
        """GitHub's GraphQL endpoint, as PyGithub derives it from the REST base URL (api.github.com:
        `/graphql`; GitHub Enterprise `https://HOST/api/v3`: `/api/graphql`)."""
        return str(self._requester.graphql_url)

    def graphql(self, query: str, variables: dict[str, Any], *, what: str, permission: str) -> dict[str, Any]:
        """The `data` of one GraphQL query (with the same retries as REST requests).

        GitHub answers GraphQL failures with HTTP 200 and an `errors` list (PyGithub raises them as a
        400, or a 404 for NOT_FOUND): a RATE_LIMITED error waits like a REST rate limit, FORBIDDEN is a
        permission refusal, anything else fails at once.
        """
        url = self.graphql_url
        if not same_host(url, self.api_url):
            raise self._elsewhere(url, what)
        _, data = self._send(
            lambda: self._requester.graphql_query(query, variables), what=what, permission=permission
        )
        found = data.get("data") if isinstance(data, dict) else None
        if not isinstance(found, dict):
            raise GitHubError(
                f"GitHub's GraphQL API gave no data when asked to {what}",
                status=200,
                reason=FailureReason.GITHUB_REQUEST_FAILED,
                hint="re-run the job; if it persists, check GITHUB_API_URL",
            )
        return found

    def _elsewhere(self, url: str, what: str) -> GitHubError:
        host = urllib.parse.urlsplit(url).netloc
        return GitHubError(
            f"refusing to send a GitHub request to {host}: only {self.api_url} is allowed ({what})",
            status=0,
            reason=FailureReason.GITHUB_UNAVAILABLE,
            hint="check GITHUB_API_URL; the API answered with a link to another host",
        )

    def _send(
        self, call: Callable[[], tuple[dict[str, Any], Any]], *, what: str, permission: str
    ) -> tuple[dict[str, Any], Any]:
        from github.GithubException import GithubException
        from requests import RequestException

        status, message = 0, ""
        for attempt in range(1, self.policy.attempts + 1):
            with self._counting:
                self._calls += 1
            headers: Mapping[str, Any] | None = None
            try:
                return call()
            except GithubException as exc:
                status, message = graphql_status(exc.status, exc.data)
                headers, message = exc.headers, message or str(exc.message or "")
            except RequestException as exc:
                status, message = 0, type(exc).__name__
            delay = retry_delay(
                status, headers, message, attempt=attempt, now=self.clock(), policy=self.policy
            )
            if delay is None:
                raise self._failure(status, message, what, permission, headers)
            if delay > self.policy.max_wait:
                raise GitHubError(
                    f"GitHub's rate limit blocks {what} for {delay:.0f}s, longer than prenv waits "
                    f"({self.policy.max_wait:.0f}s)",
                    status=status,
                    reason=FailureReason.GITHUB_UNAVAILABLE,
                    hint="re-run the job later; other workflows may be using the same token's quota",
                )
            if attempt < self.policy.attempts:
                self.sleep(delay)
        answer = f"HTTP {status}" if status else "no answer"
        raise GitHubError(
            f"GitHub did not {what} after {self.policy.attempts} attempts (last: {answer}"
            + (f", {message}" if message else "")
            + ")",
            status=status,
            reason=FailureReason.GITHUB_UNAVAILABLE,
            hint="GitHub may be having trouble (https://www.githubstatus.com); re-run the job",
        )

    def _failure(
        self, status: int, message: str, what: str, permission: str, headers: Mapping[str, Any] | None
    ) -> GitHubError:
        said = f"HTTP {status}" + (f": {message}" if message else "")
        if status == 401:
            return GitHubError(
                f"GitHub rejected the token ({said}) when trying to {what}",
                status=status,
                reason=FailureReason.GITHUB_PERMISSION_DENIED,
                hint="check GITHUB_TOKEN (the action's github-token input): it is invalid or expired",
                headers=headers,
            )
        if status == 403:
            return GitHubError(
                f"GitHub refused to {what} ({said}): the token lacks the `{permission}` permission",
                status=status,
                reason=FailureReason.GITHUB_PERMISSION_DENIED,
                hint=f"grant it in the workflow job: `permissions: {{{permission}}}`",
                headers=headers,
            )
        return GitHubError(
            f"GitHub could not {what} ({said})",
            status=status,
            reason=FailureReason.GITHUB_REQUEST_FAILED,
            hint="check the repository name (GITHUB_REPOSITORY) and that the token can access it",
            headers=headers,
        )

    def pages(self, path: str, *, what: str, permission: str, parameters: dict[str, Any]) -> Iterator[Any]:
        """Every item of a paginated list, page after page, following the server's `Link` headers."""
        url: str = path
        params: dict[str, Any] | None = {"per_page": PER_PAGE, **parameters}
        while url:
            headers, data = self.request("GET", url, what=what, permission=permission, parameters=params)
            yield from data if isinstance(data, list) else []
            url, params = next_link(headers), None
