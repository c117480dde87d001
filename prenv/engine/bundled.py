"""The preview root shipped with prenv: where its files are, and the working copy Terraform runs in.

The files are terraform/preview of prenv's sources. A built package carries them as `prenv/bundled/
preview` (pyproject.toml maps the folder into the package); a source checkout (an editable install, the
action's own files) has them at `terraform/preview` beside `prenv/`. Either way there is one copy.

Terraform writes into the root it runs (`.terraform.lock.hcl`, prenv's data directories), and an
installed package may be read-only or shared, so prenv runs a working copy in its cache directory, named
by prenv's version and a hash of the files: a changed file is a new copy, never a stale one, and the copy
(with its provider plugins) is reused by every later run of the same files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import prenv
from prenv.core.errors import FailureReason
from prenv.engine.terraform import TerraformError

_PACKAGE_DIR = Path(prenv.__file__).resolve().parent
# The files of the root, as pyproject.toml's package-data lists them.
PATTERNS = ("*.tf", "sql/*")
MARKER = ".prenv-bundled"  # written last into a complete working copy


def source_dirs(package_dir: Path = _PACKAGE_DIR) -> tuple[Path, ...]:
    """Where the shipped root may be, in order: inside the built package, then a source checkout."""
    return (package_dir / "bundled" / "preview", package_dir.parent / "terraform" / "preview")


def source(package_dir: Path = _PACKAGE_DIR) -> Path:
    """The directory holding the shipped preview root's files."""
    for candidate in source_dirs(package_dir):
        if (candidate / "versions.tf").is_file():
            return candidate
    raise TerraformError(
        f"the preview root shipped with prenv is missing (looked in {', '.join(map(str, source_dirs()))})",
        reason=FailureReason.INIT_FAILED,
        hint="reinstall prenv (its package carries terraform/preview), or set terraform.root in the config",
    )


def files(root: Path) -> list[Path]:
    """The root's files (PATTERNS), relative to it, sorted."""
    found = {path.relative_to(root) for pattern in PATTERNS for path in root.glob(pattern) if path.is_file()}
    return sorted(found)


def digest(root: Path) -> str:
    """A hash of the root's file names and contents."""
    hashed = hashlib.sha256()
    for relative in files(root):
        hashed.update(relative.as_posix().encode() + b"\0" + (root / relative).read_bytes() + b"\0")
    return hashed.hexdigest()


def working_copy(cache_dir: Path, root: Path | None = None) -> Path:
    """A copy of the shipped root (or `root`) under `cache_dir` that Terraform may write into.

    Made once per version and content: concurrent runs each build a private copy and rename it into
    place; the first rename wins and the others use it.
    """
    origin = root or source()
    target = cache_dir / f"preview-{prenv.__version__}-{digest(origin)[:16]}"
    if (target / MARKER).is_file():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".preview-", dir=cache_dir))
        for relative in files(origin):
            (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin / relative, scratch / relative)
        (scratch / MARKER).write_text(f"prenv {prenv.__version__}: a copy of {origin}\n", encoding="utf-8")
        try:
            os.rename(scratch, target)
        except OSError:  # another run put its copy there first
            shutil.rmtree(scratch, ignore_errors=True)
    except OSError as exc:
        raise TerraformError(
            f"cannot copy the preview root shipped with prenv into {cache_dir}: {exc}",
            reason=FailureReason.INIT_FAILED,
            hint="make the cache directory writable (XDG_CACHE_HOME), or set terraform.root in the config",
        ) from None
    if not (target / MARKER).is_file():
        raise TerraformError(
            f"{target} exists but is not a complete copy of the preview root shipped with prenv",
            reason=FailureReason.INIT_FAILED,
            hint=f"remove {target} and run prenv again",
        )
    return target
