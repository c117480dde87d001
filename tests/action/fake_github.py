"""A stand-in GitHub REST API on 127.0.0.1 for runs of the action in a subprocess.

`responses` cannot reach into another process, so the action tests point `GITHUB_API_URL` here. Every
operation vendored under tests/fixtures/github/rest/ answers with its published example and status;
anything else is a 404 in GitHub's error shape. Requests are recorded for the tests to inspect, and
nothing ever leaves the machine.
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

from tests.helpers import GITHUB_FIXTURES


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
            if operation is None:
                status, payload = (
                    404,
                    {"message": "Not Found", "documentation_url": "https://docs.github.com"},
                )
            else:
                status, payload = operation.status, operation.body
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
