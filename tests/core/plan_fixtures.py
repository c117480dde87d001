"""Real plans of the bundled roots, trimmed to what prenv/core/cost.py reads: one per database mode.

tests/core/fixtures/*.plan.json are `terraform show -json` of plans that real Terraform made against moto:
terraform/base as a maintainer applies it (at its defaults, and with `shared_database = true`), and
terraform/preview through prenv's own engine against a stand-in base, in each `database.mode`
(dedicated, the default, then shared and none). Trimming keeps each managed resource's address, type and
actions, and of its values only the attributes cost.READS names (IDs and names that change from run to
run are dropped), plus the configuration's references for those attributes.

    python -m tests.core.plan_fixtures     regenerate them (needs Terraform and moto, about a minute)

tests/core/test_plan_fixtures.py makes the same plans in the test session and fails when the committed
files differ, so the golden tests and scripts/cost_docs.py always read plans of the roots as they are.
Plans only: moto cannot apply the shared server (no EnableHttpEndpoint), and nothing here needs an apply.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from prenv.core.cost import READS
from prenv.core.naming import names_for
from tests.roots_support.engine import preview_engine
from tests.roots_support.fake_base import create_fake_base
from tests.roots_support.tf import copy_root, init_s3, plan_json

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Fixture name -> what it is a plan of. "base" and "preview" are the defaults (dedicated database).
PLANS = {
    "base": "terraform/base at its defaults",
    "base-shared-database": "terraform/base with shared_database = true",
    "preview": "terraform/preview with database.mode dedicated",
    "preview-shared": "terraform/preview with database.mode shared",
    "preview-none": "terraform/preview with database.mode none",
}
NAMES = tuple(PLANS)
BASE_VARIABLES = {"base": {}, "base-shared-database": {"shared_database": True}}
PREVIEW_MODES = {"preview": "dedicated", "preview-shared": "shared", "preview-none": "none"}
# Fixed, so the trimmed plans are the same on every run (task family names derive from it).
REPOSITORY = "acme/shop"
PR = 7
SHA = "0123456789abcdef0123456789abcdef01234567"

Client = Callable[[str], Any]


def trim(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a plan document the estimate reads."""
    changes = []
    for rc in plan.get("resource_changes") or []:
        if rc.get("mode") != "managed":
            continue
        reads = READS.get(rc["type"], ())
        change = rc["change"]
        changes.append(
            {
                "address": rc["address"],
                "mode": "managed",
                "type": rc["type"],
                "name": rc["name"],
                "change": {
                    "actions": change["actions"],
                    "before": _values(change.get("before"), reads),
                    "after": _values(change.get("after"), reads),
                    "after_unknown": _values(change.get("after_unknown"), reads, unknown=True),
                },
            }
        )
    return {
        "format_version": plan.get("format_version"),
        "resource_changes": changes,
        "configuration": {"root_module": _module((plan.get("configuration") or {}).get("root_module") or {})},
    }


def _values(values: Any, reads: tuple[str, ...], *, unknown: bool = False) -> Any:
    if not isinstance(values, Mapping):
        return values
    kept: dict[str, Any] = {}
    for read in reads:
        name, _, key = read.partition(".")
        if name not in values or (unknown and values[name] is False):
            continue
        value = values[name]
        if key and isinstance(value, list):
            value = [{key: item[key]} for item in value if isinstance(item, Mapping) and key in item]
        kept[name] = value
    return kept


def _module(module: Mapping[str, Any]) -> dict[str, Any]:
    resources = []
    for resource in module.get("resources") or []:
        reads = {read.partition(".")[0] for read in READS.get(resource.get("type", ""), ())}
        expressions = {}
        for name, expression in (resource.get("expressions") or {}).items():
            # Only references to other resources: the estimate follows those, never variables.
            found = expression.get("references") if isinstance(expression, Mapping) else None
            refs = [r for r in found or [] if str(r).startswith("aws_")]
            if name in reads and refs:
                expressions[name] = {"references": refs}
        if expressions:
            resources.append(
                {"address": resource["address"], "type": resource["type"], "expressions": expressions}
            )
    calls = {
        name: {"module": _module(call.get("module") or {})}
        for name, call in (module.get("module_calls") or {}).items()
    }
    return {"resources": resources, **({"module_calls": calls} if calls else {})}


def dump(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def make_plans(
    workdir: Path,
    env: Mapping[str, str],
    client: Client,
    bucket: Callable[[], str],
    repository: str = REPOSITORY,
) -> dict[str, Any]:
    """Real plans of terraform/base (with and without the shared database server) and terraform/preview
    (in each database mode) for `repository`, otherwise at the roots' defaults, keyed as NAMES (the
    committed fixtures are REPOSITORY's)."""
    base = copy_root("base", workdir / "base")
    init_s3(base, env, bucket(), key="base.tfstate")
    plans: dict[str, Any] = {}
    for name, extra in BASE_VARIABLES.items():  # one init, two plans: nothing is applied
        variables = workdir / f"{name}.tfvars.json"
        variables.write_text(json.dumps({"repository": repository, **extra}), encoding="utf-8")
        plans[name] = plan_json(base, env, variables, workdir / f"{name}.tfplan")
    # The preview plans read the base by name: a stand-in base is enough (and takes seconds). It has
    # the shared server, which only the shared plan reads; and what prenv makes before a shared plan
    # (prenv/engine/shared_db.py): the PR's database secret, whose ARN the root reads.
    create_fake_base(client, repository, shared_database=True)
    names = names_for(PR, repository)
    client("secretsmanager").create_secret(
        Name=names.database_secret,
        SecretString=json.dumps({"username": names.pr_database, "password": "never-in-the-plan"}),
        Tags=[{"Key": "prenv:repository", "Value": repository}],
    )
    image = "public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine"
    # One copy, one init and one (empty) workspace for the three modes: only the variables differ. The
    # engine's init, workspace and variables file, but not Engine.plan: its `terraform show` of the
    # plan as text, and the JSON again here, would add about 10 s a mode for nothing the fixtures keep.
    root, state = copy_root("preview", workdir), bucket()
    for name, mode in PREVIEW_MODES.items():
        with preview_engine(
            root,
            env,
            repository=repository,
            pr=PR,
            bucket=state,
            head_sha=SHA,
            image=image,
            database_mode=mode,
        ) as engine:
            engine.init()
            engine.tf.select_workspace(engine.names.workspace, create=True)
            plan_file = engine.work_dir / "preview.tfplan"
            engine.tf.plan(plan_file, engine.var_file())
            plans[name] = engine.tf.show_json(plan_file)
    return plans


def main() -> None:
    import boto3

    from prenv.sandbox import emulator as emu

    server = emu.start_emulator()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            workdir = Path(scratch)
            mirror = emu.find_provider_mirror()
            cli = emu.write_cli_config(
                workdir / "cli", mirror, plugin_cache=None if mirror else workdir / "cache"
            )
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_", "GITHUB_", "PRENV_"))
            }
            env.update(server.environment())
            env["TF_CLI_CONFIG_FILE"] = str(cli)

            def client(service: str) -> Any:
                credentials = emu.boto_credentials()
                return boto3.client(
                    service, endpoint_url=server.endpoint, region_name=server.region, **credentials
                )

            def bucket() -> str:
                name = f"prenv-cost-{uuid.uuid4().hex[:12]}"
                client("s3").create_bucket(Bucket=name)
                return name

            plans = make_plans(workdir, env, client, bucket)
    finally:
        server.stop()
    FIXTURES.mkdir(exist_ok=True)
    for name in NAMES:
        path = FIXTURES / f"{name}.plan.json"
        path.write_text(dump(trim(plans[name])), encoding="utf-8")
        print(f"wrote {path.relative_to(FIXTURES.parents[2])}")


if __name__ == "__main__":
    main()
