"""The fake GitHub's GraphQL endpoint: the part of GitHub's GraphQL schema prenv queries, executed by
graphql-core against the fake's deployments.

GitHub publishes no example responses for GraphQL (the vendored fixtures under tests/fixtures/github
are REST only), so the answers here are written from GitHub's public GraphQL schema (its SDL, the
types and fields below copied from it with their argument lists trimmed to those prenv could use):

- `Query.viewer` -> the token's `User` (for an installation token, the app's bot: `<app-slug>[bot]`);
- `Repository.deployments(environments, orderBy, first, after, ...)` -> `DeploymentConnection`;
- `Deployment.databaseId` is the REST id; `Deployment.state` is a `DeploymentState`;
- `Deployment.latestStatus` is the newest `DeploymentStatus` (null when there is none), whose `state`
  is a `DeploymentStatusState`: PENDING, SUCCESS, FAILURE, INACTIVE, ERROR, QUEUED, IN_PROGRESS, WAITING.

Every query is parsed and validated against that schema (unknown fields, wrong argument or variable
types, missing variables are errors, answered like GitHub does: HTTP 200 with an `errors` list), and
GitHub's connection rule is enforced: `first` or `last` is required and at most 100.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, build_schema, graphql_sync

SDL = """
type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
  viewer: User!
}

type User {
  id: ID!
  login: String!
  databaseId: Int
}

type Repository {
  id: ID!
  nameWithOwner: String!
  deployments(
    environments: [String!]
    orderBy: DeploymentOrder = {field: CREATED_AT, direction: ASC}
    after: String
    before: String
    first: Int
    last: Int
  ): DeploymentConnection!
}

type DeploymentConnection {
  nodes: [Deployment]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type Deployment {
  id: ID!
  databaseId: Int
  environment: String
  ref: Ref
  state: DeploymentState
  latestStatus: DeploymentStatus
}

type Ref {
  name: String!
}

type DeploymentStatus {
  id: ID!
  state: DeploymentStatusState!
  description: String
  environmentUrl: URI
  logUrl: URI
}

scalar URI

input DeploymentOrder {
  field: DeploymentOrderField!
  direction: OrderDirection!
}

enum DeploymentOrderField {
  CREATED_AT
}

enum OrderDirection {
  ASC
  DESC
}

enum DeploymentState {
  ABANDONED
  ACTIVE
  DESTROYED
  ERROR
  FAILURE
  INACTIVE
  PENDING
  QUEUED
  IN_PROGRESS
  WAITING
  SUCCESS
}

enum DeploymentStatusState {
  PENDING
  SUCCESS
  FAILURE
  INACTIVE
  ERROR
  QUEUED
  IN_PROGRESS
  WAITING
}
"""

# Deployment.state from the newest status's state (REST `state` values -> GraphQL enum values).
_DEPLOYMENT_STATE = {"success": "ACTIVE", "inactive": "INACTIVE", "in_progress": "IN_PROGRESS"}


class QueryError(Exception):
    """An error GitHub reports in the `errors` list (with its `type`, such as NOT_FOUND)."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _index(cursor: str) -> int:
    return int(base64.b64decode(cursor).decode().rpartition(":")[2])


def _repository(_: Any, info: Any, owner: str, name: str, **__: Any) -> dict[str, Any]:
    if f"{owner}/{name}".lower() != info.context["repository"].lower():
        raise QueryError(f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND")
    return {"id": "R_1", "nameWithOwner": info.context["repository"]}


def _deployments(_: Any, info: Any, **args: Any) -> dict[str, Any]:
    first: int | None = args.get("first")
    last: int | None = args.get("last")
    if first is None and last is None:
        raise QueryError(
            "You must provide a `first` or `last` value to properly paginate the `deployments` connection."
        )
    if max(first or 0, last or 0) > 100:
        raise QueryError(
            f"Requesting {max(first or 0, last or 0)} records on the `deployments` connection exceeds the "
            "`first` limit of 100 records."
        )
    wanted = args.get("environments")
    items = [d for d in info.context["deployments"]() if wanted is None or d["environment"] in wanted]
    if (args.get("orderBy") or {}).get("direction") == "DESC":
        items.reverse()
    start = _index(args["after"]) + 1 if args.get("after") else 0
    size = first if first is not None else last or 0
    if first is None:  # `last` (without `before`): the last ones
        start = max(len(items) - size, start)
    page = items[start : start + size]
    return {
        "nodes": [_node(d, info.context["statuses"](d["id"])) for d in page],
        "totalCount": len(items),
        "pageInfo": {
            "endCursor": _cursor(start + len(page) - 1) if page else None,
            "startCursor": _cursor(start) if page else None,
            "hasNextPage": start + len(page) < len(items),
            "hasPreviousPage": start > 0,
        },
    }


@functools.cache
def schema() -> GraphQLSchema:
    graph = build_schema(SDL)
    query, repository = graph.query_type, graph.get_type("Repository")
    assert isinstance(query, GraphQLObjectType)
    assert isinstance(repository, GraphQLObjectType)
    query.fields["repository"].resolve = _repository
    query.fields["viewer"].resolve = lambda _, info: {"login": info.context["login"], "id": "U_1"}
    repository.fields["deployments"].resolve = _deployments
    return graph


def execute(
    body: Any,
    *,
    repository: str,
    login: str,
    deployments: Callable[[], list[dict[str, Any]]],
    statuses: Callable[[int], list[dict[str, Any]]],
) -> tuple[dict[str, Any], list[str]]:
    """GitHub's answer to a GraphQL request body, and the problems to report as test errors."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        message = "A query attribute must be specified and must be a string."
        return {"errors": [{"message": message}]}, [f"GraphQL request without a query: {body!r}"]
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return {"errors": [{"message": "Variables are invalid JSON."}]}, [f"bad variables: {variables!r}"]
    context = {"repository": repository, "login": login, "deployments": deployments, "statuses": statuses}
    result = graphql_sync(schema(), body["query"], variable_values=variables, context_value=context)
    answer: dict[str, Any] = {}
    if result.data is not None:
        answer["data"] = result.data
    if not result.errors:
        return answer, []
    errors = []
    for error in result.errors:
        item: dict[str, Any] = {"message": error.message}
        if isinstance(error.original_error, QueryError) and error.original_error.kind:
            item["type"] = error.original_error.kind
        if error.path:
            item["path"] = list(error.path)
        item["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations or []]
        errors.append(item)
    answer["errors"] = errors
    # An error with a type (NOT_FOUND, ...) is an answer; any other means prenv sent a bad query.
    return answer, [f"GraphQL error: {error['message']}" for error in errors if "type" not in error]


def _node(deployment: dict[str, Any], statuses: list[dict[str, Any]]) -> dict[str, Any]:
    latest = statuses[-1]["state"] if statuses else ""
    return {
        "id": f"DE_{deployment['id']}",
        "databaseId": deployment["id"],
        "environment": deployment["environment"],
        "ref": {"name": deployment["ref"]},
        "state": _DEPLOYMENT_STATE.get(latest, latest.upper() or "PENDING"),
        "latestStatus": (
            {
                "id": f"DES_{statuses[-1]['id']}",
                "state": latest.upper(),
                "description": statuses[-1].get("description"),
                "environmentUrl": statuses[-1].get("environment_url") or None,
                "logUrl": statuses[-1].get("log_url") or None,
            }
            if statuses
            else None
        ),
    }
