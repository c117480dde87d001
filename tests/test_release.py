"""The version is written once and everything that names a release agrees with it: `prenv --version`,
the package's metadata, the changelog's newest entry, and the release the docs tell users to pin."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version

import prenv
from tests.helpers import REPO_ROOT

TAG = f"v{prenv.__version__}"


def test_the_version_is_one_semantic_version_read_everywhere() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", prenv.__version__)
    assert version("prenv") == prenv.__version__  # pyproject.toml reads prenv.__version__
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'version = { attr = "prenv.__version__" }' in pyproject
    assert not re.search(r"^version\s*=\s*\"", pyproject, re.M)
    done = subprocess.run(
        [sys.executable, "-m", "prenv", "--version"], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout) == (0, f"prenv, version {prenv.__version__}\n")


def test_the_changelog_starts_with_this_version() -> None:
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\d+\.\d+\.\d+)\b", text, re.M)
    assert headings, "CHANGELOG.md has no release heading"
    assert headings[0] == prenv.__version__
    assert len(headings) == len(set(headings))


def test_the_docs_pin_this_release() -> None:
    """Every release the docs name (install, `uses:` pins, module sources, tag commands) is this one."""
    for name in ("docs/setup.md", "README.md"):
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        tags = set(re.findall(r"(?<![\w.])v\d+\.\d+\.\d+\b", text))
        assert tags <= {TAG}, f"{name} names {sorted(tags - {TAG})}, this release is {TAG}"
    setup = (REPO_ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    assert f"uses: OWNER/prenv@<40-hex commit of {TAG}> # {TAG}" in setup
    assert f'pip install "git+https://github.com/OWNER/prenv@{TAG}"' in setup
    assert f"//terraform/preview?ref={TAG}" in setup
