"""prenv against the least a hand-written workflow runs: the same preview deployed and destroyed by
`prenv deploy` + `prenv destroy`, and by the fewest Terraform calls a workflow could make.

Each event (PR opened, PR closed) is a job of its own on a fresh runner: a fresh Terraform data
directory (`init` again), one process per call. The least a workflow runs:

    opened: init, workspace new pr-N, apply -auto-approve
    closed: init, destroy -auto-approve (TF_WORKSPACE=pr-N), workspace delete pr-N

prenv adds what it is for: the plan saved and applied as commented (plan + apply in two processes),
`show -json` for the summary, run beside the apply (the outputs and the state checks come from the
state object; `plan` itself creates a new workspace). The two
sequences alternate (ABBA order) on the light root against an embedded moto server; Terraform goes
through a wrapper that logs each call, so the per-call table shows where the time goes. Prints the
ratio of the medians (target <= 1.20) and fails when prenv makes a Terraform call beyond its own list
(the count is not noise; the times are).

    python bench/least_workflow.py [--rounds 5]
    python bench/least_workflow.py --quick     # one round, no warm-up: that it runs (CI)
    python bench/least_workflow.py --aws-waits 60,30 --rounds 3

`--aws-waits CREATE,DESTROY` adds `aws_waits/wait.tf` to the root: its create waits CREATE seconds and
its destroy DESTROY seconds, as AWS's own do (an ECS service reaching a steady state, an RDS instance
becoming available; both far longer on AWS), in processes that use no CPU. Against moto the light root
is all fixed costs (each Terraform process that loads the AWS provider: about 3 s here); this shows the
same calls where the job also waits on AWS, as a preview's does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulated import AWS_WAITS, backend_args, light_repo  # noqa: E402 - after the path set-up above

from prenv.core import naming  # noqa: E402
from tests.helpers import TerraformCall, recording_terraform, terraform_calls  # noqa: E402

REPOSITORY = "bench/app"
TARGET = 1.20
# prenv's Terraform calls per event on a new PR; anything beyond is a regression, whatever the timing.
# In any order: `show -json` and the apply run at once.
PRENV_CALLS = {
    "open": ["init", "plan", "show -json", "apply -auto-approve"],
    "close": ["init", "destroy -auto-approve", "workspace delete"],
}


@dataclass
class Sequence:
    """One PR opened then closed: wall time per event, and the Terraform calls of each."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of the event's processes
    calls: dict[str, list[TerraformCall]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def total_cpu(self) -> float:
        return sum(self.cpu.values())

    def terraform(self, event: str) -> float:
        """The wall seconds during `event` in which some Terraform call ran (calls that overlap count
        once)."""
        total, covered = 0.0, float("-inf")
        for call in sorted(self.calls[event], key=lambda c: c.start):
            total += max(0.0, call.end - max(call.start, covered))
            covered = max(covered, call.end)
        return total


@dataclass
class Bench:
    env: dict[str, str]  # the run's environment, Terraform being the logging wrapper
    repo: Path
    work: Path
    log: Path
    variables: dict[str, int]  # the root's own variables (--aws-waits), in prenv's config too

    @property
    def root(self) -> Path:
        return self.repo / "root"

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)) -> None:
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
        if done.returncode not in ok:
            sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def event(self, sequence: Sequence, name: str, job: Callable[[], None]) -> None:
        before = len(terraform_calls(self.log))
        start, cpu = time.perf_counter(), children_cpu()
        job()
        sequence.seconds[name] = time.perf_counter() - start
        sequence.cpu[name] = children_cpu() - cpu
        sequence.calls[name] = terraform_calls(self.log, since=before)

    def prenv(self, pr: int) -> Sequence:
        sequence = Sequence()
        for name, command in (("open", "deploy"), ("close", "destroy")):
            # A job of its own: the data directory prenv keeps in the checkout is not there yet.
            shutil.rmtree(self.root / ".terraform" / "prenv", ignore_errors=True)
            argv = [sys.executable, "-m", "prenv", command, "--pr", str(pr)]

            def job(argv: list[str] = argv) -> None:
                self.run(argv, self.env, self.repo)

            self.event(sequence, name, job)
        return sequence

    def workflow(self, pr: int) -> Sequence:
        names = naming.names_for(pr, REPOSITORY)
        workspace = names.workspace
        var_file = self.work / f"vars-{pr}.json"
        var_file.write_text(
            json.dumps(
                {
                    "pr_number": pr,
                    "workspace": workspace,
                    "name_prefix": names.name_prefix,
                    "repository": REPOSITORY,
                    **self.variables,
                }
            )
        )
        backend = backend_args()
        lock = "-lock-timeout=30s"
        terraform = self.env["PRENV_TERRAFORM"]
        jobs = {
            "open": [
                (["init", "-input=false", "-no-color", lock, *backend], ""),
                (["workspace", "new", "-no-color", lock, workspace], ""),
                (["apply", "-input=false", "-no-color", "-auto-approve", lock, f"-var-file={var_file}"], ""),
            ],
            "close": [
                (["init", "-input=false", "-no-color", lock, *backend], ""),
                (
                    ["destroy", "-input=false", "-no-color", "-auto-approve", lock, f"-var-file={var_file}"],
                    workspace,
                ),
                (["workspace", "delete", "-no-color", lock, workspace], ""),
            ],
        }
        sequence = Sequence()
        for name, steps in jobs.items():
            data_dir = self.work / "workflow-data"
            shutil.rmtree(data_dir, ignore_errors=True)  # a job of its own: a fresh runner

            def job(steps: list[tuple[list[str], str]] = steps, data_dir: Path = data_dir) -> None:
                for args, tf_workspace in steps:
                    env = {**self.env, "TF_IN_AUTOMATION": "1", "TF_DATA_DIR": str(data_dir)}
                    env.pop("TF_WORKSPACE", None)
                    if tf_workspace:
                        env["TF_WORKSPACE"] = tf_workspace
                    self.run([terraform, *args], env, self.root)

            self.event(sequence, name, job)
        return sequence


def aws_waits(parser: argparse.ArgumentParser, given: str) -> dict[str, int]:
    """The root's wait variables of `--aws-waits CREATE,DESTROY` (none without it)."""
    if not given:
        return {}
    create, _, destroy = given.partition(",")
    if not (create.isdigit() and destroy.isdigit()) or int(create) > 600 or int(destroy) > 600:
        parser.error(f"--aws-waits: {given!r}; write two whole seconds up to 600, such as 60,30")
    return {"create_wait_seconds": int(create), "destroy_wait_seconds": int(destroy)}


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children and theirs (prenv, Terraform, the
    providers); the emulator runs in this process and is not counted."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def kind(call: TerraformCall) -> str:
    """The call without the workspace it names: `init`, `workspace new`, `show -json`, ..."""
    words = call.command.split()
    named = words[0] == "workspace" and words[1] in ("new", "select", "delete")
    return " ".join(words[:-1]) if named else call.command


def check_calls(sequences: list[Sequence]) -> list[str]:
    """Each event where prenv's calls differ from `PRENV_CALLS`, one line each."""
    problems = []
    for sequence in sequences:
        for event, calls in sequence.calls.items():
            made = sorted(kind(c) for c in calls)
            if made != sorted(PRENV_CALLS[event]):
                problems.append(f"{event}: prenv ran {made}, expected {PRENV_CALLS[event]}")
    return problems


def per_call(sequences: list[Sequence], event: str) -> dict[str, list[TerraformCall]]:
    """call -> every call of that kind during `event`, in every sequence."""
    found: dict[str, list[TerraformCall]] = defaultdict(list)
    for sequence in sequences:
        for call in sequence.calls[event]:
            found[kind(call)].append(call)
    return found


def _pair(wall: list[float], cpu: list[float]) -> str:
    return f"{statistics.mean(wall):.2f} / {statistics.mean(cpu):.2f}"


def print_table(with_prenv: list[Sequence], workflow: list[Sequence]) -> None:
    print("\nwhere the time goes: mean wall seconds / CPU seconds (x calls per event, when not 1)")
    print("| event | call | prenv | least workflow |")
    print("|---|---|---|---|")

    def cell(found: dict[str, list[TerraformCall]], command: str, sequences: int) -> str:
        if command not in found:
            return "-"
        calls = found[command]
        count = len(calls) / sequences
        text = _pair([c.seconds for c in calls], [c.cpu for c in calls])
        return text + (f" (x{count:g})" if count != 1 else "")

    def terraform_cpu(sequence: Sequence, event: str) -> float:
        return sum(call.cpu for call in sequence.calls[event])

    for event in ("open", "close"):
        ours, theirs = per_call(with_prenv, event), per_call(workflow, event)
        listed = [c for c in PRENV_CALLS[event] if c in ours]  # in the order of the list, not of the ends
        for command in listed + [c for c in dict.fromkeys([*ours, *theirs]) if c not in listed]:
            print(
                f"| {event} | `{command}` | {cell(ours, command, len(with_prenv))} "
                f"| {cell(theirs, command, len(workflow))} |"
            )
        rows: dict[str, Callable[[Sequence, str], tuple[float, float]]] = {
            "all Terraform calls (wall: while any ran)": lambda q, e: (q.terraform(e), terraform_cpu(q, e)),
            "the job": lambda q, e: (q.seconds[e], q.cpu[e]),
            "the rest (prenv's Python and S3 reads; the workflow's process starts)": lambda q, e: (
                q.seconds[e] - q.terraform(e),
                q.cpu[e] - terraform_cpu(q, e),
            ),
        }
        for label, measure in rows.items():
            cells = []
            for sequences in (with_prenv, workflow):
                values = [measure(q, event) for q in sequences]
                cells.append(_pair([v[0] for v in values], [v[1] for v in values]))
            print(f"| {event} | {label} | {cells[0]} | {cells[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one round, no warm-up: that it runs (CI)")
    parser.add_argument(
        "--aws-waits",
        default="",
        metavar="CREATE,DESTROY",
        help="add a create and a destroy that wait these seconds, as AWS's do (such as 60,30)",
    )
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    variables = aws_waits(parser, args.aws_waits)
    load_before = os.getloadavg()
    settings = ", ".join(f"{name}: {value}" for name, value in variables.items())
    config = (
        f"terraform: {{root: root, lock_timeout: 30s, variables: {{{settings}}}}}\nrepository: {REPOSITORY}\n"
    )
    root = "light root" + (
        f" + waits as AWS's ({variables['create_wait_seconds']} s per create, "
        f"{variables['destroy_wait_seconds']} s per destroy)"
        if variables
        else ""
    )
    with light_repo(config, AWS_WAITS if variables else None) as setup:
        wrapper, log = recording_terraform(setup.work / "bin", shutil.which("terraform") or "terraform")
        env = {**setup.env, "PRENV_TERRAFORM": str(wrapper)}
        # The action installs prenv with pip, which compiles its modules; a machine that forbids bytecode
        # caches (PYTHONDONTWRITEBYTECODE, set on this one) would bill prenv for compiling every module
        # of an editable install on every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        bench = Bench(env, setup.path, setup.work, log, variables)
        if not args.quick:
            # One of each first, so provider start-up and file caches are not billed to the first round.
            bench.prenv(900)
            bench.workflow(901)
        with_prenv: list[Sequence] = []
        workflow: list[Sequence] = []
        for i in range(rounds):
            first_prenv = i % 2 == 0  # ABBA: neither always runs first
            if first_prenv:
                with_prenv.append(bench.prenv(10 + i))
            workflow.append(bench.workflow(100 + i))
            if not first_prenv:
                with_prenv.append(bench.prenv(10 + i))
    load_after = os.getloadavg()
    ours = statistics.median(s.total for s in with_prenv)
    theirs = statistics.median(s.total for s in workflow)
    print(f"rounds: {rounds} (alternating; {root} against moto; one job per event, fresh data directory)")
    print(
        f"machine: {os.cpu_count()} cores; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (1 min)"
    )
    print(f"prenv deploy + destroy:  median {ours:.2f}s  ({', '.join(f'{s.total:.2f}' for s in with_prenv)})")
    print(f"least workflow:          median {theirs:.2f}s  ({', '.join(f'{s.total:.2f}' for s in workflow)})")
    print(f"ratio prenv / least workflow: {ours / theirs:.3f}  (target <= {TARGET:.2f})")
    cpu_ours = statistics.median(s.total_cpu for s in with_prenv)
    cpu_theirs = statistics.median(s.total_cpu for s in workflow)
    print(
        f"CPU seconds of the processes, medians: prenv {cpu_ours:.2f}, least workflow {cpu_theirs:.2f}: "
        f"ratio {cpu_ours / cpu_theirs:.3f} (less sensitive to the machine's load than wall time)"
    )
    print_table(with_prenv, workflow)
    if args.quick:
        print("quick mode: the figures above are not the benchmark's (run it without --quick)")
    problems = check_calls(with_prenv)
    if problems:
        sys.exit("prenv made other Terraform calls than its list:\n" + "\n".join(problems))


if __name__ == "__main__":
    main()
