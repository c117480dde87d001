"""docs/setup.md's root that uses the shipped preview root as a module, planned by prenv's engine as
written (only the module's source points at this checkout), against a stand-in base in moto."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT
from tests.roots_support.engine import preview_engine
from tests.roots_support.fake_base import create_fake_base
from tests.roots_support.tf import copy_root, planned, resource_changes
from tests.terraform.conftest import Client

pytestmark = pytest.mark.terraform

SOURCE = 'source            = "github.com/OWNER/prenv//terraform/preview?ref=v'


def documented_root() -> str:
    """The HCL block of docs/setup.md's "The shipped root as a module"."""
    text = (REPO_ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    section = text.split("**The shipped root as a module.**", 1)[1]
    match = re.search(r"```hcl\n(.*?)```", section, re.S)
    assert match, "docs/setup.md has no HCL block for the module"
    return match.group(1)


def test_the_documented_module_root_plans_with_what_prenv_passes(
    tmp_path: Path,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
    repository: str,
) -> None:
    base = create_fake_base(session_boto, repository)
    module = copy_root("preview", tmp_path / "prenv")
    hcl = documented_root()
    assert SOURCE in hcl
    root = tmp_path / "repo" / "infra" / "preview"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(
        re.sub(
            r'source\s*=\s*"github\.com/OWNER/prenv//terraform/preview\?ref=[^"]+"',
            f'source = "{module}"',
            hcl,
        ),
        encoding="utf-8",
    )
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:" + "b" * 40
    with preview_engine(
        root, tf_env, repository=repository, pr=21, bucket=new_bucket(), head_sha="b" * 40, image=image
    ) as engine:
        _, plan_file, changed = engine.plan()
        document = engine.tf.show_json(plan_file)
    assert changed
    addresses = {change["address"] for change in resource_changes(document)}
    assert {
        "module.preview.aws_ecs_service.app",
        "module.preview.aws_db_instance.this[0]",
        "aws_sqs_queue.jobs",
    } <= addresses
    queue = planned(document, "aws_sqs_queue.jobs")
    assert queue["name"].endswith("-pr21-jobs")
    outputs = document["planned_values"]["outputs"]
    assert outputs["url"]["value"] == f"http://{base.alb_dns_name}:{10000 + 21}/"
    assert outputs["access"]["value"] == {"public": True, "ip_restricted": False, "sign_in": ""}
