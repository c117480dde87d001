"""Two first deploys of one new PR at once: the loser ends `state-locked` (or waits its turn), never
`init-failed` (real Terraform against the emulator)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.commands.test_faults import LOCK
from tests.helpers import light_config, run_cli, write_config

pytestmark = pytest.mark.terraform


def test_two_first_deploys_at_once(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, light_root: Path, repository: str
) -> None:
    write_config(
        tmp_path,
        light_config(state_bucket, light_root, repository=repository, terraform={"lock_timeout": "1s"}),
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "prenv", "deploy", "--pr", "41"],
            cwd=tmp_path,
            env=aws_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    ended = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in ended)
    assert codes in ([0, 0], [0, 1]), ended
    for code, _, stderr in ended:
        if code:  # the loser: the other run held the workspace's data directory, then its state lock
            assert "[state-locked]" in stderr.splitlines()[-1], stderr
            assert "init-failed" not in stderr


def test_a_new_workspace_whose_state_is_locked_is_state_locked(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    """Another machine is creating the same new workspace: its lock is there, its state not yet."""
    key = "prenv/pr-43/preview.tfstate"
    boto("s3").put_object(
        Bucket=state_bucket, Key=key + ".tflock", Body=json.dumps({**LOCK, "Path": f"{state_bucket}/{key}"})
    )
    write_config(
        tmp_path,
        light_config(state_bucket, light_root, repository=repository, terraform={"lock_timeout": "1s"}),
    )
    result = run_cli(["deploy", "--pr", "43"], env=aws_env, cwd=tmp_path)
    assert result.exit_code == 1
    assert result.last_error_line.endswith(
        "(OperationTypeApply) [state-locked]; wait for the other run to finish and retry; if no run holds "
        f"it, release it with `prenv unlock --pr <N> --lock-id {LOCK['ID']}`"
    ), result.stderr
