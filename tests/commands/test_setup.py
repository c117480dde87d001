"""`prenv setup`: bad input is refused before any AWS call, with what to do; a bucket it did not make is
not taken over. (The whole set-up and its removal against the emulator: tests/action/test_onboarding.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import base_name
from tests.helpers import run_cli

GIT = shutil.which("git") or "git"
REPOSITORY = "octo-org/shop"


def _repo(tmp_path: Path, *, remote: bool = True) -> Path:
    repo = tmp_path / "shop"
    repo.mkdir()
    subprocess.run([GIT, "init", "-q", str(repo)], check=True)
    if remote:
        url = f"https://github.com/{REPOSITORY}.git"
        subprocess.run([GIT, "-C", str(repo), "remote", "add", "origin", url], check=True)
    return repo


def _vars(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("args", "remote", "line"),
    [
        ([], True, "prenv: no region [bad-usage]; pass --region, such as --region us-east-1"),
        (
            ["--region", "Europe"],
            True,
            "prenv: --region must be an AWS region such as us-east-1, not 'Europe' [bad-usage]",
        ),
        (
            ["--region", "us-east-1"],
            False,
            "prenv: cannot tell which repository this is [bad-usage]; pass --repository OWNER/NAME, or run "
            "in a clone whose remote `origin` is the GitHub repository",
        ),
        (
            ["--region", "us-east-1", "--repository", "shop"],
            True,
            "prenv: --repository must be OWNER/NAME, not 'shop' [bad-usage]",
        ),
    ],
)
def test_bad_input_is_refused_with_what_to_do(
    tmp_path: Path, args: list[str], remote: bool, line: str
) -> None:
    repo = _repo(tmp_path, remote=remote)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home")}
    result = run_cli(["setup", *args], env=env, cwd=repo)
    assert (result.exit_code, result.last_error_line) == (2, line)


@pytest.mark.parametrize(
    ("option", "content", "line"),
    [
        (
            "--bootstrap-vars",
            '{"repository": "other/repo", "extra_managed_policy_arns": []}',
            "sets repository, which prenv setup sets itself [bad-usage]; remove them from the file (use "
            "--repository, --main-branch, --no-oidc-provider)",
        ),
        (
            "--base-vars",
            '["domain"]',
            'must hold a JSON object of variables, such as {"domain": "..."} [bad-usage]',
        ),
        ("--base-vars", "{domain", "cannot read a JSON object of variables: Expecting property name"),
    ],
)
def test_variable_files_are_checked_first(tmp_path: Path, option: str, content: str, line: str) -> None:
    repo = _repo(tmp_path)
    path = _vars(tmp_path, "vars.json", content)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home")}  # no AWS at all: nothing is called
    result = run_cli(["setup", "--region", "us-east-1", option, path], env=env, cwd=repo)
    assert result.exit_code == 2
    assert result.last_error_line.startswith(f"prenv: {option} {path}: ")
    assert line in result.last_error_line


def test_a_bucket_prenv_setup_did_not_make_is_not_taken_over(
    tmp_path: Path, aws_env: dict[str, str], boto: Any
) -> None:
    repo = _repo(tmp_path)
    bucket = f"{base_name(REPOSITORY)}-tfstate-123456789012"
    boto("s3").create_bucket(Bucket=bucket)
    env = {**aws_env, "HOME": str(tmp_path / "home")}
    result = run_cli(["setup", "--region", aws_env["AWS_REGION"]], env=env, cwd=repo)
    assert result.exit_code == 1
    assert result.last_error_line == (
        f"prenv: the state bucket {bucket} exists but holds no bootstrap.tfstate: it was not made by prenv "
        "setup [setup-failed]; if terraform/bootstrap was applied by hand, move its state into the bucket "
        "under the key bootstrap.tfstate (terraform init -migrate-state), then run prenv setup again"
    )
    destroy = run_cli(["setup", "--destroy", "--region", aws_env["AWS_REGION"]], env=env, cwd=repo)
    assert destroy.exit_code == 1
    assert destroy.last_error_line == (
        f"prenv: the state bucket {bucket} holds no bootstrap.tfstate: it was not made by prenv setup; "
        "nothing was removed [setup-failed]; remove what it holds yourself "
        "(prenv deletes only a bucket it made)"
    )
    boto("s3").head_bucket(Bucket=bucket)  # still there
