"""The init steps in terraform/preview's plan JSON: with hooks, the migrate (and, on the first deploy,
seed) containers and the app's dependency on their success; without hooks, the task definition as before.

The task definition's container definitions are known at plan time only once the database exists (they
hold its address): the preview's database is applied first (`-target`), as it is on every deploy after
the first, then each plan is made by prenv's engine exactly as `prenv deploy` makes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prenv.core import contract
from prenv.core.errors import FailureReason
from prenv.engine.lifecycle import Engine
from tests.roots_support.engine import preview_engine
from tests.roots_support.fake_base import create_fake_base
from tests.roots_support.tf import copy_root, resource_changes
from tests.terraform.conftest import Client, unique_repository

pytestmark = [pytest.mark.terraform, pytest.mark.slow]  # it applies the preview's database first

PR = 9
SHA = "0123456789abcdef0123456789abcdef01234567"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:" + SHA
MIGRATE = ["python", "app.py", "migrate"]
SEED = ["python", "app.py", "seed"]
# The app container's keys before init steps existed (a change here is a change of "as today").
APP_KEYS = {
    "environment",
    "essential",
    "image",
    "linuxParameters",
    "logConfiguration",
    "mountPoints",
    "name",
    "portMappings",
    "privileged",
    "readonlyRootFilesystem",
    "secrets",
    "user",
}


class Root:
    def __init__(self, path: Path, env: dict[str, str], repository: str, bucket: str) -> None:
        self.path, self.env, self.repository, self.bucket = path, env, repository, bucket

    def engine(self, *, hooks: dict[str, Any] | None = None, seed: bool = False) -> Engine:
        return preview_engine(
            self.path,
            self.env,
            repository=self.repository,
            pr=PR,
            bucket=self.bucket,
            head_sha=SHA,
            image=IMAGE,
            hooks=hooks,
            seed=seed,
        )

    def containers(
        self, *, hooks: dict[str, Any] | None = None, seed: bool = False
    ) -> dict[str, dict[str, Any]]:
        """The task definition's containers, by name, in the plan prenv makes with these hooks (the AWS
        provider orders them by name; ECS starts them by their dependencies, not their order)."""
        with self.engine(hooks=hooks, seed=seed) as engine:
            _, plan_file, _ = engine.plan()
            document = engine.tf.show_json(plan_file)
        change = next(c for c in resource_changes(document) if c["address"] == "aws_ecs_task_definition.app")
        assert change["change"]["after_unknown"].get("container_definitions") is not True
        found: list[dict[str, Any]] = json.loads(change["change"]["after"]["container_definitions"])
        return {container["name"]: container for container in found}


@pytest.fixture(scope="module")
def root(
    tmp_path_factory: pytest.TempPathFactory,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
) -> Root:
    repository = unique_repository("hooks")
    create_fake_base(session_boto, repository)
    found = Root(copy_root("preview", tmp_path_factory.mktemp("hooks")), tf_env, repository, new_bucket())
    with found.engine() as engine:
        engine.init()
        engine.tf.select_workspace(f"pr-{PR}", create=True)
        engine.tf.run(
            [
                "apply",
                "-input=false",
                "-auto-approve",
                "-lock-timeout=60s",
                "-target=aws_db_instance.this",
                f"-var-file={engine.var_file()}",
            ],
            reason=FailureReason.APPLY_FAILED,
            what="apply the database",
        )
    return found


def test_without_hooks_the_task_definition_is_the_app_alone(root: Root) -> None:
    containers = root.containers()
    assert list(containers) == [contract.APP_CONTAINER]
    app = containers[contract.APP_CONTAINER]
    assert set(app) == APP_KEYS
    assert (app["name"], app["essential"], app["image"]) == (contract.APP_CONTAINER, True, IMAGE)


def test_with_hooks_migrate_then_seed_must_succeed_before_the_app(root: Root) -> None:
    """The first deploy (prenv passes the seed); later deploys pass none, so only migrate stays
    (prenv's side: tests/commands/hooks/test_steps.py)."""
    containers = root.containers(hooks={"migrate": MIGRATE, "seed": SEED}, seed=True)
    assert set(containers) == {*contract.INIT_STEPS, contract.APP_CONTAINER}
    migrate, seed, app = (containers[name] for name in (*contract.INIT_STEPS, contract.APP_CONTAINER))
    assert (migrate["command"], migrate["essential"], migrate["portMappings"]) == (MIGRATE, False, [])
    assert "dependsOn" not in migrate
    assert (seed["command"], seed["essential"]) == (SEED, False)
    assert seed["dependsOn"] == [{"containerName": "migrate", "condition": "SUCCESS"}]
    assert app["dependsOn"] == [
        {"containerName": "migrate", "condition": "SUCCESS"},
        {"containerName": "seed", "condition": "SUCCESS"},
    ]
    assert set(app) == APP_KEYS | {"dependsOn"}
    # The steps are the app: the same image, user, filesystem, environment, secrets and log group.
    for step in (migrate, seed):
        for key in ("image", "user", "readonlyRootFilesystem", "environment", "secrets", "mountPoints"):
            assert step[key] == app[key], (step["name"], key)
        options = step["logConfiguration"]["options"]
        assert options == app["logConfiguration"]["options"]  # stream <prefix>/<step>/<task id>


def test_after_the_first_deploy_only_migrate_runs_before_the_app(root: Root) -> None:
    """A later deploy: prenv passes no seed (the preview is seeded), so the task has the migrate step
    alone, and the app depends on it only."""
    containers = root.containers(hooks={"migrate": MIGRATE, "seed": SEED}, seed=False)
    assert set(containers) == {contract.MIGRATE_STEP, contract.APP_CONTAINER}
    migrate, app = containers[contract.MIGRATE_STEP], containers[contract.APP_CONTAINER]
    assert (migrate["command"], migrate["essential"]) == (MIGRATE, False)
    assert "dependsOn" not in migrate
    assert app["dependsOn"] == [{"containerName": "migrate", "condition": "SUCCESS"}]
