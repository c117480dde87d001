"""The fake GitHub itself: schema validation (with OpenAPI `nullable`), pagination and host checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from tests.github.fake import API_URL, FakeGitHub
from tests.github.schemas import openapi_to_jsonschema, validator


def test_nullable_becomes_a_null_type() -> None:
    assert openapi_to_jsonschema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert openapi_to_jsonschema({"enum": ["a"], "type": "string", "nullable": True}) == {
        "enum": ["a", None],
        "type": ["string", "null"],
    }
    check = validator("repos/create-deployment")
    assert check is not None
    assert list(check.iter_errors({"ref": "main", "description": None})) == []


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def test_a_body_that_breaks_the_schema_is_refused_and_kept(mock: responses.RequestsMock) -> None:
    fake = FakeGitHub(mock)
    url = f"{API_URL}/repos/octo-org/app/deployments/1/statuses"
    fake.add_deployment("pr-1")
    answer = requests.post(
        url.replace("/1/", f"/{fake.deployments[0]['id']}/"), json={"state": "done"}, timeout=5
    )
    assert answer.status_code == 422
    assert len(fake.errors) == 1
    assert "state: 'done' is not one of" in fake.errors[0]


def test_requests_elsewhere_are_errors(mock: responses.RequestsMock) -> None:
    fake = FakeGitHub(mock)
    assert requests.get("https://api.github.com/user", timeout=5).status_code == 501
    assert requests.get(API_URL.replace("/api/v3", "/other"), timeout=5).status_code == 501
    assert len(fake.errors) == 2
    with pytest.raises(AssertionError):
        fake.assert_clean()


def test_link_headers(mock: responses.RequestsMock) -> None:
    fake = FakeGitHub(mock)
    for index in range(5):
        fake.add_comment(3, f"c{index}")
    page = requests.get(f"{API_URL}/repos/octo-org/app/issues/3/comments?per_page=2&page=2", timeout=5)
    assert [c["body"] for c in page.json()] == ["c2", "c3"]
    assert page.links["next"]["url"] == f"{API_URL}/repos/octo-org/app/issues/3/comments?per_page=2&page=3"
    assert page.links["last"]["url"].endswith("page=3")
    assert page.links["prev"]["url"].endswith("page=1")
    fake.assert_clean()


def test_graphql_queries_are_checked_against_the_schema(mock: responses.RequestsMock) -> None:
    fake = FakeGitHub(mock)
    assert fake.graphql_url == "https://ghe.example.test/api/graphql"
    fake.add_deployment("pr-1", states=("in_progress", "success"))

    def post(query: str, **variables: Any) -> dict[str, Any]:
        answer = requests.post(fake.graphql_url, json={"query": query, "variables": variables}, timeout=5)
        assert answer.status_code == 200  # GraphQL reports errors in the body
        data: dict[str, Any] = answer.json()
        return data

    good = post(
        'query($e: String!) { repository(owner: "octo-org", name: "app") { deployments(environments: [$e], '
        "first: 5) { nodes { databaseId state latestStatus { state } } } } }",
        e="pr-1",
    )
    assert good == {
        "data": {
            "repository": {
                "deployments": {
                    "nodes": [
                        {
                            "databaseId": fake.deployments[0]["id"],
                            "state": "ACTIVE",
                            "latestStatus": {"state": "SUCCESS"},
                        }
                    ]
                }
            }
        }
    }
    fake.assert_clean()
    unknown_field = post(
        '{ repository(owner: "octo-org", name: "app") { deployments(first: 5) { nodes { sha } } } }'
    )
    assert "Cannot query field 'sha' on type 'Deployment'." in str(unknown_field["errors"])
    no_first = post('{ repository(owner: "octo-org", name: "app") { deployments { totalCount } } }')
    assert "You must provide a `first` or `last` value" in str(no_first["errors"])
    too_many = post(
        '{ repository(owner: "octo-org", name: "app") { deployments(first: 101) { totalCount } } }'
    )
    assert "exceeds the `first` limit of 100 records" in str(too_many["errors"])
    missing_variable = post("query($e: String!) { repository(owner: $e, name: $e) { id } }")
    assert "Variable '$e' has invalid value" in str(missing_variable["errors"])
    assert len(fake.errors) == 4
    fake.errors.clear()
    gone = post('{ repository(owner: "octo-org", name: "gone") { id } }')
    assert gone["errors"] == [
        {
            "message": "Could not resolve to a Repository with the name 'octo-org/gone'.",
            "type": "NOT_FOUND",
            "path": ["repository"],
            "locations": [{"line": 1, "column": 3}],
        }
    ]
    fake.assert_clean()  # an answer, not a bad query
