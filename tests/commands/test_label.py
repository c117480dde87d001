"""The label opt-in: a PR event without the configured label deploys nothing and says why."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import GITHUB_FIXTURES, run_cli, write_config


def test_pr_without_the_label_gets_no_preview(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "backend": {"bucket": "b", "region": "us-east-1"},
            "repository": "o/r",
            "label": "preview",
            "terraform": {"root": "does/not/matter"},
        },
    )
    output = tmp_path / "output"
    env = {
        "GITHUB_EVENT_PATH": str(GITHUB_FIXTURES / "webhooks" / "pull_request.opened.json"),
        "GITHUB_OUTPUT": str(output),
        "PATH": "/usr/bin:/bin",
    }

    result = run_cli(["deploy"], env=env, cwd=tmp_path)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "PR #2 does not carry the label 'preview': no preview is deployed (add the label to get one).\n"
    )
    text = output.read_text()
    assert "skipped<<" in text
    assert "\ntrue\n" in text
