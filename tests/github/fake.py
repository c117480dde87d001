"""A fake GitHub REST API on `responses`, for prenv's GitHub tests (and for the cleanup's).

- Response bodies are GitHub's published examples (`tests/fixtures/github/rest/*.json`), with the
  fields that matter (ids, bodies, authors, states, SHAs) set from the fake's state.
- Every request body prenv sends is validated with `jsonschema` against that operation's
  `request_schema` (OpenAPI `nullable` mapped to a `null` type); a violation answers 422 and is kept in
  `errors`.
- Every request is recorded (`requests`, `sequence()`); retries are separate requests.
- Lists paginate like GitHub (`per_page`, `page`, `Link` headers with absolute URLs).
- Faults: `fail(operation, status, ...)` answers the next matching request(s) with an error.
- A request to any other host, or to a route the fake does not know, is kept in `errors` (and answered
  501), so a test that ends with `assert_clean()` proves prenv talked to the configured API only.
- GraphQL (`POST graphql`, at GitHub's GraphQL URL for the API base URL: `/graphql` beside
  api.github.com, `/api/graphql` for GitHub Enterprise's `/api/v3`): GitHub publishes no GraphQL
  examples, so `tests/github/fake_graphql.py` answers from an excerpt of GitHub's GraphQL schema,
  validating every query and its variables against it (see there).

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(mock)
        ...
        fake.assert_clean()
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import responses
from requests import PreparedRequest

from tests.github import fake_graphql
from tests.github.schemas import example, operation, user_object, validator

API_URL = "https://ghe.example.test/api/v3"
REPOSITORY = "octo-org/app"
BOT = "github-actions[bot]"
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"

# operation id -> (method, path regex below the API base URL)
ROUTES: dict[str, tuple[str, str]] = {
    "users/get-authenticated": ("GET", r"/user"),
    "repos/get": ("GET", _REPO),
    "pulls/get": ("GET", _REPO + r"/pulls/(?P<number>\d+)"),
    "pulls/list": ("GET", _REPO + r"/pulls"),
    "issues/list-comments": ("GET", _REPO + r"/issues/(?P<number>\d+)/comments"),
    "issues/create-comment": ("POST", _REPO + r"/issues/(?P<number>\d+)/comments"),
    "issues/update-comment": ("PATCH", _REPO + r"/issues/comments/(?P<id>\d+)"),
    "issues/delete-comment": ("DELETE", _REPO + r"/issues/comments/(?P<id>\d+)"),
    "issues/add-labels": ("POST", _REPO + r"/issues/(?P<number>\d+)/labels"),
    "repos/create-deployment": ("POST", _REPO + r"/deployments"),
    "repos/list-deployments": ("GET", _REPO + r"/deployments"),
    "repos/create-deployment-status": ("POST", _REPO + r"/deployments/(?P<id>\d+)/statuses"),
    "repos/list-deployment-statuses": ("GET", _REPO + r"/deployments/(?P<id>\d+)/statuses"),
    "repos/delete-an-environment": ("DELETE", _REPO + r"/environments/(?P<name>[^/]+)"),
}
# Operations without a fixture file of their own.
_NO_FILE = {"users/get-authenticated"}
GRAPHQL = "graphql"  # the operation name of every GraphQL request (`fail(GRAPHQL, ...)`, `sequence()`)


def graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint for a REST API base URL (GitHub Enterprise: /api/v3 -> /api/graphql)."""
    parts = urllib.parse.urlsplit(api_url)
    path = parts.path.rstrip("/").removesuffix("/v3")
    return urllib.parse.urlunsplit(parts._replace(path=path + "/graphql"))


@dataclass
class Recorded:
    method: str
    path: str  # below the API base URL
    query: dict[str, str]
    body: Any
    operation: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Fault:
    operation: str
    status: int
    headers: dict[str, str]
    body: Any
    times: int


class FakeGitHub:
    def __init__(
        self,
        mock: responses.RequestsMock,
        *,
        api_url: str = API_URL,
        repository: str = REPOSITORY,
        login: str = BOT,
        user_endpoint: bool = False,
    ) -> None:
        """`login`: who the token acts as. `user_endpoint` False: GET /user is refused (Actions token)."""
        self.api_url = api_url.rstrip("/")
        self.graphql_url = graphql_url(self.api_url)
        self.repository = repository
        self.login = login
        self.user_endpoint = user_endpoint
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.deployments: list[dict[str, Any]] = []
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        self.labels: dict[int, list[str]] = {}
        self.deleted_environments: list[str] = []
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self.faults: list[Fault] = []
        self._ids = itertools.count(1001)
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            # One catch-all per method (responses rotates between overlapping matches): requests to
            # another host, or outside the API path, are recorded as errors by `_handle`.
            mock.add_callback(method, re.compile(".*"), callback=self._handle)

    # -- state set-up --------------------------------------------------------------------------------

    def add_pull(
        self,
        number: int,
        *,
        head_sha: str = "a" * 40,
        title: str = "Update the README",
        head_ref: str = "feature",
        state: str = "open",
        fork: bool = False,
        merged: bool = False,
        labels: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        pull: dict[str, Any] = example("pulls/get")
        pull.update(number=number, title=title, state=state)
        pull.update(merged=merged, merged_at="2026-11-20T10:00:00Z" if merged else None)
        label = example("pulls/get")["labels"][0]
        pull["labels"] = [dict(label, name=name, id=1000 + i) for i, name in enumerate(labels)]
        pull["head"].update(sha=head_sha, ref=head_ref)
        pull["head"]["repo"] = dict(
            pull["head"]["repo"], full_name="fork-owner/app" if fork else self.repository
        )
        pull["base"]["repo"] = dict(pull["base"]["repo"], full_name=self.repository)
        self.pulls[number] = pull
        return pull

    def add_comment(self, pr: int, body: str, *, author: str = "octocat") -> dict[str, Any]:
        comment: dict[str, Any] = example("issues/create-comment")
        comment_id = next(self._ids)
        comment.update(
            id=comment_id,
            body=body,
            user=user_object(author),
            url=f"{self.api_url}/repos/{self.repository}/issues/comments/{comment_id}",
            html_url=f"https://github.test/{self.repository}/pull/{pr}#issuecomment-{comment_id}",
            issue_url=f"{self.api_url}/repos/{self.repository}/issues/{pr}",
        )
        self.comments.setdefault(pr, []).append(comment)
        return comment

    def add_deployment(
        self, environment: str, *, sha: str = "b" * 40, creator: str = BOT, states: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        deployment = self._deployment({"ref": sha, "environment": environment}, creator)
        for state in states:
            self._status(deployment["id"], {"state": state})
        return deployment

    def fail(
        self,
        operation_id: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests of `operation_id` with `status` (and these headers/body)."""
        if operation_id not in ROUTES and operation_id != GRAPHQL:
            raise KeyError(operation_id)
        message = {502: "Server Error", 500: "Internal Server Error", 404: "Not Found"}.get(status, "error")
        self.faults.append(Fault(operation_id, status, headers or {}, body or {"message": message}, times))

    # -- what the tests look at -----------------------------------------------------------------------

    def sequence(self) -> list[str]:
        """`METHOD operation` of every request, in order."""
        return [f"{r.method} {r.operation}" for r in self.requests]

    def assert_clean(self) -> None:
        assert self.errors == [], "\n".join(self.errors)

    def comment_bodies(self, pr: int) -> list[str]:
        return [str(c["body"]) for c in self.comments.get(pr, [])]

    def states(self, deployment_id: int) -> list[str]:
        """The deployment's statuses, oldest first."""
        return [str(s["state"]) for s in self.statuses.get(deployment_id, [])]

    # -- the server ------------------------------------------------------------------------------------

    def _origin(self, url: urllib.parse.SplitResult) -> tuple[str, str, int | None]:
        default = {"http": 80, "https": 443}.get(url.scheme)
        return url.scheme, (url.hostname or "").lower(), url.port or default

    def _handle(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = urllib.parse.urlsplit(str(request.url))
        base = urllib.parse.urlsplit(self.api_url)
        graphql = urllib.parse.urlsplit(self.graphql_url)
        if (
            self._origin(url) == self._origin(graphql)
            and url.path == graphql.path
            and request.method == "POST"
        ):
            return self._graphql(request)
        if self._origin(url) != self._origin(base) or not (url.path + "/").startswith(base.path + "/"):
            self.errors.append(f"request outside the API {self.api_url}: {request.method} {request.url}")
            return 501, {}, json.dumps({"message": "not the GitHub API"})
        path = url.path[len(base.path) :] or "/"
        query = dict(urllib.parse.parse_qsl(url.query))
        method = str(request.method)
        raw = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        body = json.loads(raw) if raw else None
        route = next(
            (
                (op, match)
                for op, (verb, pattern) in ROUTES.items()
                if verb == method and (match := re.fullmatch(pattern, path))
            ),
            None,
        )
        if route is None:
            self.errors.append(f"no such route in the fake: {method} {path}")
            return 501, {}, json.dumps({"message": "no such route"})
        op, match = route
        record = Recorded(
            method, path, query, body, op, headers={k.lower(): str(v) for k, v in request.headers.items()}
        )
        self.requests.append(record)
        status, headers, data = self._answer(op, match.groupdict(), query, body, path)
        record.status = status
        return (
            status,
            {"Content-Type": "application/json; charset=utf-8", **headers},
            ("" if data is None else json.dumps(data)),
        )

    def _graphql(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        raw = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        body = json.loads(raw) if raw else None
        record = Recorded(
            "POST",
            urllib.parse.urlsplit(str(request.url)).path,
            {},
            body,
            GRAPHQL,
            headers={k.lower(): str(v) for k, v in request.headers.items()},
        )
        self.requests.append(record)
        extra = set(body or {}) - {"query", "variables", "operationName"}
        if extra:
            self.errors.append(f"GraphQL request with unknown keys {sorted(extra)}")
        fault = self._fault(GRAPHQL)
        if fault is not None:
            status, headers, data = fault
        else:
            status, headers = 200, {}
            data, problems = fake_graphql.execute(
                body,
                repository=self.repository,
                login=self.login,
                deployments=lambda: list(self.deployments),
                statuses=lambda deployment_id: list(self.statuses.get(deployment_id, [])),
            )
            self.errors += problems
        record.status = status
        return status, {"Content-Type": "application/json; charset=utf-8", **headers}, json.dumps(data)

    def _fault(self, op: str) -> tuple[int, dict[str, str], Any] | None:
        for fault in self.faults:
            if fault.operation == op:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault.status, fault.headers, fault.body
        return None

    def _answer(
        self, op: str, params: dict[str, str], query: dict[str, str], body: Any, path: str
    ) -> tuple[int, dict[str, str], Any]:
        if f"{params.get('owner')}/{params.get('repo')}" != self.repository and "owner" in params:
            return 404, {}, {"message": "Not Found"}
        invalid = self._validate(op, body)
        if invalid:
            return 422, {}, {"message": "Invalid request.", "errors": [invalid]}
        fault = self._fault(op)
        if fault is not None:
            return fault
        handler = getattr(self, "_op_" + op.replace("/", "_").replace("-", "_"))
        result: tuple[int, dict[str, str], Any] = handler(params=params, query=query, body=body, path=path)
        return result

    def _validate(self, op: str, body: Any) -> str:
        check = None if op in _NO_FILE else validator(op)
        if check is None:
            if body is not None:
                message = f"{op} takes no request body, got {body!r}"
                self.errors.append(message)
                return message
            return ""
        if body is None and operation(op).get("request_body_required"):
            message = f"{op} requires a request body"
            self.errors.append(message)
            return message
        problems = sorted(check.iter_errors(body), key=lambda e: list(e.path))
        if problems:
            message = f"{op}: request body does not match the schema: " + "; ".join(
                f"{'/'.join(map(str, p.path)) or '(body)'}: {p.message}" for p in problems
            )
            self.errors.append(message)
            return message
        return ""

    def _paginate(
        self, items: list[Any], query: dict[str, str], path: str
    ) -> tuple[int, dict[str, str], Any]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []

        def link(number: int, rel: str) -> str:
            params = urllib.parse.urlencode({**query, "page": number})
            return f'<{self.api_url}{path}?{params}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, headers, items[(page - 1) * per_page : page * per_page]

    # -- operations ------------------------------------------------------------------------------------

    def _op_users_get_authenticated(self, **_: Any) -> tuple[int, dict[str, str], Any]:
        if not self.user_endpoint:
            return (
                403,
                {},
                {
                    "message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
                },
            )
        return 200, {}, user_object(self.login)

    def _op_repos_get(self, **_: Any) -> tuple[int, dict[str, str], Any]:
        repo = example("repos/get")
        repo.update(full_name=self.repository, name=self.repository.split("/")[1])
        return 200, {}, repo

    def _op_pulls_get(self, *, params: dict[str, str], **_: Any) -> tuple[int, dict[str, str], Any]:
        pull = self.pulls.get(int(params["number"]))
        if pull is None:
            return 404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        return 200, {}, pull

    def _op_pulls_list(
        self, *, query: dict[str, str], path: str, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        state = query.get("state", "open")
        items = []
        for pull in sorted(self.pulls.values(), key=lambda p: -int(p["number"])):
            if state in ("all", pull["state"]):
                item = example("pulls/list")[0]
                keys = ("number", "title", "state", "head", "base", "labels", "merged_at")
                item.update({k: pull[k] for k in keys})
                items.append(item)
        return self._paginate(items, query, path)

    def _op_issues_list_comments(
        self, *, params: dict[str, str], query: dict[str, str], path: str, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        return self._paginate(list(self.comments.get(int(params["number"]), [])), query, path)

    def _op_issues_create_comment(
        self, *, params: dict[str, str], body: Any, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        comment = self.add_comment(int(params["number"]), body["body"], author=self.login)
        return 201, {"Location": comment["url"]}, comment

    def _find_comment(self, comment_id: int) -> dict[str, Any] | None:
        return next((c for cs in self.comments.values() for c in cs if c["id"] == comment_id), None)

    def _op_issues_update_comment(
        self, *, params: dict[str, str], body: Any, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        comment = self._find_comment(int(params["id"]))
        if comment is None:
            return 404, {}, {"message": "Not Found"}
        comment["body"] = body["body"]
        comment["updated_at"] = "2026-01-01T00:00:00Z"
        return 200, {}, comment

    def _op_issues_delete_comment(
        self, *, params: dict[str, str], **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        for comments in self.comments.values():
            comments[:] = [c for c in comments if c["id"] != int(params["id"])]
        return 204, {}, None

    def _op_issues_add_labels(
        self, *, params: dict[str, str], body: Any, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        names = body["labels"] if isinstance(body, dict) else body
        names = [n["name"] if isinstance(n, dict) else n for n in names]
        labels = self.labels.setdefault(int(params["number"]), [])
        labels += [n for n in names if n not in labels]
        template = example("issues/add-labels")[0]
        return 200, {}, [dict(template, name=name) for name in labels]

    def _deployment(self, body: dict[str, Any], creator: str) -> dict[str, Any]:
        deployment: dict[str, Any] = example("repos/create-deployment")
        deployment_id = next(self._ids)
        ref = body["ref"]
        deployment.update(
            id=deployment_id,
            ref=ref,
            sha=ref if re.fullmatch(r"[0-9a-f]{40}", ref) else "c" * 40,
            environment=body.get("environment", "production"),
            original_environment=body.get("environment", "production"),
            description=body.get("description", ""),
            transient_environment=body.get("transient_environment", False),
            production_environment=body.get("production_environment", False),
            creator=user_object(creator),
            url=f"{self.api_url}/repos/{self.repository}/deployments/{deployment_id}",
            statuses_url=f"{self.api_url}/repos/{self.repository}/deployments/{deployment_id}/statuses",
        )
        self.deployments.append(deployment)
        self.statuses[deployment_id] = []
        return deployment

    def _op_repos_create_deployment(self, *, body: Any, **_: Any) -> tuple[int, dict[str, str], Any]:
        return 201, {}, self._deployment(body, self.login)

    def _op_repos_list_deployments(
        self, *, query: dict[str, str], path: str, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        items = [
            d
            for d in reversed(self.deployments)
            if "environment" not in query or d["environment"] == query["environment"]
        ]
        return self._paginate(items, query, path)

    def _status(self, deployment_id: int, body: dict[str, Any]) -> dict[str, Any]:
        status: dict[str, Any] = example("repos/create-deployment-status")
        log_url = body.get("log_url", body.get("target_url", ""))
        status.update(
            id=next(self._ids),
            state=body["state"],
            description=body.get("description", ""),
            environment=next(d["environment"] for d in self.deployments if d["id"] == deployment_id),
            log_url=log_url,
            target_url=log_url,
            environment_url=body.get("environment_url", ""),
            creator=user_object(self.login),
        )
        self.statuses[deployment_id].append(status)
        return status

    def _op_repos_create_deployment_status(
        self, *, params: dict[str, str], body: Any, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        if int(params["id"]) not in self.statuses:
            return 404, {}, {"message": "Not Found"}
        return 201, {}, self._status(int(params["id"]), body)

    def _op_repos_list_deployment_statuses(
        self, *, params: dict[str, str], query: dict[str, str], path: str, **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        if int(params["id"]) not in self.statuses:
            return 404, {}, {"message": "Not Found"}
        return self._paginate(list(reversed(self.statuses[int(params["id"])])), query, path)

    def _op_repos_delete_an_environment(
        self, *, params: dict[str, str], **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        self.deleted_environments.append(urllib.parse.unquote(params["name"]))
        return 204, {}, None


@contextmanager
def fake_github(**options: Any) -> Iterator[FakeGitHub]:
    """A started fake; fails the test at the end if any request broke a schema or left the API host."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(mock, **options)
        yield fake
        fake.assert_clean()
