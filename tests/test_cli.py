"""Bad input at the command line: one line naming what to fix, the right exit status, a failure-reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

GOOD = "backend:\n  bucket: b\n  region: us-east-1\nrepository: o/r\n"


def _repo(tmp_path: Path, text: str) -> Path:
    (tmp_path / ".github").mkdir(exist_ok=True)
    (tmp_path / ".github" / "prenv.yml").write_text(text)
    (tmp_path / "terraform" / "preview").mkdir(parents=True, exist_ok=True)
    return tmp_path


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("backend: [\n", "prenv: .github/prenv.yml:2:1: invalid YAML: "),
        (
            GOOD + "colour: blue\n",
            "prenv: .github/prenv.yml:5: unknown key 'colour' in the top level [config-invalid]",
        ),
        (
            GOOD + "max_previews: many\n",
            "prenv: .github/prenv.yml:5: max_previews: expected an integer, got a string 'many' "
            "[config-invalid]",
        ),
        (
            "repository: o/r\n",
            "prenv: .github/prenv.yml:1: missing required key 'backend' [config-invalid]; "
            "add 'backend:' under the top level",
        ),
    ],
)
def test_config_errors(tmp_path: Path, text: str, line: str) -> None:
    output = tmp_path / "out"
    result = run_cli(
        ["deploy", "--pr", "1"],
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        cwd=_repo(tmp_path, text),
    )
    assert result.exit_code == 2
    assert result.last_error_line.replace(str(tmp_path) + "/", "").startswith(line)
    assert "failure-reason<<" in output.read_text()
    assert "\nconfig-invalid\n" in output.read_text()


def test_missing_config_file(tmp_path: Path) -> None:
    result = run_cli(["deploy", "--pr", "1"], env={}, cwd=tmp_path)
    assert result.exit_code == 2
    assert result.last_error_line == (
        f"prenv: {tmp_path}/.github/prenv.yml: configuration file not found [config-invalid]; "
        "create it (see docs/setup.md) or pass --config PATH"
    )


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["deploy"],
            "prenv: no pull request number [bad-usage]; pass --pr N, or run on a pull_request event",
        ),
        (
            ["destroy", "--pr", "abc"],
            "prenv: --pr must be a pull request number such as 42, not 'abc' [bad-usage]",
        ),
        (
            ["plan", "--pr", "-4"],
            "prenv: --pr must be a pull request number such as 42, not '-4' [bad-usage]",
        ),
        (
            ["wake", "soon"],
            "prenv: --pr must be a pull request number such as 42, not 'soon' [bad-usage]",
        ),
        (
            ["wake", "7", "--pr", "8"],
            "prenv: the PR is given twice, as 7 and as --pr 8 [bad-usage]; give it once",
        ),
        (
            ["wake"],
            "prenv: no pull request number [bad-usage]; pass --pr N, or run on a pull_request event",
        ),
    ],
)
def test_pr_number_errors(tmp_path: Path, argv: list[str], line: str) -> None:
    result = run_cli(argv, env={}, cwd=_repo(tmp_path, GOOD))
    assert result.exit_code == 2
    assert result.last_error_line.startswith(line)


def test_repository_unknown(tmp_path: Path) -> None:
    result = run_cli(
        ["deploy", "--pr", "1"], env={}, cwd=_repo(tmp_path, "backend: {bucket: b, region: r}\n")
    )
    assert result.exit_code == 2
    assert result.last_error_line.endswith(
        "cannot tell which repository this is [config-invalid]; "
        "set GITHUB_REPOSITORY=owner/name or `repository: owner/name` in the config, or run prenv in a "
        "clone whose remote `origin` is the GitHub repository"
    )


def test_terraform_not_found(tmp_path: Path) -> None:
    result = run_cli(["deploy", "--pr", "1"], env={"PATH": str(tmp_path)}, cwd=_repo(tmp_path, GOOD))
    assert result.exit_code == 1
    assert result.last_error_line == (
        "prenv: terraform not found on PATH [terraform-not-found]; "
        "install Terraform >= 1.11 (or set PRENV_TERRAFORM to the binary, such as tofu)"
    )


def test_terraform_root_missing(tmp_path: Path) -> None:
    repo = _repo(tmp_path, GOOD + "terraform: {root: infra/nope}\n")
    result = run_cli(["deploy", "--pr", "1"], env={"PATH": "/usr/local/bin:/usr/bin:/bin"}, cwd=repo)
    assert result.exit_code == 1
    assert result.last_error_line == (
        f"prenv: the Terraform root {tmp_path}/infra/nope does not exist [init-failed]; "
        "set terraform.root in "
        + str(tmp_path / ".github/prenv.yml")
        + " to the directory of the preview's Terraform, or remove it to run the preview root shipped "
        "with prenv"
    )


def test_unknown_option_is_usage_error(tmp_path: Path) -> None:
    result = run_cli(["deploy", "--colour"], env={}, cwd=tmp_path)
    assert result.exit_code == 2
    assert "No such option '--colour'" in result.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from prenv import __version__

    result = run_cli(["--version"], env={}, cwd=Path.cwd())
    assert result.exit_code == 0
    assert capsys.readouterr().out == f"prenv, version {__version__}\n"


def test_ctrl_c_outside_terraform_is_a_cancellation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """click turns a KeyboardInterrupt into Abort: prenv reports it as cancelled (exit 130), not "aborted"."""
    from prenv.commands import wiring

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(wiring, "load_config", interrupted)
    output = tmp_path / "output"
    result = run_cli(["plan", "--pr", "1"], env={"GITHUB_OUTPUT": str(output)}, cwd=_repo(tmp_path, GOOD))
    assert result.exit_code == 130
    assert result.last_error_line == "prenv: cancelled (SIGINT) [cancelled]; run the command again to go on"
    assert "failure-reason<<" in output.read_text()
    assert "\ncancelled\n" in output.read_text()
