"""The Terraform roots and workflows shipped with prenv: where their files are, and the working copy
Terraform runs in.

The roots are terraform/preview, terraform/bootstrap and terraform/base of prenv's sources (`prenv
deploy` runs the first, `prenv setup` the other two). A built package carries each as `prenv/bundled/
<name>` (pyproject.toml maps the folders into the package); a source checkout (an editable install, the
action's own files) has them at `terraform/<name>` beside `prenv/`. Either way there is one copy. The
workflows `prenv init` writes are this repository's own .github/workflows files, shipped the same way
as `prenv/bundled/workflows`.

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
from prenv.core.errors import FailureReason, PrenvError
from prenv.engine.terraform import TerraformError

_PACKAGE_DIR = Path(prenv.__file__).resolve().parent
# The files of each root, as pyproject.toml's package-data lists them.
ROOTS: dict[str, tuple[str, ...]] = {
    "preview": ("*.tf", "sql/*"),
    "bootstrap": ("*.tf",),
    "base": ("*.tf",),
}
PATTERNS = ROOTS["preview"]
# The workflows `prenv init` writes, as pyproject.toml's package-data lists them.
WORKFLOWS = ("preview.yml", "cleanup.yml", "fork-notice.yml")
MARKER = ".prenv-bundled"  # written last into a complete working copy


def source_dirs(package_dir: Path = _PACKAGE_DIR, name: str = "preview") -> tuple[Path, ...]:
    """Where the shipped root `name` may be, in order: inside the built package, then a source checkout."""
    return (package_dir / "bundled" / name, package_dir.parent / "terraform" / name)


def source(package_dir: Path = _PACKAGE_DIR, name: str = "preview") -> Path:
    """The directory holding the shipped root's files (`name`: preview, bootstrap or base)."""
    for candidate in source_dirs(package_dir, name):
        if (candidate / "versions.tf").is_file():
            return candidate
    looked = ", ".join(map(str, source_dirs(package_dir, name)))
    raise TerraformError(
        f"the {name} root shipped with prenv is missing (looked in {looked})",
        reason=FailureReason.INIT_FAILED,
        hint=f"reinstall prenv (its package carries terraform/{name})"
        + (", or set terraform.root in the config" if name == "preview" else ""),
    )


def workflows_source(package_dir: Path = _PACKAGE_DIR) -> Path:
    """The directory holding the workflows `prenv init` writes: inside the package, else the checkout's."""
    candidates = (package_dir / "bundled" / "workflows", package_dir.parent / ".github" / "workflows")
    for candidate in candidates:
        if all((candidate / name).is_file() for name in WORKFLOWS):
            return candidate
    raise PrenvError(
        f"the workflows shipped with prenv are missing (looked in {', '.join(map(str, candidates))})",
        reason=FailureReason.UNEXPECTED,
        hint="reinstall prenv (its package carries .github/workflows)",
    )


def files(root: Path, patterns: tuple[str, ...] = PATTERNS) -> list[Path]:
    """The root's files (`patterns`), relative to it, sorted."""
    found = {path.relative_to(root) for pattern in patterns for path in root.glob(pattern) if path.is_file()}
    return sorted(found)


def copy_files(origin: Path, target: Path, patterns: tuple[str, ...] = PATTERNS) -> None:
    """Copy the root's files (`patterns`) from `origin` into `target`."""
    for relative in files(origin, patterns):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin / relative, target / relative)


def digest(root: Path, patterns: tuple[str, ...] = PATTERNS) -> str:
    """A hash of the root's file names and contents."""
    hashed = hashlib.sha256()
    for relative in files(root, patterns):
        hashed.update(relative.as_posix().encode() + b"\0" + (root / relative).read_bytes() + b"\0")
    return hashed.hexdigest()


def working_copy(cache_dir: Path, root: Path | None = None, name: str = "preview") -> Path:
    """A copy of the shipped root `name` (or `root`) under `cache_dir` that Terraform may write into.

    Made once per version and content: concurrent runs each build a private copy and rename it into
    place; the first rename wins and the others use it.
    """
    origin = root or source(name=name)
    patterns = ROOTS[name]
    target = cache_dir / f"{name}-{prenv.__version__}-{digest(origin, patterns)[:16]}"
    if (target / MARKER).is_file():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
        copy_files(origin, scratch, patterns)
        (scratch / MARKER).write_text(f"prenv {prenv.__version__}: a copy of {origin}\n", encoding="utf-8")
        try:
            os.rename(scratch, target)
        except OSError:  # another run put its copy there first
            shutil.rmtree(scratch, ignore_errors=True)
    except OSError as exc:
        raise TerraformError(
            f"cannot copy the {name} root shipped with prenv into {cache_dir}: {exc}",
            reason=FailureReason.INIT_FAILED,
            hint="make the cache directory writable (XDG_CACHE_HOME), or set terraform.root in the config",
        ) from None
    if not (target / MARKER).is_file():
        raise TerraformError(
            f"{target} exists but is not a complete copy of the {name} root shipped with prenv",
            reason=FailureReason.INIT_FAILED,
            hint=f"remove {target} and run prenv again",
        )
    return target
