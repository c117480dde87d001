"""Runs a composite action's `run:` steps the way the GitHub Actions runner does.

For each step, in order: the `if:` is evaluated (default `success()`); the step's `env:` is rendered
with the expression evaluator (`inputs`, `github`, `steps`, `runner`, `env`); the script is written to a
file and run as `bash --noprofile --norc -e -o pipefail FILE` (the runner's `shell: bash`) with an
argument list, in `working-directory`, with fresh `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and
`GITHUB_STEP_SUMMARY` files. What a step writes there is parsed (`name=value` and `name<<DELIMITER`
forms) and becomes `steps.<id>.outputs`, the environment of later steps and their PATH. The action's
`outputs:` are rendered at the end.

The runner does not set `INPUT_*` variables for composite actions (only for JavaScript and Docker
actions): a composite action's scripts see only what its `env:` maps, and neither does this harness.

`uses:` steps are not run (no network, no Node): a test passes a stand-in for a step id in `uses`
(a function returning that step's outputs, after doing what the real action would, such as restoring a
cache), or the step is recorded as skipped with no outputs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.action import gha_expr

BASH = shutil.which("bash") or "/bin/bash"
UsesStandIn = Callable[[dict[str, Any]], dict[str, str]]


@dataclass
class StepResult:
    id: str
    name: str
    outcome: str  # success, failure, skipped
    exit_code: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    env: dict[str, str] = field(default_factory=dict)  # the step's own rendered `env:`
    summary: str = ""  # what the step wrote to GITHUB_STEP_SUMMARY


@dataclass
class ActionRun:
    steps: list[StepResult]
    outputs: dict[str, str]
    env_file: dict[str, str]  # everything written to GITHUB_ENV
    path_file: list[str]  # everything written to GITHUB_PATH

    def step(self, step_id: str) -> StepResult:
        return next(step for step in self.steps if step.id == step_id)

    @property
    def failed(self) -> StepResult | None:
        return next((step for step in self.steps if step.outcome == "failure"), None)


_HEREDOC = re.compile(r"^([^=<\s][^=<]*)<<(.+)$")


def parse_file_command(text: str) -> dict[str, str]:
    """The runner's parser for GITHUB_OUTPUT and GITHUB_ENV: `k=v` lines and `k<<DELIM` blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        heredoc = _HEREDOC.match(line)
        if heredoc and "=" not in line.split("<<", 1)[0]:
            name, delimiter = heredoc.group(1), heredoc.group(2)
            body: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"matching delimiter not found: {delimiter!r}")
            index += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"invalid line in a file command: {line!r}")
    return values


@dataclass
class CompositeRunner:
    """One composite action run in one job: the action file, its caller's inputs and the job's world."""

    action_file: Path
    workspace: Path
    runner_temp: Path
    github: dict[str, Any]
    env: dict[str, str]  # the job's environment (PATH, AWS_*, ...)
    event_path: Path | None = None
    uses: Mapping[str, UsesStandIn] = field(default_factory=dict)
    timeout: float = 600

    def _base_env(self) -> dict[str, str]:
        env = dict(self.env)
        env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_ACTION_PATH": str(self.action_file.parent),
                "GITHUB_EVENT_NAME": str(self.github.get("event_name", "")),
                "GITHUB_REPOSITORY": str(self.github.get("repository", "")),
                "RUNNER_TEMP": str(self.runner_temp),
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
            }
        )
        if self.event_path is not None:
            env["GITHUB_EVENT_PATH"] = str(self.event_path)
        return env

    def inputs(
        self, action: Mapping[str, Any], given: Mapping[str, str], contexts: dict[str, Any]
    ) -> dict[str, str]:
        declared: Mapping[str, Any] = action.get("inputs") or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise ValueError(f"unexpected inputs {sorted(unknown)}; valid: {sorted(declared)}")
        values: dict[str, str] = {}
        for name, spec in declared.items():
            default = (spec or {}).get("default", "")
            values[name] = given[name] if name in given else gha_expr.render(str(default), contexts)
        return values

    def run(self, given: Mapping[str, str], *, stop_after: str | None = None) -> ActionRun:
        action = yaml.safe_load(self.action_file.read_text(encoding="utf-8"))
        self.runner_temp.mkdir(parents=True, exist_ok=True)
        github = {**self.github, "action_path": str(self.action_file.parent)}
        base_env = self._base_env()
        contexts: dict[str, Any] = {
            "github": github,
            "runner": {"os": "Linux", "arch": "X64", "temp": str(self.runner_temp)},
            "env": dict(base_env),
            "steps": {},
        }
        contexts["inputs"] = self.inputs(action, given, contexts)
        job_env: dict[str, str] = {}
        extra_path: list[str] = []
        results: list[StepResult] = []
        status = "success"
        for number, step in enumerate(action["runs"]["steps"]):
            step_id = str(step.get("id") or f"__{number}")
            contexts["env"] = {**base_env, **job_env}
            if not gha_expr.condition(step.get("if"), contexts, status=status):
                result = StepResult(step_id, str(step.get("name", "")), "skipped")
            elif "uses" in step:
                result = self._stand_in(step_id, step, contexts)
            else:
                result = self._run_step(step_id, step, contexts, base_env, job_env, extra_path, number)
            results.append(result)
            contexts["steps"][step_id] = {
                "outputs": result.outputs,
                "outcome": result.outcome,
                "conclusion": result.outcome,
            }
            if result.outcome == "failure":
                status = "failure"
            if step_id == stop_after:
                break
        outputs = {
            name: gha_expr.render(str(spec.get("value", "")), contexts, status=status)
            for name, spec in (action.get("outputs") or {}).items()
        }
        return ActionRun(results, outputs, job_env, extra_path)

    def _stand_in(self, step_id: str, step: Mapping[str, Any], contexts: dict[str, Any]) -> StepResult:
        name = str(step.get("name", ""))
        stand_in = self.uses.get(step_id)
        if stand_in is None:
            return StepResult(step_id, name, "skipped")
        with_values = {k: gha_expr.render(str(v), contexts) for k, v in (step.get("with") or {}).items()}
        return StepResult(step_id, name, "success", 0, stand_in(with_values))

    def _run_step(
        self,
        step_id: str,
        step: Mapping[str, Any],
        contexts: dict[str, Any],
        base_env: dict[str, str],
        job_env: dict[str, str],
        extra_path: list[str],
        number: int,
    ) -> StepResult:
        if step.get("shell") != "bash":
            raise ValueError(f"step {step_id}: only `shell: bash` is emulated, not {step.get('shell')!r}")
        step_env = {k: gha_expr.render(str(v), contexts) for k, v in (step.get("env") or {}).items()}
        files = {
            name: self.runner_temp / f"_runner_file_commands/{name.lower()}_{number}"
            for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in files.values():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")
        env = {**base_env, **job_env, **step_env, **{k: str(v) for k, v in files.items()}}
        if extra_path:
            env["PATH"] = os.pathsep.join([*reversed(extra_path), env.get("PATH", "")])
        script = self.runner_temp / f"step_{number}_{step_id}.sh"
        script.write_text(str(step["run"]), encoding="utf-8")
        cwd = self.workspace / gha_expr.render(str(step.get("working-directory", ".")), contexts)
        proc = subprocess.run(
            [BASH, "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        job_env.update(parse_file_command(files["GITHUB_ENV"].read_text(encoding="utf-8")))
        extra_path.extend(
            line for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines() if line
        )
        return StepResult(
            step_id,
            str(step.get("name", "")),
            "success" if proc.returncode == 0 else "failure",
            proc.returncode,
            parse_file_command(files["GITHUB_OUTPUT"].read_text(encoding="utf-8")),
            proc.stdout,
            proc.stderr,
            step_env,
            files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"),
        )
