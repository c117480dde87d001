"""The action's `run:` steps, run as the runner runs them, around a stand-in `prenv` that records its call.

These check what the scripts do with the inputs (arguments, environment, outputs, exit codes), how the
install step uses or rebuilds its environment, and when Terraform gets installed. The real prenv against
the AWS emulator is in test_action_moto.py.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

import prenv
from prenv import cli
from prenv.core.config import parse
from prenv.core.errors import ConfigError
from prenv.core.limits import MAX_CONCURRENCY, MIN_CONCURRENCY
from tests.action.conftest import MakeRunner, copy_action
from tests.action.runner import ActionRun, UsesStandIn
from tests.helpers import REPO_ROOT

PYTHON_STEP: UsesStandIn = lambda _with: {"python-path": sys.executable}  # noqa: E731 - setup-python's output

FAKE_PRENV = """#!/usr/bin/env bash
if [ "${1:-}" = "--version" ]; then echo "prenv, version PRENV_VERSION"; exit 0; fi
printf '%s\\0' "$@" >"$FAKE_LOG/args"
pwd >"$FAKE_LOG/cwd"
printf '%s' "${GITHUB_TOKEN-<unset>}" >"$FAKE_LOG/token"
printf '%s' "${PRENV_GITHUB_LOGIN-<unset>}" >"$FAKE_LOG/login"
printf '%s' "${TF_PLUGIN_CACHE_DIR-<unset>}" >"$FAKE_LOG/plugin-cache"
env | grep -c '^INPUT_' >"$FAKE_LOG/input-count" || true
if [ -n "${FAKE_OUTPUTS:-}" ]; then printf '%b' "$FAKE_OUTPUTS" >>"$GITHUB_OUTPUT"; fi
exit "${FAKE_EXIT:-0}"
""".replace("PRENV_VERSION", prenv.__version__)


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def restore_venv(prenv: str) -> UsesStandIn:
    """Stands in for actions/cache on a hit: the environment comes back with its key stamp."""

    def stand_in(with_values: dict[str, str]) -> dict[str, str]:
        venv = Path(with_values["path"])
        _executable(venv / "bin" / "prenv", prenv)
        (venv / ".prenv-key").write_text(with_values["key"] + "\n", encoding="utf-8")
        return {"cache-hit": "true"}

    return stand_in


@pytest.fixture
def log(tmp_path: Path) -> Path:
    folder = tmp_path / "fake-log"
    folder.mkdir()
    return folder


@pytest.fixture
def job_env(log: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "FAKE_LOG": str(log), "LANG": "C.UTF-8"}


def _run(make_runner: MakeRunner, job_env: dict[str, str], inputs: dict[str, str], **kw: str) -> ActionRun:
    runner = make_runner(
        "pull_request",
        "pull_request.opened",
        env={**job_env, **kw},
        uses={"python": PYTHON_STEP, "venv-cache": restore_venv(FAKE_PRENV)},
    )
    return runner.run(inputs)


def _args(log: Path) -> list[str]:
    return (log / "args").read_text(encoding="utf-8").split("\0")[:-1]


CONFIG = ["--config", ".github/prenv.yml"]


@pytest.mark.parametrize(
    ("inputs", "argv"),
    [
        ({}, ["deploy", *CONFIG]),
        (
            {"command": "deploy", "pr-number": "7", "sha": "a" * 40, "image": "ecr/app:abc"},
            ["deploy", "--pr", "7", "--sha", "a" * 40, "--image", "ecr/app:abc", *CONFIG],
        ),
        ({"command": "plan", "verbose": "true"}, ["plan", *CONFIG, "--verbose"]),
        ({"command": "destroy", "sha": "b" * 40, "image": "x"}, ["destroy", *CONFIG]),
        ({"command": "destroy", "pr-number": "9", "config": ""}, ["destroy", "--pr", "9"]),
        ({"command": "cleanup"}, ["cleanup", *CONFIG]),
        (
            {"command": "cleanup", "dry-run": "true", "max-age": "3d", "config": "ops/prenv.yml"},
            ["cleanup", "--dry-run", "--max-age", "3d", "--config", "ops/prenv.yml"],
        ),
        ({"command": "cleanup", "dry-run": "false"}, ["cleanup", *CONFIG]),
        (
            {"command": "cleanup", "concurrency": "8", "delete-orphans": "true"},
            ["cleanup", "--concurrency", "8", "--delete-orphans", *CONFIG],
        ),
        (
            {"command": "cleanup", "concurrency": "1", "delete-orphans": "TRUE"},
            ["cleanup", "--concurrency", "1", "--delete-orphans", *CONFIG],
        ),
        (
            {"command": "cleanup", "concurrency": "32", "delete-orphans": "false"},
            ["cleanup", "--concurrency", "32", *CONFIG],
        ),
        (
            {"command": "cleanup", "dry-run": "true", "delete-orphans": "true"},
            ["cleanup", "--dry-run", "--delete-orphans", *CONFIG],  # prenv deletes nothing on a dry run
        ),
        # Cleanup's inputs mean nothing to the other commands.
        ({"command": "deploy", "concurrency": "8", "delete-orphans": "true"}, ["deploy", *CONFIG]),
        ({"command": "destroy", "concurrency": "x", "delete-orphans": "maybe"}, ["destroy", *CONFIG]),
    ],
)
def test_inputs_become_prenv_arguments(
    make_runner: MakeRunner, job_env: dict[str, str], log: Path, inputs: dict[str, str], argv: list[str]
) -> None:
    run = _run(make_runner, job_env, inputs)
    assert run.failed is None, run.failed
    assert _args(log) == argv


def test_values_with_shell_syntax_reach_prenv_as_single_arguments(
    make_runner: MakeRunner, job_env: dict[str, str], log: Path, tmp_path: Path
) -> None:
    image = '$(touch pwned1) `touch pwned2` "; touch pwned3; #'
    pr = "1; touch pwned4\n::add-mask::oops"
    run = _run(make_runner, job_env, {"image": image, "pr-number": pr})
    assert run.failed is None, run.failed
    assert _args(log) == ["deploy", "--pr", pr, "--image", image, *CONFIG]
    assert not [p for p in tmp_path.rglob("pwned*")]
    assert "\n::add-mask::" not in run.step("run").stdout  # the echoed command line is quoted


def test_the_token_plugin_cache_and_working_directory_reach_prenv(
    make_runner: MakeRunner, job_env: dict[str, str], log: Path, tmp_path: Path
) -> None:
    (tmp_path / "workspace" / "app").mkdir(parents=True)
    run = _run(make_runner, job_env, {"working-directory": "app"})
    assert run.failed is None, run.failed
    assert (log / "token").read_text() == "ghs_fake-token-for-tests"  # the default: ${{ github.token }}
    assert (log / "login").read_text() == "github-actions[bot]"  # the workflow token's login, never asked
    plugin_cache = tmp_path / "runner-temp" / "terraform-plugin-cache"
    assert (log / "plugin-cache").read_text() == str(plugin_cache)
    assert plugin_cache.is_dir()
    assert (log / "cwd").read_text().strip() == str(tmp_path / "workspace" / "app")
    assert run.env_file == {}  # nothing leaks into the rest of the job


def test_a_token_input_replaces_the_workflow_token(
    make_runner: MakeRunner, job_env: dict[str, str], log: Path
) -> None:
    run = _run(make_runner, job_env, {"github-token": "ghp_other"})
    assert run.failed is None, run.failed
    assert (log / "token").read_text() == "ghp_other"
    assert (log / "login").read_text() == ""  # another token's login is not assumed: prenv asks


def test_a_github_app_token_comes_with_its_login(
    make_runner: MakeRunner, job_env: dict[str, str], log: Path
) -> None:
    run = _run(make_runner, job_env, {"github-token": "ghs_app", "github-login": "prenv-previews[bot]"})
    assert run.failed is None, run.failed
    assert (log / "token").read_text() == "ghs_app"
    assert (log / "login").read_text() == "prenv-previews[bot]"


def test_prenv_outputs_become_the_action_outputs_and_its_exit_status_the_steps(
    make_runner: MakeRunner, job_env: dict[str, str]
) -> None:
    outputs = "workspace=pr-2\\npr-number=2\\nfailure-reason<<EOF_1\\nstate-locked\\nEOF_1\\n"
    run = _run(make_runner, job_env, {}, FAKE_OUTPUTS=outputs, FAKE_EXIT="1")
    step = run.step("run")
    assert (step.outcome, step.exit_code) == ("failure", 1)
    assert run.outputs["failure-reason"] == "state-locked"
    assert run.outputs["workspace"] == "pr-2"
    assert run.outputs["url"] == ""


CONCURRENCY = f"input 'concurrency' must be a whole number from {MIN_CONCURRENCY} to {MAX_CONCURRENCY}"


def test_the_concurrency_limits_are_prenvs() -> None:
    """One rule (prenv.core.limits): the CLI option, the configuration, and the action's check and
    description (bash cannot import it, so this holds them to it)."""
    option = next(p for p in cli.cleanup.params if p.name == "concurrency")
    assert isinstance(option.type, click.IntRange)
    assert (option.type.min, option.type.max) == (MIN_CONCURRENCY, MAX_CONCURRENCY)
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    description = " ".join(action["inputs"]["concurrency"]["description"].split())
    assert f"a whole number from {MIN_CONCURRENCY} to {MAX_CONCURRENCY}." in description
    script = next(step["run"] for step in action["runs"]["steps"] if step.get("id") == "run")
    assert f'[ "$INPUT_CONCURRENCY" -gt {MAX_CONCURRENCY} ]' in script
    assert MIN_CONCURRENCY == 1  # the check's pattern ^[1-9][0-9]?$ starts at 1 (and ends at 99)
    assert CONCURRENCY in script
    with pytest.raises(ConfigError, match=f"must be between {MIN_CONCURRENCY} and {MAX_CONCURRENCY}"):
        parse(f"backend: {{bucket: b, region: r}}\ncleanup: {{concurrency: {MAX_CONCURRENCY + 1}}}\n")


def test_cleanups_outputs_become_the_action_outputs(make_runner: MakeRunner, job_env: dict[str, str]) -> None:
    # What prenv cleanup writes (prenv/commands/cleanup_report.py).
    outputs = "previews=5\\ndestroyed=2\\nwarned=1\\nstale-locks=1\\norphans=3\\nfailure-reason=\\n"
    run = _run(make_runner, job_env, {"command": "cleanup"}, FAKE_OUTPUTS=outputs)
    assert run.failed is None, run.failed
    wanted = {"previews": "5", "destroyed": "2", "warned": "1", "stale-locks": "1", "orphans": "3"}
    assert {name: run.outputs[name] for name in wanted} == wanted
    assert run.outputs["failure-reason"] == ""


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"command": "explode"}, "input 'command' must be deploy, plan, destroy, wake, cleanup or image"),
        ({"command": "cleanup", "dry-run": "maybe"}, "input 'dry-run' must be true or false"),
        ({"verbose": "yes"}, "input 'verbose' must be true or false"),
        ({"command": "cleanup", "delete-orphans": "yes"}, "input 'delete-orphans' must be true or false"),
        ({"command": "cleanup", "concurrency": "0"}, CONCURRENCY),
        ({"command": "cleanup", "concurrency": "33"}, CONCURRENCY),
        ({"command": "cleanup", "concurrency": "04"}, CONCURRENCY),
        ({"command": "cleanup", "concurrency": "four"}, CONCURRENCY),
        ({"command": "cleanup", "concurrency": "4 --delete-orphans"}, CONCURRENCY),
    ],
)
def test_bad_inputs_fail_with_bad_usage_before_prenv_runs(
    make_runner: MakeRunner, job_env: dict[str, str], log: Path, inputs: dict[str, str], message: str
) -> None:
    run = _run(make_runner, job_env, inputs)
    step = run.step("run")
    assert (step.outcome, step.exit_code) == ("failure", 2)
    assert f"::error title=prenv failed (bad-usage)::{message}" in step.stdout
    assert run.outputs["failure-reason"] == "bad-usage"
    assert not (log / "args").exists()


def test_steps_after_a_failure_do_not_run(make_runner: MakeRunner, job_env: dict[str, str]) -> None:
    runner = make_runner(
        "pull_request",
        "pull_request.opened",
        env={**job_env, "PATH": "/usr/bin:/bin"},
        uses={"python": lambda _w: {"python-path": "/nonexistent/python3"}},
    )
    run = runner.run({})
    assert run.step("prepare").outcome == "failure"
    assert "::error title=prenv::prenv needs Python 3.11 or newer" in run.step("prepare").stdout
    assert {s.id: s.outcome for s in run.steps[2:]} == {
        "venv-cache": "skipped",
        "install": "skipped",
        "__4": "skipped",
        "__5": "skipped",
        "run": "skipped",
    }


# --- installing prenv -------------------------------------------------------------------------------

STUB_PYTHON = """#!/usr/bin/env bash
# Stands in for python3: records `-m venv` and the venv's `-m pip install`, runs everything else for real.
if [ "${1:-}" = "-m" ] && [ "${2:-}" = "venv" ]; then
  printf 'venv %s\\n' "$3" >>"$FAKE_LOG/install"
  mkdir -p "$3/bin"
  cat >"$3/bin/python" <<'EOF'
#!/usr/bin/env bash
if [ "${1:-}" = "-m" ] && [ "${2:-}" = "pip" ]; then
  source_dir="${@: -1}"
  printf 'pip %s\\n' "$*" >>"$FAKE_LOG/install"
  (cd "$source_dir" && find . -maxdepth 1 -mindepth 1 | sort) >>"$FAKE_LOG/install"
  printf '#!/usr/bin/env bash\\necho "prenv, version PRENV_VERSION"\\n' >"$(dirname "$0")/prenv"
  chmod +x "$(dirname "$0")/prenv"
  exit 0
fi
exit 1
EOF
  chmod +x "$3/bin/python"
  exit 0
fi
exec REAL_PYTHON "$@"
"""


def test_install_builds_the_environment_once_and_reuses_it(
    make_runner: MakeRunner, job_env: dict[str, str], log: Path, tmp_path: Path
) -> None:
    stub = tmp_path / "stub-bin"
    _executable(
        stub / "python3",
        STUB_PYTHON.replace("REAL_PYTHON", sys.executable).replace("PRENV_VERSION", prenv.__version__),
    )
    env = {**job_env, "PATH": f"{stub}{os.pathsep}{job_env['PATH']}"}
    action = copy_action(tmp_path / "action")
    # No setup-python and no cache hit: the install step has to build the environment.
    runner = make_runner("pull_request", "pull_request.opened", env=env, action_file=action)
    venv = tmp_path / "runner-temp" / "prenv-venv"

    first = runner.run({"python-version": ""}, stop_after="install")
    assert first.failed is None, first.failed
    assert first.step("prepare").outputs["python"] == str(stub / "python3")
    lines = (log / "install").read_text().splitlines()
    assert lines[0] == f"venv {venv}"
    assert lines[1].startswith("pip -m pip install --disable-pip-version-check --no-input --quiet /")
    source = lines[1].rsplit(" ", 1)[1]
    assert not source.startswith(str(action.parent))  # built from a copy, not in the action's folder
    assert {"./prenv", "./pyproject.toml", "./terraform"} <= set(lines[2:])
    assert (venv / ".prenv-key").read_text().strip() == first.step("prepare").outputs["venv-key"]
    assert first.step("install").outputs["prenv"] == str(venv / "bin" / "prenv")
    assert not Path(source).exists()

    again = runner.run({"python-version": ""}, stop_after="install")
    assert again.failed is None, again.failed
    assert "prenv: using the environment at" in again.step("install").stdout
    assert (log / "install").read_text().splitlines() == lines  # nothing installed again

    # An environment under this very key that runs another prenv (a tampered cache) is refused.
    real = (venv / "bin" / "prenv").read_text()
    (venv / "bin" / "prenv").write_text('#!/usr/bin/env bash\necho "prenv, version 0.0.1"\n')
    tampered = runner.run({"python-version": ""}, stop_after="install")
    assert tampered.step("install").outcome == "failure"
    assert (
        f"::error title=prenv::the environment at {venv} runs 'prenv, version 0.0.1', this action is "
        f"prenv {prenv.__version__}"
    ) in tampered.step("install").stdout
    (venv / "bin" / "prenv").write_text(real)

    (venv / ".prenv-key").write_text("prenv-venv-of-another-version\n")
    stale = runner.run({"python-version": ""}, stop_after="install")
    assert stale.failed is None, stale.failed
    assert (log / "install").read_text().splitlines().count(f"venv {venv}") == 2


# --- Terraform ----------------------------------------------------------------------------------------


def _installed_terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        return ""
    out = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, check=True).stdout
    return str(json.loads(out)["terraform_version"])


INSTALLED = _installed_terraform()
MAJOR, MINOR, _PATCH = (INSTALLED or "0.0.0").split(".", 2)


@pytest.mark.skipif(not INSTALLED, reason="needs terraform on PATH")
@pytest.mark.parametrize(
    ("wanted", "setup"),
    [
        (INSTALLED, "false"),
        (f"{MAJOR}.{MINOR}", "false"),  # any patch release of that minor version
        ("", "false"),  # any installed Terraform
        ("0.12.31", "true"),
        (f"{MAJOR}.{MINOR}9", "true"),  # a prefix of the version that is not a version of it
    ],
)
def test_terraform_is_installed_only_when_the_version_differs(
    make_runner: MakeRunner, job_env: dict[str, str], wanted: str, setup: str
) -> None:
    runner = make_runner("pull_request", "pull_request.opened", env=job_env, uses={"python": PYTHON_STEP})
    run = runner.run({"terraform-version": wanted}, stop_after="prepare")
    outputs = run.step("prepare").outputs
    assert outputs["terraform-found"] == INSTALLED
    assert outputs["terraform-setup"] == setup


def test_terraform_is_installed_when_missing(make_runner: MakeRunner, job_env: dict[str, str]) -> None:
    path = "/usr/bin:/bin"
    if shutil.which("terraform", path=path):
        pytest.skip("terraform is installed in /usr/bin or /bin here")
    runner = make_runner(
        "pull_request", "pull_request.opened", env={**job_env, "PATH": path}, uses={"python": PYTHON_STEP}
    )
    run = runner.run({}, stop_after="prepare")
    outputs = run.step("prepare").outputs
    assert (outputs["terraform-found"], outputs["terraform-setup"]) == ("", "true")


def test_the_provider_cache_key_follows_the_lock_files(
    make_runner: MakeRunner, job_env: dict[str, str], tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    runner = make_runner("pull_request", "pull_request.opened", env=job_env, uses={"python": PYTHON_STEP})

    def key() -> str:
        return runner.run({}, stop_after="prepare").step("prepare").outputs["plugin-key"]

    lock = workspace / "terraform" / "preview" / ".terraform.lock.hcl"
    lock.parent.mkdir(parents=True)
    lock.write_text('provider "registry.terraform.io/hashicorp/aws" { version = "5.100.0" }\n')
    first = key()
    assert first.startswith("prenv-terraform-plugins-Linux-X64-")
    assert key() == first
    inner = workspace / "terraform" / "preview" / ".terraform" / "modules" / ".terraform.lock.hcl"
    inner.parent.mkdir(parents=True)
    inner.write_text("ignored: inside .terraform\n")
    assert key() == first
    lock.write_text('provider "registry.terraform.io/hashicorp/aws" { version = "5.101.0" }\n')
    assert key() != first
