"""Shared pieces of the action and workflow tests: the files under test and a runner for the action."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.action import fake_github, gha_expr
from tests.action.runner import CompositeRunner, UsesStandIn
from tests.helpers import GITHUB_FIXTURES, REPO_ROOT

ACTION = REPO_ROOT / "action.yml"
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
WEBHOOKS = GITHUB_FIXTURES / "webhooks"


def copy_action(target: Path) -> Path:
    """A private copy of the action's files (action.yml and what it installs); returns its action.yml.

    The install step keys its environment on a hash of prenv's sources, which other work may be editing.
    """
    target.mkdir(parents=True)
    for name in ("action.yml", "pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, target / name)
    shutil.copytree(REPO_ROOT / "prenv", target / "prenv", ignore=shutil.ignore_patterns("__pycache__"))
    # The roots and workflows the package ships (pyproject.toml's package-dir), without Terraform's leftovers.
    for root in ("preview", "bootstrap", "base"):
        shutil.copytree(
            REPO_ROOT / "terraform" / root,
            target / "terraform" / root,
            ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"),
        )
    (target / ".github" / "workflows").mkdir(parents=True)
    for name in ("preview.yml", "cleanup.yml", "fork-notice.yml"):
        shutil.copy2(WORKFLOWS / name, target / ".github" / "workflows" / name)
    return target / "action.yml"


def load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def triggers(workflow: Mapping[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping (PyYAML reads the bare key `on` as the boolean true)."""
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict)
    return on


def payload(name: str) -> dict[str, Any]:
    data = json.loads((WEBHOOKS / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture
def github_api() -> Iterator[fake_github.FakeGitHub]:
    with fake_github.serve() as fake:
        yield fake


MakeRunner = Callable[..., CompositeRunner]


@pytest.fixture
def make_runner(tmp_path: Path) -> MakeRunner:
    """`make_runner(event, payload_name, env=..., uses=...)` -> a CompositeRunner for the repo's action."""

    def make(
        event_name: str,
        payload_name: str,
        *,
        env: Mapping[str, str],
        uses: Mapping[str, UsesStandIn] | None = None,
        workspace: Path | None = None,
        api_url: str = "http://127.0.0.1:9",
        action_file: Path = ACTION,
    ) -> CompositeRunner:
        event_path = WEBHOOKS / f"{payload_name}.json"
        workspace = workspace or tmp_path / "workspace"
        workspace.mkdir(parents=True, exist_ok=True)
        github = gha_expr.github_context(event_name, payload(payload_name), workspace=str(workspace))
        job_env = {**env, "GITHUB_API_URL": api_url, "GITHUB_SERVER_URL": "https://github.com"}
        job_env.update({"GITHUB_RUN_ID": "4242", "HOME": str(tmp_path / "home")})
        return CompositeRunner(
            action_file=action_file,
            workspace=workspace,
            runner_temp=tmp_path / "runner-temp",
            github=github,
            env=job_env,
            event_path=event_path,
            uses=dict(uses or {}),
        )

    return make
