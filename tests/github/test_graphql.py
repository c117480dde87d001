"""The one GraphQL query (deployments with their newest status): URL, pages, retries, errors, one host."""

from __future__ import annotations

import pytest

from prenv.core.errors import FailureReason
from prenv.github.client import GitHub, GitHubError
from prenv.github.policy import graphql_status
from tests.github.conftest import TOKEN, Clock
from tests.github.fake import GRAPHQL, FakeGitHub, fake_github

RATE_LIMITED = {
    "errors": [
        {"type": "RATE_LIMITED", "message": "API rate limit exceeded for installation ID 1."},
    ]
}


def test_the_graphql_url_comes_from_the_api_url(clock: Clock) -> None:
    cases = {
        "https://api.github.com": "https://api.github.com/graphql",
        "https://ghe.example.test/api/v3": "https://ghe.example.test/api/graphql",
        "https://ghe.example.test/api/v3/": "https://ghe.example.test/api/graphql",
    }
    for api_url, expected in cases.items():
        assert GitHub(TOKEN, "o/r", api_url=api_url).http.graphql_url == expected
        with fake_github(api_url=api_url.rstrip("/")) as fake:
            assert fake.graphql_url == expected
            fake.add_deployment("pr-1", states=("success",))
            gh = GitHub(TOKEN, fake.repository, api_url=api_url, sleep=clock.sleep)
            assert [state for _, state in gh.deployment_states("pr-1")] == ["success"]
            assert fake.requests[0].headers["authorization"] == f"token {TOKEN}"


def test_states_newest_first_with_no_status_as_empty(fake: FakeGitHub, gh: GitHub) -> None:
    old = fake.add_deployment("pr-7", states=("in_progress", "success", "inactive"))
    bare = fake.add_deployment("pr-7")
    failed = fake.add_deployment("pr-7", states=("in_progress", "failure"))
    fake.add_deployment("pr-70", states=("success",))
    assert list(gh.deployment_states("pr-7")) == [
        (failed["id"], "failure"),
        (bare["id"], ""),
        (old["id"], "inactive"),
    ]
    assert fake.sequence() == ["POST graphql"]


def test_more_than_100_deployments_take_one_request_per_100(fake: FakeGitHub, gh: GitHub) -> None:
    for _ in range(150):
        fake.add_deployment("pr-7", states=("success",))
    found = list(gh.deployment_states("pr-7"))
    assert len(found) == 150
    assert [d for d, _ in found] == [d["id"] for d in reversed(fake.deployments)]
    assert fake.sequence() == ["POST graphql", "POST graphql"]
    first, second = (r.body["variables"]["cursor"] for r in fake.requests)
    assert first is None
    assert isinstance(second, str)


def test_a_502_is_retried(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.add_deployment("pr-7", states=("success",))
    fake.fail(GRAPHQL, 502)
    assert len(list(gh.deployment_states("pr-7"))) == 1
    assert [r.status for r in fake.requests] == [502, 200]
    assert clock.sleeps == [2.0]


def test_a_graphql_rate_limit_waits_for_the_reset(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    fake.add_deployment("pr-7", states=("success",))
    reset = int(clock.now) + 30
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    fake.fail(GRAPHQL, 200, headers=headers, body=RATE_LIMITED)  # GraphQL says so with HTTP 200
    assert len(list(gh.deployment_states("pr-7"))) == 1
    assert clock.sleeps == [31.0]
    assert len(fake.requests) == 2


def test_a_forbidden_query_names_the_permission(fake: FakeGitHub, gh: GitHub, clock: Clock) -> None:
    message = "Resource not accessible by integration"
    fake.fail(
        GRAPHQL,
        200,
        body={"data": {"repository": None}, "errors": [{"type": "FORBIDDEN", "message": message}]},
    )
    with pytest.raises(GitHubError) as caught:
        list(gh.deployment_states("pr-7"))
    assert caught.value.reason == FailureReason.GITHUB_PERMISSION_DENIED
    assert caught.value.one_line() == (
        f"GitHub refused to list the deployments of pr-7 (HTTP 403: {message}): the token lacks the "
        "`deployments: read` permission; grant it in the workflow job: `permissions: {deployments: read}`"
    )
    assert clock.sleeps == []


def test_an_unknown_repository_is_a_clear_error(clock: Clock) -> None:
    with fake_github() as fake:
        gh = GitHub(TOKEN, "octo-org/gone", api_url=fake.api_url, sleep=clock.sleep)
        with pytest.raises(GitHubError) as caught:
            list(gh.deployment_states("pr-7"))
        assert caught.value.status == 404
        assert caught.value.reason == FailureReason.GITHUB_REQUEST_FAILED
        assert caught.value.message == (
            "GitHub could not list the deployments of pr-7 (HTTP 404: "
            "Could not resolve to a Repository with the name 'octo-org/gone'.)"
        )
        assert len(fake.requests) == 1


def test_an_answer_without_data_is_a_clear_error(fake: FakeGitHub, gh: GitHub) -> None:
    fake.fail(GRAPHQL, 200, body={"message": "not graphql"})
    with pytest.raises(GitHubError) as caught:
        list(gh.deployment_states("pr-7"))
    assert (
        caught.value.message == "GitHub's GraphQL API gave no data when asked to list the deployments of pr-7"
    )


def test_graphql_status_is_pure() -> None:
    assert graphql_status(400, RATE_LIMITED) == (403, "API rate limit exceeded for installation ID 1.")
    assert graphql_status(400, {"errors": [{"type": "RATE_LIMITED", "message": "slow down"}]}) == (
        403,
        "rate limit: slow down",
    )
    assert graphql_status(400, {"errors": [{"type": "FORBIDDEN", "message": "no"}]}) == (403, "no")
    assert graphql_status(400, {"errors": [{"message": "Field 'x' doesn't exist"}]}) == (
        400,
        "Field 'x' doesn't exist",
    )
    assert graphql_status(502, {"message": "Server Error"}) == (502, "Server Error")
    assert graphql_status(502, None) == (502, "")
