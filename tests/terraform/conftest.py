"""Session-wide set-up of the tests of the shipped roots: one environment and state bucket in moto."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prenv.sandbox import emulator as emu

Client = Callable[[str], Any]

# Anything that could reach a real account or change how Terraform runs stays out of these runs.
_DROPPED_PREFIXES = ("AWS_", "GITHUB_", "GH_", "TF_", "PRENV_")


@pytest.fixture(scope="session")
def tf_env(moto_server: emu.Emulator, tf_cli_config: Path) -> dict[str, str]:
    """The environment of a Terraform run against the session's moto server (standard variables only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(moto_server.environment())
    env["TF_CLI_CONFIG_FILE"] = str(tf_cli_config)
    return env


@pytest.fixture(scope="session")
def session_boto(moto_server: emu.Emulator) -> Client:
    """`session_boto("ecs")` -> a boto3 client on the session's moto server."""
    import boto3

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=moto_server.endpoint,
            region_name=moto_server.region,
            **emu.boto_credentials(),
        )

    return client


@pytest.fixture(scope="session")
def new_bucket(session_boto: Client) -> Callable[[], str]:
    """`new_bucket()` -> a fresh, versioned state bucket (one per root run, so state keys never meet)."""

    def create() -> str:
        name = f"prenv-tf-{uuid.uuid4().hex[:12]}"
        s3 = session_boto("s3")
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    return create


def unique_repository(stem: str) -> str:
    """A repository name of its own, so base names (prenv-<hash6>) never collide on the shared emulator."""
    return f"prenv-tests/{stem}-{uuid.uuid4().hex[:8]}"
