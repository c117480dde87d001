"""Run the shipped roots with real Terraform: private copies, init against moto's S3, plan JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = REPO_ROOT / "terraform"
ROOTS = ("bootstrap", "base", "preview")


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def terraform(args: Sequence[str], cwd: Path, env: Mapping[str, str], *, check: bool = True) -> Run:
    """`terraform <args>` in `cwd`, non-interactive and uncoloured; raises on failure when `check`."""
    argv = ("terraform", *args)
    environment = {**env, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(argv, cwd=cwd, env=environment, capture_output=True, text=True, check=False)
    run = Run(argv, done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return run


def copy_root(name: str, directory: Path) -> Path:
    """A private copy of terraform/<name> (so .terraform directories never mix)."""
    target = directory / name
    shutil.copytree(
        TERRAFORM / name, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "README.md")
    )
    return target


def init_s3(root: Path, env: Mapping[str, str], bucket: str, key: str) -> None:
    """init with the S3 backend in moto, the way prenv does it (lock file, path-style)."""
    settings = {
        "bucket": bucket,
        "region": env.get("AWS_REGION", "us-east-1"),
        "key": key,
        "workspace_key_prefix": "prenv",
        "use_lockfile": "true",
        "use_path_style": "true",
    }
    args = ["init", "-no-color", "-input=false"] + [f"-backend-config={k}={v}" for k, v in settings.items()]
    terraform(args, root, env)


def plan_json(root: Path, env: Mapping[str, str], var_file: Path, out: Path) -> dict[str, Any]:
    """Save a plan and return `terraform show -json` of it (also written next to the plan file)."""
    terraform(
        ["plan", "-no-color", "-input=false", "-lock-timeout=30s", f"-var-file={var_file}", f"-out={out}"],
        root,
        env,
    )
    shown = terraform(["show", "-json", str(out)], root, env)
    out.with_suffix(".json").write_text(shown.stdout, encoding="utf-8")
    document: dict[str, Any] = json.loads(shown.stdout)
    return document


def resource_changes(plan: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Managed resources of a plan document, with `after` = the planned values."""
    for change in plan.get("resource_changes", []):
        if change.get("mode") == "managed":
            yield change


def planned(plan: Mapping[str, Any], address: str) -> dict[str, Any]:
    """The planned values of the managed resource at `address`."""
    for change in resource_changes(plan):
        if change["address"] == address:
            after: dict[str, Any] = change["change"]["after"]
            return after
    raise AssertionError(f"{address} is not in the plan")
