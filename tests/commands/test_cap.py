"""A cap on concurrent previews: a new PR beyond it is refused (cap-reached), existing ones still update."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import light_config, run_cli, write_config

pytestmark = pytest.mark.terraform


def test_new_preview_beyond_the_cap_is_refused(
    tmp_path: Path, aws_env: dict[str, str], boto: Any, state_bucket: str, light_root: Path, repository: str
) -> None:
    write_config(tmp_path, light_config(state_bucket, light_root, repository=repository, max_previews=1))
    assert run_cli(["deploy", "--pr", "41"], env=aws_env, cwd=tmp_path).exit_code == 0
    output = tmp_path / "out"

    refused = run_cli(["deploy", "--pr", "42"], env={**aws_env, "GITHUB_OUTPUT": str(output)}, cwd=tmp_path)

    assert refused.exit_code == 1
    assert refused.last_error_line == (
        "prenv: the preview cap is reached: 1 of 1 previews exist: pr-41 (#41) [cap-reached]; "
        "close or destroy "
        f"one of them (`prenv destroy --pr N`), or raise max_previews in {tmp_path}/.github/prenv.yml"
    )
    assert "\ncap-reached\n" in output.read_text()
    keys = [o["Key"] for o in boto("s3").list_objects_v2(Bucket=state_bucket)["Contents"]]
    assert keys == ["prenv/pr-41/prenv-deployed.json", "prenv/pr-41/preview.tfstate"]  # nothing for PR 42
    # The preview holding the slot may still be updated.
    again = run_cli(["deploy", "--pr", "41"], env=aws_env, cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
