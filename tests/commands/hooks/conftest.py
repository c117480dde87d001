"""Fixtures for readiness, the init steps, `prenv run` and pre_destroy against the emulator."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import names_for
from tests.commands.hooks.ecs import Boto, Preview, ecs_agent, plant_preview
from tests.helpers import CliResult, light_config, run_cli, write_config

__all__ = ["ecs_agent"]


def write_root(directory: Path, outputs: dict[str, str], *, sensitive: tuple[str, ...] = ()) -> Path:
    """A Terraform root with no resources: the given outputs (the state prenv reads after an apply), and
    terraform/preview's init-step variables, echoed as outputs so a test sees what prenv passed."""
    directory.mkdir(parents=True, exist_ok=True)
    blocks = [
        'terraform {\n  required_version = ">= 1.11"\n  backend "s3" {}\n}\n',
        'variable "migrate_command" {\n  type    = list(string)\n  default = []\n}\n',
        'variable "seed_command" {\n  type    = list(string)\n  default = []\n}\n',
        'output "passed_migrate" {\n  value = var.migrate_command\n}\n',
        'output "passed_seed" {\n  value = var.seed_command\n}\n',
    ]
    for name, value in outputs.items():
        flag = "\n  sensitive = true" if name in sensitive else ""
        blocks.append(f'output "{name}" {{\n  value = {json.dumps(value)}{flag}\n}}\n')
    (directory / "main.tf").write_text("\n".join(blocks), encoding="utf-8")
    return directory


@dataclass
class Probe:
    """An HTTP server standing in for the preview's URL: it counts every request that reaches it."""

    url: str
    requests: list[str] = field(default_factory=list)
    status: int = 200  # what it answers


@pytest.fixture
def probe() -> Iterator[Probe]:
    found = Probe("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.requests.append(self.path)
            self.send_response(found.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        found.url = f"http://127.0.0.1:{server.server_address[1]}/"
        yield found
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Repo:
    """A repository configured for prenv whose PR `pr` has the planted `preview` (its outputs in the
    workspace's state once deployed)."""

    directory: Path
    env: dict[str, str]
    bucket: str
    preview: Preview
    config: dict[str, Any]

    @property
    def pr(self) -> int:
        return self.preview.names.pr_number

    def configure(self, *, sensitive: tuple[str, ...] = (), **settings: Any) -> None:
        root = write_root(self.directory / "root", self.preview.outputs(), sensitive=sensitive)
        document = light_config(self.bucket, root, repository=self.preview.names.repository)
        for key, value in {**self.config, **settings}.items():
            document[key] = {**document.get(key, {}), **value} if isinstance(value, dict) else value
        write_config(self.directory, document)

    def cli(self, *argv: str, env: dict[str, str] | None = None) -> CliResult:
        return run_cli(list(argv), env=env or self.env, cwd=self.directory)


def make_repo(
    tmp_path: Path,
    aws_env: dict[str, str],
    bucket: str,
    boto: Boto,
    repository: str,
    pr: int,
    *,
    steps: tuple[str, ...] = (),
    url: str = "http://preview.invalid/",
    **config: Any,
) -> Repo:
    preview = plant_preview(boto, names_for(pr, repository), steps=steps)
    preview.url = url
    repo = Repo(tmp_path, aws_env, bucket, preview, config)
    repo.configure()
    return repo
