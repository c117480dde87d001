"""`prenv sandbox` runs the whole lifecycle to its end against its own embedded emulator, and talks:
a line per step, progress while Terraform works, a compact summary, each stage's comment in a file."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from prenv import cli
from prenv.commands.wiring import Services
from prenv.core.mask import ZWJ
from tests.helpers import LIGHT_ROOT, REPO_ROOT

pytestmark = pytest.mark.terraform

# The bounds: about 60 lines by default, never 15 s without a line while Terraform works.
MAX_LINES = 60
MAX_GAP = 15.0


class TimedStream(io.StringIO):
    """A terminal that records when each line reached it (the test's own clock, not a wall-clock bound)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def write(self, text: str) -> int:
        self.times += [time.monotonic()] * text.count("\n")
        return super().write(text)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    times: list[float]

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def max_gap(self) -> float:
        return max((b - a for a, b in zip(self.times, self.times[1:], strict=False)), default=0.0)


def sandbox(argv: list[str], cwd: Path) -> Run:
    # A developer's shell: no AWS account, no GitHub token. The sandbox finds the provider mirror itself.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    out, err = TimedStream(), io.StringIO()
    code = cli.main(["sandbox", *argv], services=Services(env=env, out=out, err=err, cwd=cwd))
    return Run(code, out.getvalue(), err.getvalue(), out.times)


def test_sandbox_with_the_example_root(tmp_path: Path) -> None:
    (tmp_path / "prenv-sandbox-comments").mkdir()
    (tmp_path / "prenv-sandbox-comments" / "9-ready.md").write_text("an earlier run's")
    result = sandbox(["--pr", "5"], tmp_path)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("prenv sandbox: AWS is EMULATED by moto on http://127.0.0.1:")
    assert "Terraform root: the example root shipped with prenv" in out
    steps = [
        out.index(marker)
        for marker in (
            "[1/3] prenv deploy --pr 5",
            "plan: 3 to add, 0 to change, 0 to destroy",
            "applied: 3 to add, 0 to change, 0 to destroy",
            "URL: http://prenv-",
            "[2/3] prenv deploy --pr 5",
            "no changes: nothing was applied",
            "[3/3] prenv destroy --pr 5",
            "destroyed 3 resource(s); workspace pr-5 deleted",
            "state of workspace pr-5 is gone",
            "sandbox lifecycle complete",
        )
    ]
    assert steps == sorted(steps)
    # Every step line says how long the sandbox has run; the URL says it is the emulator's.
    assert all(re.match(r"^\[ *\d+(m\d\ds)?s?\] ", line) for line in result.lines if line.startswith("["))
    assert re.search(r"URL: http://\S+ \(emulated by moto: nothing answers at this address\)", out)
    # A compact summary: the outputs by name (the sensitive one never shown), no plan, no comment body.
    assert "outputs: " in out
    assert "image_parameter_arn (sensitive)" in out
    assert "arn:aws:ssm" not in out
    assert "Terraform will perform the following actions" not in out
    assert '<!-- prenv {"v":1' not in out
    assert len(result.lines) <= MAX_LINES, out
    assert result.max_gap() < MAX_GAP, out

    # Each stage's comment in its own file, in order; the earlier run's file is gone.
    directory = tmp_path / "prenv-sandbox-comments"
    files = sorted(directory.iterdir(), key=lambda p: int(p.name.split("-")[0]))
    assert [p.name for p in files] == [
        "1-deploying.md",
        "2-ready.md",
        "3-deploying.md",
        "4-no-changes.md",
        "5-destroyed.md",
    ]
    assert "is ready" in (directory / "2-ready.md").read_text()
    assert "destroyed" in (directory / "5-destroyed.md").read_text()
    for path in files:
        assert path.read_text().startswith('<!-- prenv {"v":1')
        state = path.stem.split("-", 1)[1].replace("-", " ")
        assert (f"comment ({state}): {path} (" in out) is (state != "deploying")  # "deploying": no news
    # The URL in the comment copies as itself: no invisible character in the link text.
    ready = (directory / "2-ready.md").read_text()
    url = re.search(r"\*\*Preview: \[(.*?)\]\((http://[^)]+)\)\*\*", ready)
    assert url is not None
    assert ZWJ not in url.group(1)


def test_sandbox_verbose_shows_everything(tmp_path: Path) -> None:
    result = sandbox(["--pr", "8", "--verbose", "--comments", "out"], tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Terraform will perform the following actions" in result.stdout  # the plan
    assert "output image_parameter_arn = (sensitive value)" in result.stdout
    assert "The PR comment prenv would post (ready, also in " in result.stdout
    assert "--- terraform apply" in result.stderr  # Terraform's own output
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[0] == "1-deploying.md"


# A resource Terraform works on for 25 s, printing only its own "Still creating..." lines meanwhile.
SLOW = """
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 25"
  }
}
"""


@pytest.mark.slow
def test_a_long_terraform_step_is_never_silent_for_15_seconds(tmp_path: Path) -> None:
    root = tmp_path / "slow-root"
    shutil.copytree(LIGHT_ROOT, root, ignore=shutil.ignore_patterns(".terraform*", "__pycache__"))
    (root / "slow.tf").write_text(SLOW)
    result = sandbox(["--pr", "9", "--root", str(root)], tmp_path)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"terraform apply: applying for \d+s; \d+ resources? done", result.stdout)
    assert result.max_gap() < MAX_GAP, result.stdout
    assert len(result.lines) <= MAX_LINES, result.stdout


@pytest.mark.slow
def test_sandbox_with_the_repository_stack(tmp_path: Path) -> None:
    if not (REPO_ROOT / "terraform" / "preview").is_dir():
        pytest.skip("terraform/preview does not exist yet")
    result = sandbox(["--pr", "6", "--comments", str(tmp_path / "comments")], REPO_ROOT)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "base (base), applied once" in out
    assert "Terraform root: " + str(REPO_ROOT / "terraform" / "preview") in out
    assert "no changes: nothing was applied" in out
    assert "workspace pr-6 deleted" in out
    assert "sandbox lifecycle complete" in out
    # The issue measured ~800 lines and 90 s of silence here.
    assert len(result.lines) <= MAX_LINES, out
    assert result.max_gap() < MAX_GAP, out
