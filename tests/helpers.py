"""Helpers shared by the tests: the in-process CLI runner and config writing."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from prenv import cli
from prenv.commands import wiring
from prenv.commands.wiring import Services, Target
from prenv.core.domain import Command

REPO_ROOT = Path(__file__).resolve().parent.parent
LIGHT_ROOT = REPO_ROOT / "prenv" / "sandbox" / "example_root"
GITHUB_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "github"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def last_error_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.startswith("prenv:")]
        return lines[-1] if lines else ""


def run_cli(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, **services: Any) -> CliResult:
    """Run `prenv <argv>` in this process, as the console script would, and capture everything."""
    out, err = io.StringIO(), io.StringIO()
    svc = Services(env=dict(env), out=out, err=err, cwd=cwd, **services)
    code = cli.main(list(argv), services=svc)
    return CliResult(code, out.getvalue(), err.getvalue())


def read_outputs(path: Path) -> dict[str, str]:
    """The step outputs in a GITHUB_OUTPUT file (heredoc delimiters); a later value of a name wins."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        name, _, delimiter = lines[i].partition("<<")
        end = lines.index(delimiter, i + 1)
        values[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return values


def deploy_target(services: Services, pr_option: str | None = None) -> Target:
    """The target `prenv deploy` works out (config, PR, names, context completed from GitHub)."""
    job = wiring.invocation(services, pr_option)
    return wiring.target(job.ports, job.config, Command.DEPLOY, job.number, job.event)


def write_config(directory: Path, document: Mapping[str, Any]) -> Path:
    path = directory / ".github" / "prenv.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(document), sort_keys=False), encoding="utf-8")
    return path


def copy_root(source: Path, directory: Path) -> Path:
    """A private copy of a Terraform root, so .terraform directories of tests never mix."""
    target = directory / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "__pycache__"))
    return target


def light_config(bucket: str, root: Path, **extra: Any) -> dict[str, Any]:
    """A config for the light example root against the emulator's `bucket`."""
    document: dict[str, Any] = {
        "backend": {"bucket": bucket, "region": "us-east-1"},
        "terraform": {"root": str(root), "lock_timeout": "5s"},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value
    return document


# Arguments that say what a Terraform call does (the rest are paths and settings).
_MEANINGFUL_FLAGS = ("-json", "-or-create", "-auto-approve", "-destroy")


@dataclass(frozen=True)
class TerraformCall:
    """One call of Terraform, as `recording_terraform`'s wrapper logged it."""

    start: float
    end: float
    cpu: float  # user + system CPU seconds of Terraform and the processes it waited for (providers)
    workspace: str  # TF_WORKSPACE of the call ("" when unset or empty)
    args: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def command(self) -> str:
        """`plan`, `show -json`, `workspace select -or-create pr-3`: no paths, no settings."""
        return " ".join(
            a for a in self.args if (a in _MEANINGFUL_FLAGS or not a.startswith("-")) and "/" not in a
        )


def recording_terraform(directory: Path, terraform: str) -> tuple[Path, Path]:
    """A wrapper of the `terraform` executable (for PRENV_TERRAFORM) that logs every call it passes on:
    start and end time, CPU time (bash's `times`: the wrapper's children), TF_WORKSPACE and the arguments,
    one line per call (`terraform_calls` reads it). Returns the wrapper and its log."""
    directory.mkdir(parents=True, exist_ok=True)
    wrapper, log = directory / "terraform", directory / "terraform-calls.log"
    log.touch()
    # One printf per line: calls of concurrent runs append whole lines.
    wrapper.write_text(
        "#!/usr/bin/env bash\n"
        "start=$EPOCHREALTIME\n"
        f'"{terraform}" "$@"\n'
        "status=$?\n"
        "end=$EPOCHREALTIME\n"
        # `times`: the shell's CPU, then its children's (user, system), as in `0m1.250s 0m0.130s`.
        f'times > "{log}.$$"\n'
        f'{{ read -r _; read -r user system; }} < "{log}.$$"\n'
        f'rm -f "{log}.$$"\n'
        "tab=$'\\t'\n"
        'line="$start$tab$end$tab$user $system$tab${TF_WORKSPACE-}"\n'
        'for arg in "$@"; do line+="$tab$arg"; done\n'
        f"printf '%s\\n' \"$line\" >> '{log}'\n"
        'exit "$status"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return wrapper, log


def terraform_calls(log: Path, *, since: int = 0) -> list[TerraformCall]:
    """The calls `recording_terraform`'s wrapper logged, from the `since`-th on, in the order they ended."""
    calls = []
    for line in log.read_text(encoding="utf-8").splitlines()[since:]:
        start, end, cpu, workspace, *args = line.split("\t")
        seconds = sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", cpu))
        calls.append(TerraformCall(float(start), float(end), seconds, workspace, tuple(args)))
    return calls
