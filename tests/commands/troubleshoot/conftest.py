"""Fixtures for `prenv status`, `logs` and `exec` against the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import Names, names_for
from tests.commands.troubleshoot import planting
from tests.helpers import light_config, run_cli, write_config


@pytest.fixture
def tasks_stay_running(moto_server: object) -> Iterator[None]:
    yield from planting.keep_tasks_running()


@dataclass
class Deployed:
    """A workspace whose Terraform state holds `outputs`, and the names of its PR."""

    directory: Path
    env: dict[str, str]
    names: Names

    def cli(self, *argv: str) -> Any:
        return run_cli(list(argv), env=self.env, cwd=self.directory)


@pytest.fixture
def deploy_outputs(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, repository: str
) -> Callable[[int, dict[str, str]], Deployed]:
    """`deploy_outputs(pr, outputs)`: `prenv deploy` of a root whose only content is those outputs."""

    def deploy(pr: int, outputs: dict[str, str]) -> Deployed:
        root = planting.outputs_root(tmp_path / f"root-{pr}", outputs)
        # These tests plant what status, logs and exec read; readiness has its own (tests/commands/hooks).
        config = light_config(state_bucket, root, repository=repository, readiness={"enabled": False})
        write_config(tmp_path, config)
        done = run_cli(["deploy", "--pr", str(pr)], env=aws_env, cwd=tmp_path)
        assert done.exit_code == 0, done.stderr
        return Deployed(directory=tmp_path, env=aws_env, names=names_for(pr, repository))

    return deploy


@pytest.fixture
def configured(tmp_path: Path, aws_env: dict[str, str], state_bucket: str, repository: str) -> Deployed:
    """A repository configured for prenv with no preview deployed (no workspace)."""
    root = planting.outputs_root(tmp_path / "root", {"url": "http://unused.invalid/"})
    write_config(tmp_path, light_config(state_bucket, root, repository=repository))
    return Deployed(directory=tmp_path, env=aws_env, names=names_for(1, repository))
