"""Which repository a run is about: the config, else GITHUB_REPOSITORY, else the clone's git remote.

Real git in a throwaway clone; the wiring reads the remote, `prenv.core.remote` parses it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core import config as config_mod
from tests.helpers import run_cli, write_config

GIT = shutil.which("git") or "git"


def _clone(folder: Path, *remotes: tuple[str, str]) -> Path:
    folder.mkdir(parents=True)
    subprocess.run([GIT, "init", "-q", str(folder)], check=True)
    for name, url in remotes:
        subprocess.run([GIT, "-C", str(folder), "remote", "add", name, url], check=True)
    return folder


def _repository(folder: Path, env: dict[str, str], config_text: str = "") -> str:
    document = "backend: {bucket: b, region: us-east-1}\n" + config_text
    cfg = config_mod.parse(document, str(folder / ".github" / "prenv.yml"))
    return wiring.build_ports(Services(env=env, cwd=folder), cfg).repository


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "AWS_REGION": "us-east-1"}


def test_a_laptop_clone_names_its_repository_by_its_remote(tmp_path: Path, env: dict[str, str]) -> None:
    folder = _clone(
        tmp_path / "clone",
        ("upstream", "https://github.com/prenv/prenv.git"),
        ("origin", "git@github.com:octo-org/shop.git"),
    )
    assert _repository(folder, env) == "octo-org/shop"
    # The config and GITHUB_REPOSITORY, when set, come first.
    assert _repository(folder, {**env, "GITHUB_REPOSITORY": "octo-org/other"}) == "octo-org/other"
    assert _repository(folder, env, "repository: octo-org/third\n") == "octo-org/third"


def test_without_a_github_remote_the_error_says_what_to_set(tmp_path: Path, env: dict[str, str]) -> None:
    folder = _clone(tmp_path / "clone", ("origin", "/srv/git/shop.git"))
    write_config(folder, {"backend": {"bucket": "b", "region": "us-east-1"}})
    result = run_cli(["status", "12"], env=env, cwd=folder)
    assert result.exit_code == 2
    assert result.last_error_line == (
        f"prenv: {folder / '.github' / 'prenv.yml'}: cannot tell which repository this is "
        "[config-invalid]; set GITHUB_REPOSITORY=owner/name or `repository: owner/name` in the config, "
        "or run prenv in a clone whose remote `origin` is the GitHub repository"
    )


def test_outside_a_clone_nothing_is_found(tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    assert wiring.git_remotes(folder, env["PATH"]) == ""
    assert wiring.git_remotes(folder, str(tmp_path / "no-git-here")) == ""
