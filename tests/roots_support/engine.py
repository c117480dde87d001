"""prenv's own engine on terraform/preview: the variables file and backend exactly as prenv writes them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from prenv.core import config as config_mod
from prenv.core.config import backend_settings
from prenv.core.naming import names_for
from prenv.engine.lifecycle import Engine
from prenv.engine.terraform import Terraform, find_binary


def preview_config(
    root: Path,
    *,
    repository: str,
    bucket: str,
    region: str,
    variables: Mapping[str, Any] | None = None,
    database_mode: str = "dedicated",
    hooks: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A .github/prenv.yml document for `root` against the emulator's `bucket`."""
    return {
        "backend": {"bucket": bucket, "region": region},
        "terraform": {"root": str(root), "lock_timeout": "60s", "variables": dict(variables or {})},
        "repository": repository,
        "database": {"mode": database_mode},
        "hooks": dict(hooks or {}),
    }


def preview_engine(
    root: Path,
    env: Mapping[str, str],
    *,
    repository: str,
    pr: int,
    bucket: str,
    head_sha: str = "",
    image: str = "",
    variables: Mapping[str, Any] | None = None,
    database_mode: str = "dedicated",
    hooks: Mapping[str, Any] | None = None,
    seed: bool = False,
) -> Engine:
    """An Engine for PR `pr` of `repository` on `root` (a private copy of terraform/preview); `hooks` and
    `seed` as `prenv deploy` would pass them."""
    document = preview_config(
        root,
        repository=repository,
        bucket=bucket,
        region=env.get("AWS_REGION", "us-east-1"),
        variables=variables,
        database_mode=database_mode,
        hooks=hooks,
    )
    config = config_mod.parse(yaml.safe_dump(document), path=str(root.parent / "prenv.yml"))
    names = names_for(pr, repository, config.workspace_pattern)
    binary = find_binary("terraform", env.get("PATH"))

    def factory(root: Path, data_dir: Path) -> Terraform:
        return Terraform(
            root=root,
            binary=binary,
            env=dict(env),
            data_dir=data_dir,
            lock_timeout=config.terraform.lock_timeout,
        )

    return Engine(
        config=config,
        names=names,
        terraform_factory=factory,
        base_dir=root.parent,
        backend=backend_settings(config.backend, custom_endpoint=True),  # the emulator's S3
        head_sha=head_sha,
        image=image,
        seed=seed,
    )
