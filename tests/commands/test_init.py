"""`prenv init`: what it writes, that it asks nothing it can find out, that it never overwrites without
--force, that a second run changes nothing, that its workflows pass the workflow gates, and its errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import prenv
from prenv.commands import wiring
from prenv.core.config import load
from prenv.core.onboarding import Answers, config_text
from tests.action.runner import BASH
from tests.helpers import REPO_ROOT, CliResult, run_cli

GIT = shutil.which("git") or "git"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPOSITORY = "octo-org/shop"
WORKFLOWS = ("preview.yml", "cleanup.yml", "fork-notice.yml")
FLAGS = ["--bucket", "shop-tfstate", "--region", "eu-west-1", "--action-ref", COMMIT]


def _repo(tmp_path: Path, *, dockerfile: bool = True) -> Path:
    repo = tmp_path / "shop"
    repo.mkdir()
    subprocess.run([GIT, "init", "-q", str(repo)], check=True)
    subprocess.run(
        [GIT, "-C", str(repo), "remote", "add", "origin", f"git@github.com:{REPOSITORY}.git"], check=True
    )
    if dockerfile:
        (repo / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    return repo


def _env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home")}


def _init(repo: Path, tmp_path: Path, *args: str) -> CliResult:
    return run_cli(["init", *args], env=_env(tmp_path), cwd=repo)


def test_init_writes_the_config_and_prenvs_own_workflows_pinned_to_the_release(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = _init(repo, tmp_path, *FLAGS, "--port", "3000", "--health-path", "/up", "--label", "preview")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "prenv init: wrote .github/prenv.yml",
        "prenv init: wrote .github/workflows/preview.yml",
        "prenv init: wrote .github/workflows/cleanup.yml",
        "prenv init: wrote .github/workflows/fork-notice.yml",
    ]
    config = load(str(repo / ".github" / "prenv.yml"))  # prenv's own loader accepts it
    assert (config.backend.bucket, config.backend.region) == ("shop-tfstate", "eu-west-1")
    assert (config.app.port, config.app.health_path, config.label) == (3000, "/up", "preview")
    assert (config.build.context, config.build.dockerfile) == (".", "")  # the Dockerfile at the root
    pinned = f"uses: OWNER/prenv@{COMMIT} # v{prenv.__version__}"
    for name in WORKFLOWS:
        written = (repo / ".github" / "workflows" / name).read_text(encoding="utf-8")
        source = (REPO_ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
        # One definition: prenv's own workflow, with only its `uses: ./` lines pinned.
        assert written == re.sub(r"uses: \./$", pinned, source, flags=re.M)
        assert "uses: ./" not in written


def test_init_twice_changes_nothing_and_says_so(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert _init(repo, tmp_path, *FLAGS, "--port", "3000").exit_code == 0
    before = {p: p.read_bytes() for p in (repo / ".github").rglob("*") if p.is_file()}
    # The second run is given nothing: the existing config answers what the flags did.
    again = _init(repo, tmp_path, "--action-ref", COMMIT)
    assert again.exit_code == 0, again.stderr
    assert {p: p.read_bytes() for p in (repo / ".github").rglob("*") if p.is_file()} == before
    assert again.stdout.splitlines()[-1] == (
        "prenv init: nothing changed: every file already says what prenv init writes"
    )
    assert "prenv init: unchanged .github/prenv.yml" in again.stdout


def test_init_never_overwrites_a_differing_file_without_force(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".github" / "workflows").mkdir(parents=True)
    mine = repo / ".github" / "workflows" / "cleanup.yml"
    mine.write_text("name: mine\n", encoding="utf-8")
    result = _init(repo, tmp_path, *FLAGS)
    assert result.exit_code == 2
    assert mine.read_text(encoding="utf-8") == "name: mine\n"
    assert "prenv init: kept .github/workflows/cleanup.yml (it differs from what prenv init writes)" in (
        result.stdout
    )
    assert result.last_error_line == (
        "prenv: 1 file(s) exist and differ: .github/workflows/cleanup.yml; nothing of theirs was changed "
        "[bad-usage]; pass --force to overwrite them (read `git diff` afterwards), or edit them yourself"
    )
    forced = _init(repo, tmp_path, *FLAGS, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "prenv init: wrote .github/workflows/cleanup.yml" in forced.stdout
    assert "uses: OWNER/prenv@" in mine.read_text(encoding="utf-8")


def test_init_reads_the_bucket_and_region_prenv_setup_kept(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    env = _env(tmp_path)
    record = wiring.setup_record_path(wiring.read_environment(env), REPOSITORY)
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"bucket": "prenv-abc123-tfstate-1", "region": "us-west-2"}), "utf-8")
    result = run_cli(["init", "--action-ref", COMMIT], env=env, cwd=repo)
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load((repo / ".github" / "prenv.yml").read_text(encoding="utf-8"))
    assert document["backend"] == {"bucket": "prenv-abc123-tfstate-1", "region": "us-west-2"}
    assert document["app"] == {"port": 8080, "health_path": "/healthz"}  # the contract's defaults


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--action-ref", COMMIT],
            "prenv: prenv init cannot find the state bucket's name [bad-usage]; run prenv setup first "
            "(init reads its outputs), or pass --bucket and --region",
        ),
        (
            [*FLAGS[:4], "--action-ref", "v0.1.0"],
            "prenv: --action-ref must be the 40-hex commit of the release (v-tag), not 'v0.1.0': "
            "workflows pin actions by commit [bad-usage]",
        ),
        (
            [*FLAGS, "--region", "Europe"],
            "prenv: --region must be an AWS region such as us-east-1, not 'Europe' [bad-usage]",
        ),
        (
            [*FLAGS, "--port", "70000"],
            "prenv: --port must be a TCP port (1-65535), not 70000 [bad-usage]",
        ),
        (
            [*FLAGS, "--health-path", "healthz"],
            "prenv: --health-path must be a URL path starting with '/', such as /healthz, not 'healthz' "
            "[bad-usage]",
        ),
        (
            [*FLAGS, "--context", "../elsewhere"],
            "prenv: --context must be a path inside the repository, such as . or app/, not '../elsewhere' "
            "[bad-usage]",
        ),
        (
            [*FLAGS, "--label", 'pre"view'],
            "prenv: --label must be a GitHub label name of at most 50 characters without quotes or '#', "
            "not 'pre\"view' [bad-usage]",
        ),
        (
            [*FLAGS, "--action", "not-a-repository"],
            "prenv: --action must be OWNER/NAME, not 'not-a-repository' [bad-usage]",
        ),
        (
            [*FLAGS, "--bucket", "Shop_State"],
            "prenv: --bucket must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-'), "
            "not 'Shop_State' [bad-usage]",
        ),
    ],
)
def test_bad_input_is_refused_with_what_to_do(tmp_path: Path, args: list[str], line: str) -> None:
    repo = _repo(tmp_path)
    result = _init(repo, tmp_path, *args)
    assert (result.exit_code, result.last_error_line) == (2, line)
    assert not (repo / ".github").exists()  # nothing written


def test_without_the_release_commit_init_says_how_to_give_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    env = {**_env(tmp_path), "PATH": str(tmp_path / "no-git")}  # no git: the tag cannot be looked up
    result = run_cli(["init", *FLAGS[:4]], env=env, cwd=repo)
    assert result.exit_code == 2
    assert result.last_error_line == (
        f"prenv: cannot find the commit of OWNER/prenv@v{prenv.__version__} (the release the workflows pin) "
        f"[bad-usage]; pass --action-ref <40-hex commit of v{prenv.__version__}> (and --action OWNER/NAME "
        "for a fork of prenv)"
    )


def test_the_documented_config_is_what_init_writes() -> None:
    """docs/setup.md shows init's config for its example answers (so the two never drift)."""
    setup = (REPO_ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- init-config:start[^>]*-->\n```yaml\n(.*?)```\n<!-- init-config:end -->", setup, re.S
    )
    assert match, "docs/setup.md has no init-config block"
    example = config_text(Answers(bucket="prenv-0a1b2c-tfstate-123456789012", region="us-east-1"))
    assert match.group(1) == example


def test_inits_workflows_pass_the_workflow_gates(tmp_path: Path) -> None:
    """zizmor (offline), GitHub's workflow schema and the SHA pins, as scripts/gates.sh runs them."""
    repo = _repo(tmp_path)
    assert _init(repo, tmp_path, *FLAGS, "--label", "preview").exit_code == 0
    # The pins this repository checks, and the one init wrote: the release of prenv.
    pins = tmp_path / "pins.txt"
    release = f"OWNER/prenv@v{prenv.__version__} -> {COMMIT} | prenv init's pin of the installed release\n"
    pins.write_text((REPO_ROOT / "scripts" / "pins.txt").read_text(encoding="utf-8") + release, "utf-8")
    done = subprocess.run(
        [BASH, str(REPO_ROOT / "scripts" / "gates.sh"), str(repo / ".github" / "workflows"), "action.yml"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHON": sys.executable, "CI": "true", "PINS": str(pins)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "-- zizmor: ok" in done.stdout
    assert "-- check-jsonschema (workflows): ok" in done.stdout
    assert "-- pinned actions: ok" in done.stdout
    assert done.stdout.rstrip().endswith("gates: all passed")
