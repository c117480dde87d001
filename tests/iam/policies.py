"""The IAM policies under test, rendered by Terraform from terraform/bootstrap and terraform/base.

Rendered once for a placeholder repository and cached (keyed by the roots' files), then instantiated
for the repository and state bucket of a test by replacing the placeholder's values: the repository,
its hash (prenv-<hash6>) and the bucket name. Account and region are moto's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prenv.core.naming import repository_hash

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
PARTITION = "aws"
EXAMPLE_REPOSITORY = "example-org/example-app"
EXAMPLE_HASH = repository_hash(EXAMPLE_REPOSITORY)
EXAMPLE_BUCKET = f"prenv-{EXAMPLE_HASH}-tfstate-{ACCOUNT}"  # terraform/bootstrap's default bucket name
STATE_KEY = "preview.tfstate"  # prenv's default backend.key (terraform/bootstrap's default state_key)
WORKSPACE_KEY_PREFIX = "prenv"

Policy = dict[str, Any]


@dataclass(frozen=True)
class Policies:
    """The bootstrap role's identity policies (name -> document), its own permissions boundary, and
    the preview roles' boundary."""

    repository: str
    bucket: str
    identity: dict[str, Policy]
    boundary: Policy
    role_boundary: Policy  # terraform/bootstrap's guard rails (extensions.tf)

    @property
    def name(self) -> str:
        return f"prenv-{repository_hash(self.repository)}"

    @property
    def role_arn(self) -> str:
        return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{self.name}-github-preview"

    @property
    def boundary_arn(self) -> str:
        return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{self.name}-preview-boundary"

    def statements(self) -> list[tuple[str, str]]:
        """(policy name, Sid) of every statement of the identity policies."""
        return [(name, s["Sid"]) for name, doc in self.identity.items() for s in doc["Statement"]]

    def without(self, policy: str, sid: str) -> Policies:
        """These policies with one identity statement removed."""
        identity = {
            name: {**doc, "Statement": [s for s in doc["Statement"] if (name, s["Sid"]) != (policy, sid)]}
            for name, doc in self.identity.items()
        }
        return Policies(self.repository, self.bucket, identity, self.boundary, self.role_boundary)


def _digest() -> str:
    files = sorted((REPO_ROOT / "terraform").glob("*/*.tf"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _terraform(args: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        ["terraform", *args],  # noqa: S607 - Terraform from PATH, as every test of the roots runs it
        cwd=cwd,
        env={**env, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"terraform {' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _planned_policies(root: str, targets: list[str], variables: list[str], env: Mapping[str, str]) -> Any:
    with tempfile.TemporaryDirectory(prefix=f"prenv-iam-{root}-") as tmp:
        work = Path(tmp) / root
        shutil.copytree(
            REPO_ROOT / "terraform" / root, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*")
        )
        # A local backend instead of the partial S3 one: only the plan is wanted.
        (work / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n', encoding="utf-8")
        _terraform(["init", "-no-color", "-input=false"], work, env)
        target_args = [f"-target={t}" for t in targets]
        _terraform(["plan", "-no-color", "-input=false", "-out=p", *target_args, *variables], work, env)
        return json.loads(_terraform(["show", "-json", "p"], work, env))


def render(emulator: Any) -> Policies:
    """The policies for EXAMPLE_REPOSITORY (from the cache when the roots did not change), planned by
    Terraform against `emulator` (prenv.sandbox.emulator.Emulator; the roots read its account and region)."""
    cache = Path(tempfile.gettempdir()) / f"prenv-iam-policies-{_digest()}.json"
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
    else:
        from prenv.sandbox import emulator as emu

        cli = Path(tempfile.mkdtemp(prefix="prenv-iam-cli-"))
        env = emulator.isolated_environment(os.environ, cli, emu.find_provider_mirror())
        repository = f"-var=repository={EXAMPLE_REPOSITORY}"
        targets = ["aws_iam_policy.preview", "aws_iam_policy.github_boundary"]
        bootstrap = _planned_policies("bootstrap", targets, [repository], env)
        base = _planned_policies("base", ["aws_iam_policy.preview_boundary"], [repository], env)
        data = {"identity": {}, "boundary": None, "role_boundary": None}
        for plan, key in ((bootstrap, "identity"), (base, "boundary")):
            for change in plan["resource_changes"]:
                if change["type"] != "aws_iam_policy":
                    continue
                document = json.loads(change["change"]["after"]["policy"])
                name = change["change"]["after"]["name"]
                if key == "boundary":
                    data["boundary"] = document
                elif name.endswith("-github-boundary"):
                    data["role_boundary"] = document
                else:
                    data["identity"][name.rsplit("-preview-", 1)[1]] = document
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(cache)  # atomic: two workers may render at once
    return Policies(
        EXAMPLE_REPOSITORY, EXAMPLE_BUCKET, data["identity"], data["boundary"], data["role_boundary"]
    )


def instantiate(example: Policies, repository: str, bucket: str) -> Policies:
    """`example` rendered for another repository and state bucket."""
    text = json.dumps(
        {"identity": example.identity, "boundary": example.boundary, "role_boundary": example.role_boundary}
    )
    text = text.replace(EXAMPLE_BUCKET, bucket)
    text = text.replace(json.dumps(EXAMPLE_REPOSITORY)[1:-1], json.dumps(repository)[1:-1])
    text = text.replace(EXAMPLE_HASH, repository_hash(repository))
    data = json.loads(text)
    return Policies(repository, bucket, data["identity"], data["boundary"], data["role_boundary"])
