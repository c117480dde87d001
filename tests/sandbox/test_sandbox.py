"""`prenv sandbox` runs the whole lifecycle to its end against its own embedded emulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, run_cli

pytestmark = pytest.mark.terraform


def _env(tf_cli_config: Path) -> dict[str, str]:
    # A developer's shell: no AWS account, no GitHub token. The sandbox finds the provider mirror itself.
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}


def test_sandbox_with_the_example_root(tmp_path: Path, tf_cli_config: Path) -> None:
    result = run_cli(["sandbox", "--pr", "5"], env=_env(tf_cli_config), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "prenv sandbox: AWS is EMULATED by moto on http://127.0.0.1:" in out
    assert "Terraform root: the example root shipped with prenv" in out
    steps = [
        out.index(marker)
        for marker in (
            "[1/3] prenv deploy --pr 5",
            "Plan: 3 to add, 0 to change, 0 to destroy.",
            "Preview URL: http://prenv-",
            "[2/3] prenv deploy --pr 5",
            "No changes: nothing was applied.",
            "[3/3] prenv destroy --pr 5",
            "Destroyed 3 resource(s); workspace pr-5 deleted.",
            "State of workspace pr-5 is gone",
            "Sandbox lifecycle complete",
        )
    ]
    assert steps == sorted(steps)
    assert "image_parameter_arn = (sensitive value)" in out
    # The PR comment prenv would post: printed at each state, and the latest written to a file.
    assert out.count("The PR comment prenv would post (also in ") >= 4
    assert "Preview of PR #5 is ready" in out
    comment = (tmp_path / "prenv-sandbox-comment.md").read_text()
    assert comment.startswith('<!-- prenv {"v":1')
    assert "Preview of PR #5 destroyed" in comment
    assert "arn:aws:ssm" not in out.split("The PR comment prenv would post")[1]  # the sensitive output


@pytest.mark.slow
def test_sandbox_with_the_repository_stack() -> None:
    if not (REPO_ROOT / "terraform" / "preview").is_dir():
        pytest.skip("terraform/preview does not exist yet")
    result = run_cli(["sandbox", "--pr", "6"], env=_env(Path()), cwd=REPO_ROOT)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Applying the shared base (base) once" in out
    assert "Terraform root: " + str(REPO_ROOT / "terraform" / "preview") in out
    assert "No changes: nothing was applied." in out
    assert "Destroyed " in out
    assert "workspace pr-6 deleted." in out
    assert "Sandbox lifecycle complete" in out
