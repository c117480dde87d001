"""What the benchmarks share: a repository using the light root, against an embedded moto server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prenv.core.config import Backend, backend_settings
from prenv.sandbox import emulator

ROOT = Path(__file__).resolve().parent.parent
LIGHT = ROOT / "prenv" / "sandbox" / "example_root"
AWS_WAITS = Path(__file__).resolve().parent / "aws_waits"  # `.tf` files: creates and destroys that wait
BUCKET = "bench-state"


def backend_args() -> list[str]:
    """The `-backend-config` arguments a workflow typed by hand passes: prenv's own for the bench's bucket."""
    settings = backend_settings(Backend(bucket=BUCKET, region="us-east-1"), custom_endpoint=True)
    return [f"-backend-config={key}={value}" for key, value in settings.items()]


@dataclass
class Repo:
    env: dict[str, str]  # the environment of a run against the emulator
    path: Path  # the repository: .github/prenv.yml and the light root in `root/`
    work: Path  # scratch space


@contextmanager
def light_repo(config: str, extra: Path | None = None) -> Iterator[Repo]:
    """A repository whose `.github/prenv.yml` is the state bucket plus `config`, with moto running; its
    root is the light root, plus the `.tf` files of the directory `extra`."""
    work = Path(tempfile.mkdtemp(prefix="prenv-bench-"))
    emu = emulator.start_emulator()
    try:
        mirror = emulator.find_provider_mirror(
            os.environ.get("PRENV_PROVIDER_MIRROR", ""), os.environ.get("XDG_DATA_HOME", "")
        )
        env = emu.isolated_environment(dict(os.environ), work / "cli", mirror)
        emulator.create_bucket(emu, BUCKET)
        repo = work / "repo"
        shutil.copytree(LIGHT, repo / "root")
        for tf_file in sorted(extra.glob("*.tf")) if extra else []:
            shutil.copy(tf_file, repo / "root" / tf_file.name)
        (repo / ".github").mkdir(parents=True)
        (repo / ".github" / "prenv.yml").write_text(
            f"backend: {{bucket: {BUCKET}, region: us-east-1}}\n{config}"
        )
        yield Repo(env=env, path=repo, work=work)
    finally:
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)
