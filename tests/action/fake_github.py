"""A stand-in GitHub API on 127.0.0.1 for runs of the action in a subprocess.

`responses` cannot reach into another process, so the action tests point `GITHUB_API_URL` here:
- every REST operation vendored under tests/fixtures/github/rest/ answers with its published example
  and status, after its request body is checked against the published request schema
  (tests/github/schemas.py; a violation answers 422 and is kept in `errors`);
- GraphQL (`POST /graphql`) answers `repository.deployments` queries, shaped as GitHub's schema, from
  the deployments and statuses created here;
- anything else is a 404 in GitHub's error shape.
Requests are recorded for the tests to inspect, and nothing ever leaves the machine.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.github.schemas import validator
from tests.helpers import GITHUB_FIXTURES

NOT_FOUND_DOCS = "https://docs.github.com/rest"
GRAPHQL_PATHS = ("/graphql", "/api/graphql")


@dataclass(frozen=True)
class Operation:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any


@dataclass
class Request:
    method: str
    path: str
    body: str
    operation: str
    authorization: str


@dataclass
class FakeGitHub:
    url: str
    requests: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # environment -> [deployment id, state of its latest status ('' before the first)]
    deployments: dict[str, list[Any]] = field(default_factory=dict)

    def remember(self, operation: str, path: str, body: str, answer: Any) -> None:
        """Keep track of the deployments created and their statuses, for the GraphQL answers."""
        if operation == "repos.create-deployment":
            environment = json.loads(body).get("environment", "production")
            self.deployments[environment] = [answer["id"], ""]
        elif operation == "repos.create-deployment-status":
            deployment_id = int(path.rstrip("/").split("/")[-2])
            for entry in self.deployments.values():
                if entry[0] == deployment_id:
                    entry[1] = json.loads(body)["state"]

    def graphql(self, body: str) -> dict[str, Any]:
        request = json.loads(body or "{}")
        if "deployments" not in str(request.get("query", "")):
            return {"errors": [{"type": "NOT_SUPPORTED", "message": "the stand-in answers deployments only"}]}
        wanted = {value for value in (request.get("variables") or {}).values() if isinstance(value, str)}
        nodes = [
            {"databaseId": number, "latestStatus": {"state": state.upper()} if state else None}
            for environment, (number, state) in self.deployments.items()
            if environment in wanted
        ]
        page = {"hasNextPage": False, "endCursor": None}
        return {"data": {"repository": {"deployments": {"nodes": nodes, "pageInfo": page}}}}


def _operations(folder: Path) -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    for file in sorted(folder.glob("*.json")):
        if file.name.startswith("_"):
            continue
        spec = json.loads(file.read_text(encoding="utf-8"))
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(spec["path"]))
        operations[file.stem] = Operation(
            spec["method"], re.compile(f"^{regex}$"), int(spec["status"]), spec.get("example_response")
        )
    return operations


def _invalid(name: str, body: str) -> str:
    """Why `body` breaks the request schema of operation `name` (issues.create-comment), or ''."""
    check = validator(name.replace(".", "/", 1))
    if check is None or not body:
        return ""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc}"
    error = next(iter(check.iter_errors(document)), None)
    return "" if error is None else error.message


@contextmanager
def serve() -> Iterator[FakeGitHub]:
    operations = _operations(GITHUB_FIXTURES / "rest")
    fake = FakeGitHub(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            name, operation = next(
                (
                    (name, op)
                    for name, op in operations.items()
                    if op.method == self.command and op.pattern.match(path)
                ),
                ("", None),
            )
            auth = self.headers.get("Authorization") or ""
            fake.requests.append(Request(self.command, self.path, body, name, auth))
            problem = _invalid(name, body) if operation is not None else ""
            if self.command == "POST" and path in GRAPHQL_PATHS:
                status, payload = 200, fake.graphql(body)
            elif operation is None:
                status, payload = 404, {"message": "Not Found", "documentation_url": NOT_FOUND_DOCS}
            elif problem:
                fake.errors.append(f"{self.command} {path}: {problem}")
                status, payload = 422, {"message": "Validation Failed", "errors": [problem]}
            else:
                status, payload = operation.status, operation.body
                fake.remember(name, path, body, payload)
            data = b"" if payload is None else json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
