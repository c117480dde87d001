"""Real parts for the tests: moto server on a free loopback port and Terraform set up to run offline."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prenv.sandbox import emulator as emu
from tests.helpers import LIGHT_ROOT, copy_root

# tests/iam: every AWS call of the tests is recorded and prenv's are evaluated against the IAM policies.
pytest_plugins = ["tests.iam.plugin"]

# Variables that could send a test to a real AWS account or GitHub, removed from every test's environment.
_REAL = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_EVENT_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_ACTIONS",
    "GITHUB_REPOSITORY",
    "PRENV_CONFIG",
    "PRENV_TERRAFORM",
    "TF_WORKSPACE",
    "TF_DATA_DIR",
)
# The runtime of the machine running the tests (a GitHub-hosted runner, a CI box that sets CI=true and forces
# colour): none of it may change what a test sees, so every test starts without it.
# (PRENV_PROVIDER_MIRROR stays: it only says where this machine keeps the provider mirror.)
_RUNTIME_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "TF_VAR_", "TF_CLI_ARGS")
_RUNTIME = (
    "CI",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "NO_COLOR",
    "PRENV_SANDBOX",
    "TF_LOG",
    "TF_INPUT",
    "TF_IN_AUTOMATION",
)


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name in _REAL or name in _RUNTIME or name.startswith(_RUNTIME_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def tf_cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Terraform CLI configuration using the machine's local provider mirror when there is one."""
    directory = tmp_path_factory.mktemp("terraform-cli")
    mirror = emu.find_provider_mirror(
        os.environ.get("PRENV_PROVIDER_MIRROR", ""), os.environ.get("XDG_DATA_HOME", "")
    )
    cache = None if mirror else Path(os.environ.get("PRENV_TEST_PLUGIN_CACHE", directory / "plugin-cache"))
    return emu.write_cli_config(directory, mirror, plugin_cache=cache)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[emu.Emulator]:
    """moto in server mode, in this process, on 127.0.0.1 and a free port, for the whole session."""
    server = emu.start_emulator()
    yield server
    server.stop()


@pytest.fixture
def aws_env(
    moto_server: emu.Emulator, tf_cli_config: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment of a run against the emulator: standard AWS variables only, fake credentials
    (the real ones are already gone: `_hermetic_environment` runs first, as every autouse fixture does).

    Also applied to this process (boto3 in the tests reads it).
    """
    for name, value in moto_server.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tf_cli_config))
    return dict(os.environ)


@pytest.fixture
def boto(aws_env: dict[str, str], moto_server: emu.Emulator) -> Any:
    """`boto("s3")` -> a boto3 client on the emulator."""
    import boto3

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=moto_server.endpoint, region_name=moto_server.region)

    return client


@pytest.fixture
def state_bucket(boto: Any) -> str:
    """A fresh, versioned state bucket for one test."""
    name = f"prenv-test-{uuid.uuid4().hex[:12]}"
    s3 = boto("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def light_root(tmp_path: Path) -> Path:
    """A private copy of the light example root (log group, security group, SSM parameter)."""
    return copy_root(LIGHT_ROOT, tmp_path / "roots")


@pytest.fixture
def repository() -> str:
    """A repository name of its own per test, so resource names never collide on the shared emulator."""
    return f"prenv-tests/app-{uuid.uuid4().hex[:8]}"
