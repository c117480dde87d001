"""The preview root shipped with prenv: one copy of terraform/preview, in the sources and in the package.

- The built wheel carries exactly terraform/preview's files (pyproject.toml maps the folder into the
  package at build time): a file added to the root and not to the package data fails here.
- The working copy Terraform runs in is made once per content, safely when runs race.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import prenv
from prenv.engine import bundled
from prenv.engine.terraform import TerraformError
from tests.action.conftest import copy_action
from tests.helpers import REPO_ROOT

PREVIEW = REPO_ROOT / "terraform" / "preview"


def test_a_source_checkout_runs_terraform_preview_itself() -> None:
    assert bundled.source() == PREVIEW
    names = {path.as_posix() for path in bundled.files(PREVIEW)}
    assert {"versions.tf", "variables.tf", "main.tf", "ecs.tf", "outputs.tf"} <= names
    assert "README.md" not in names  # documentation, not Terraform


def test_an_installed_package_runs_its_own_copy(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "prenv"
    (package / "bundled" / "preview").mkdir(parents=True)
    (package / "bundled" / "preview" / "versions.tf").write_text("terraform {}\n", encoding="utf-8")
    assert bundled.source(package) == package / "bundled" / "preview"


def test_a_package_without_the_root_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(TerraformError) as info:
        bundled.source(tmp_path / "prenv")
    assert "the preview root shipped with prenv is missing" in str(info.value)
    assert info.value.one_line().endswith(
        "reinstall prenv (its package carries terraform/preview), or set terraform.root in the config"
    )


def _root(folder: Path, text: str) -> Path:
    (folder / "sql").mkdir(parents=True)
    (folder / "versions.tf").write_text(text, encoding="utf-8")
    (folder / "sql" / "create.sql").write_text("select 1;\n", encoding="utf-8")
    (folder / "README.md").write_text("not copied\n", encoding="utf-8")
    return folder


def test_the_working_copy_is_made_once_per_content(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = _root(tmp_path / "root", "terraform {}\n")
    first = bundled.working_copy(cache, root)
    assert first.parent == cache
    assert first.name.startswith(f"preview-{prenv.__version__}-")
    assert sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()) == [
        bundled.MARKER,
        "sql/create.sql",
        "versions.tf",
    ]
    (first / ".terraform").mkdir()  # what Terraform leaves there is kept for the next run
    assert bundled.working_copy(cache, root) == first
    assert (first / ".terraform").is_dir()
    (root / "versions.tf").write_text('terraform { required_version = ">= 1.11" }\n', encoding="utf-8")
    second = bundled.working_copy(cache, root)
    assert second != first
    assert (second / "versions.tf").read_text(encoding="utf-8") == (root / "versions.tf").read_text(
        encoding="utf-8"
    )


def test_racing_runs_share_one_copy(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = _root(tmp_path / "root", "terraform {}\n")
    with ThreadPoolExecutor(max_workers=8) as pool:
        copies = set(pool.map(lambda _: bundled.working_copy(cache, root), range(16)))
    assert len(copies) == 1
    assert [path.name for path in cache.iterdir()] == [copies.pop().name]  # no scratch copy left


def test_an_unwritable_cache_is_a_clear_failure(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    with pytest.raises(TerraformError) as info:
        bundled.working_copy(blocked / "cache", _root(tmp_path / "root", "terraform {}\n"))
    assert info.value.one_line().startswith(
        f"cannot copy the preview root shipped with prenv into {blocked / 'cache'}: "
    )
    assert "make the cache directory writable (XDG_CACHE_HOME)" in info.value.one_line()


def test_the_wheel_carries_terraform_preview(tmp_path: Path) -> None:
    """Build the package as the action's install step does (pip, from a copy of the action's files) and
    compare what it ships with the sources."""
    source = copy_action(tmp_path / "action").parent
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("prenv-*.whl")
    assert wheel.name.startswith(f"prenv-{prenv.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        for root, patterns in bundled.ROOTS.items():  # preview (deploy), bootstrap and base (setup)
            prefix = f"prenv/bundled/{root}/"
            shipped = {
                name.removeprefix(prefix): archive.read(name) for name in names if name.startswith(prefix)
            }
            folder = REPO_ROOT / "terraform" / root
            expected = {
                path.as_posix(): (folder / path).read_bytes() for path in bundled.files(folder, patterns)
            }
            assert sorted(shipped) == sorted(expected), root
            assert shipped == expected, root
        # The workflows `prenv init` writes, and no other (ci.yml is this repository's own).
        prefix = "prenv/bundled/workflows/"
        shipped = {name.removeprefix(prefix): archive.read(name) for name in names if name.startswith(prefix)}
        workflows = REPO_ROOT / ".github" / "workflows"
        assert shipped == {name: (workflows / name).read_bytes() for name in bundled.WORKFLOWS}
