"""The adapter: base URL and token, retries with patched time, permission errors, one host only."""

from __future__ import annotations

import pytest
import responses

from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.errors import FailureReason
from prenv.github.client import ACTIONS_BOT, DEFAULT_API_URL, GitHub, GitHubError
from prenv.github.policy import RetryPolicy, retry_delay
from tests.github.conftest import TOKEN, Clock, make_config
from tests.github.fake import GRAPHQL, FakeGitHub, fake_github


def from_env(env: dict[str, str], repository: str) -> GitHub | None:
    """The adapter a command run builds from its environment (`prenv.commands.wiring`)."""
    services = Services(env={**env, "GITHUB_REPOSITORY": repository})
    return wiring.build_ports(services, make_config()).github()


def test_base_url_and_token_come_from_the_environment() -> None:
    assert from_env({}, "o/r") is None
    default = from_env({"GITHUB_TOKEN": "ghp_abc"}, "o/r")
    assert default is not None
    assert default.api_url == DEFAULT_API_URL == "https://api.github.com"
    enterprise = from_env({"GITHUB_TOKEN": "ghp_abc", "GITHUB_API_URL": "https://ghe.example/api/v3/"}, "o/r")
    assert enterprise is not None
    assert enterprise.api_url == "https://ghe.example/api/v3"
    assert "ghp_abc" not in repr(enterprise)


def test_requests_go_to_the_configured_host_with_the_token(fake: FakeGitHub, gh: GitHub) -> None:
    fake.add_pull(7)
    assert gh.pull_request(7).head_sha == "a" * 40
    (request,) = fake.requests
    assert request.path == "/repos/octo-org/app/pulls/7"
    assert request.headers["authorization"] == f"token {TOKEN}"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"].startswith("prenv/")


def test_502_then_200_succeeds(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.add_pull(7)
    fake.fail("pulls/get", 502)
    assert gh.pull_request(7).number == 7
    assert [r.status for r in fake.requests] == [502, 200]
    assert clock.sleeps == [2.0]


def test_secondary_rate_limit_waits_for_retry_after(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.fail(
        "issues/create-comment",
        403,
        headers={"Retry-After": "37"},
        body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
    )
    comment = gh.create_comment(7, "hello")
    assert comment.body == "hello"
    assert clock.sleeps == [37.0]
    assert [r.status for r in fake.requests] == [403, 201]
    assert fake.comment_bodies(7) == ["hello"]


def test_429_waits_until_the_rate_limit_resets(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.add_pull(7)
    reset = int(clock.now) + 20
    fake.fail(
        "pulls/get",
        429,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        body={"message": "API rate limit exceeded"},
    )
    gh.pull_request(7)
    assert clock.sleeps == [21.0]  # until the reset, plus a second


def test_secondary_rate_limit_without_headers_waits_a_minute(
    fake: FakeGitHub, gh: GitHub, clock: Clock
) -> None:
    fake.add_pull(7)
    fake.fail("pulls/get", 403, body={"message": "You have exceeded a secondary rate limit."})
    gh.pull_request(7)
    assert clock.sleeps == [60.0]


def test_persistent_5xx_ends_in_a_clear_error(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.add_pull(7)
    fake.fail("pulls/get", 503, times=10)
    with pytest.raises(GitHubError) as caught:
        gh.pull_request(7)
    error = caught.value
    assert error.reason == FailureReason.GITHUB_UNAVAILABLE
    assert error.one_line() == (
        "GitHub did not read pull request #7 after 4 attempts (last: HTTP 503, error); "
        "GitHub may be having trouble (https://www.githubstatus.com); re-run the job"
    )
    assert len(fake.requests) == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]  # bounded, growing


def test_a_rate_limit_longer_than_the_cap_fails_at_once(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.add_pull(7)
    fake.fail("pulls/get", 403, headers={"Retry-After": "3600"}, body={"message": "secondary rate limit"})
    with pytest.raises(GitHubError) as caught:
        gh.pull_request(7)
    assert caught.value.reason == FailureReason.GITHUB_UNAVAILABLE
    assert "rate limit blocks read pull request #7 for 3600s" in caught.value.message
    assert clock.sleeps == []
    assert len(fake.requests) == 1


def test_a_permission_403_fails_at_once_naming_the_permission(
    fake: FakeGitHub, gh: GitHub, clock: Clock
) -> None:
    fake.fail("repos/create-deployment", 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubError) as caught:
        gh.create_deployment("a" * 40, "pr-7", "preview")
    error = caught.value
    assert error.reason == FailureReason.GITHUB_PERMISSION_DENIED
    assert error.one_line() == (
        "GitHub refused to create a deployment of pr-7 (HTTP 403: Resource not accessible by integration): "
        "the token lacks the `deployments: write` permission; "
        "grant it in the workflow job: `permissions: {deployments: write}`"
    )
    assert len(fake.requests) == 1
    assert clock.sleeps == []


def test_bad_credentials(fake: FakeGitHub, gh: GitHub) -> None:
    fake.fail("issues/list-comments", 401, body={"message": "Bad credentials"})
    with pytest.raises(GitHubError) as caught:
        list(gh.comments(7))
    assert caught.value.reason == FailureReason.GITHUB_PERMISSION_DENIED
    assert "GitHub rejected the token (HTTP 401: Bad credentials)" in caught.value.message
    assert TOKEN not in caught.value.one_line()


def test_other_4xx_is_not_retried(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.fail("issues/update-comment", 422, body={"message": "Validation Failed"})
    with pytest.raises(GitHubError) as caught:
        gh.update_comment(5, "x")
    assert caught.value.reason == FailureReason.GITHUB_REQUEST_FAILED
    assert caught.value.message == "GitHub could not edit comment 5 (HTTP 422: Validation Failed)"
    assert clock.sleeps == []


def test_missing_pull_request_is_pr_not_found(fake: FakeGitHub, gh: GitHub) -> None:
    with pytest.raises(GitHubError) as caught:
        gh.pull_request(404)
    assert caught.value.reason == FailureReason.PR_NOT_FOUND
    assert caught.value.one_line() == (
        "pull request #404 does not exist in octo-org/app; check the PR number (--pr) and GITHUB_REPOSITORY"
    )


def test_fork_detection(fake: FakeGitHub, gh: GitHub) -> None:
    fake.add_pull(7)
    fake.add_pull(8, fork=True)
    assert gh.pull_request(7).is_fork is False
    assert gh.pull_request(8).is_fork is True


def test_comments_are_read_across_pages(fake: FakeGitHub, gh: GitHub) -> None:
    for index in range(250):
        fake.add_comment(7, f"comment {index}")
    bodies = [c.body for c in gh.comments(7)]
    assert bodies == [f"comment {index}" for index in range(250)]
    assert [r.query for r in fake.requests] == [
        {"per_page": "100"},
        {"per_page": "100", "page": "2"},
        {"per_page": "100", "page": "3"},
    ]


def test_a_link_to_another_host_is_not_followed(clock: Clock) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(mock)
        fake.add_comment(7, "one")
        mock.replace(
            responses.GET,
            mock.registered()[0].url,
            json=[],
            headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'},
        )
        gh = GitHub(TOKEN, fake.repository, api_url=fake.api_url, sleep=clock.sleep, clock=clock.time)
        with pytest.raises(GitHubError) as caught:
            list(gh.comments(7))
        assert caught.value.message.startswith("refusing to send a GitHub request to evil.example")
        api = fake.api_url.replace(".test/", ".test:443/")
        assert [call.request.url for call in mock.calls] == [
            f"{api}/repos/octo-org/app/issues/7/comments?per_page=100"
        ]


def test_a_given_login_is_never_asked(gh: GitHub, fake: FakeGitHub) -> None:
    assert gh.login() == ACTIONS_BOT
    assert fake.requests == []


def test_an_app_installation_token_asks_graphql_viewer_once(clock: Clock) -> None:
    with fake_github(login="prenv-previews[bot]") as fake:
        gh = GitHub(TOKEN, fake.repository, api_url=fake.api_url, sleep=clock.sleep)
        assert gh.login() == "prenv-previews[bot]"
        assert gh.login() == "prenv-previews[bot]"  # asked once
        assert fake.sequence() == [f"POST {GRAPHQL}"]
        assert fake.requests[0].body == {"query": "query { viewer { login } }", "variables": {}}


def test_login_is_the_actions_bot_when_viewer_is_refused(clock: Clock) -> None:
    forbidden = {"errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]}
    with fake_github() as fake:
        fake.fail(GRAPHQL, 200, body=forbidden)
        gh = GitHub(TOKEN, fake.repository, api_url=fake.api_url, sleep=clock.sleep)
        assert gh.login() == ACTIONS_BOT
        assert gh.login() == ACTIONS_BOT
        assert fake.sequence() == [f"POST {GRAPHQL}"]


def test_login_failure_other_than_a_refusal_is_raised(clock: Clock) -> None:
    with fake_github() as fake:
        fake.fail(GRAPHQL, 502, times=10)
        gh = GitHub(TOKEN, fake.repository, api_url=fake.api_url, sleep=clock.sleep, clock=clock.time)
        with pytest.raises(GitHubError) as caught:
            gh.login()
        assert caught.value.status == 502


def test_from_env_takes_the_login_the_action_gives(fake: FakeGitHub) -> None:
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.api_url, "PRENV_GITHUB_LOGIN": " app[bot] "}
    gh = from_env(env, fake.repository)
    assert gh is not None
    assert gh.login() == "app[bot]"
    assert fake.requests == []


def test_login_falls_back_when_get_user_is_refused(clock: Clock) -> None:
    with fake_github() as fake:
        gh = GitHub("ghp_personal", fake.repository, api_url=fake.api_url, sleep=clock.sleep)
        assert gh.login() == ACTIONS_BOT
        assert gh.login() == ACTIONS_BOT  # asked once
        assert fake.sequence() == ["GET users/get-authenticated"]
        assert fake.requests[0].status == 403


def test_login_of_a_personal_token(clock: Clock) -> None:
    with fake_github(login="octocat", user_endpoint=True) as fake:
        gh = GitHub("ghp_personal", fake.repository, api_url=fake.api_url, sleep=clock.sleep)
        assert gh.login() == "octocat"


def test_retry_delay_is_pure() -> None:
    policy = RetryPolicy()
    assert retry_delay(500, {}, "", attempt=2, now=0, policy=policy) == 4.0
    assert retry_delay(0, None, "ConnectionError", attempt=1, now=0, policy=policy) == 2.0
    assert retry_delay(404, {}, "Not Found", attempt=1, now=0, policy=policy) is None
    assert (
        retry_delay(403, {}, "Resource not accessible by integration", attempt=1, now=0, policy=policy)
        is None
    )
    assert retry_delay(403, {"Retry-After": "5"}, "", attempt=1, now=0, policy=policy) == 5.0
    assert retry_delay(429, {}, "", attempt=2, now=0, policy=policy) == 120.0
