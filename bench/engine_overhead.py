"""prenv's overhead over bare Terraform: `prenv deploy` + `prenv destroy` against the same Terraform calls.

Runs the light sandbox root against an embedded moto server, alternating the two sequences so that
both see the same machine load, and prints the ratio of the median wall times. Target: <= 1.10.
`least_workflow.py` compares prenv with the fewest calls a workflow could make instead.

    python bench/engine_overhead.py [--rounds 5]
    python bench/engine_overhead.py --quick     # one round, no warm-up: that it runs (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from emulated import backend_args, light_repo

from prenv.core import naming

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "bench/app"


def run(argv: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)) -> None:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode not in ok:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def prenv_sequence(pr: int, env: dict[str, str], repo: Path) -> float:
    start = time.perf_counter()
    run([sys.executable, "-m", "prenv", "deploy", "--pr", str(pr)], env, repo)
    run([sys.executable, "-m", "prenv", "destroy", "--pr", str(pr)], env, repo)
    return time.perf_counter() - start


def terraform_sequence(pr: int, env: dict[str, str], root: Path, work: Path) -> float:
    """The same Terraform calls prenv makes, typed out by hand."""
    names = naming.names_for(pr, REPOSITORY)
    var_file = work / f"vars-{pr}.json"
    var_file.write_text(
        json.dumps(
            {
                "pr_number": pr,
                "workspace": names.workspace,
                "name_prefix": names.name_prefix,
                "repository": REPOSITORY,
            }
        )
    )
    plan = work / f"plan-{pr}"
    tf_env = {
        **env,
        "TF_IN_AUTOMATION": "1",
        "TF_DATA_DIR": str(root / ".terraform" / "bare" / names.workspace),
    }
    backend = backend_args()
    lock = "-lock-timeout=30s"
    ws = names.workspace
    # (arguments, accepted exit codes, TF_WORKSPACE); prenv reads the state object where these are not.
    # `plan` creates the new workspace (TF_WORKSPACE names it); typed by hand, `show -json` runs after the
    # apply, where prenv runs it beside the apply.
    steps: list[tuple[list[str], tuple[int, ...], str]] = [
        (["init", "-input=false", "-no-color", lock, *backend], (0,), "default"),
        (
            [
                "plan",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                lock,
                f"-out={plan}",
                f"-var-file={var_file}",
            ],
            (0, 2),
            ws,
        ),
        (["show", "-json", "-no-color", str(plan)], (0,), ws),
        (["apply", "-input=false", "-no-color", "-auto-approve", lock, str(plan)], (0,), ws),
        (["init", "-input=false", "-no-color", lock, *backend], (0,), "default"),
        (["destroy", "-input=false", "-no-color", "-auto-approve", lock, f"-var-file={var_file}"], (0,), ws),
        (["workspace", "delete", "-no-color", lock, ws], (0,), "default"),
    ]
    start = time.perf_counter()
    for args, ok, workspace in steps:
        env = {**tf_env, "TF_WORKSPACE": workspace} if workspace else tf_env
        run(["terraform", *args], env, root, ok)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one round, no warm-up: that it runs (CI)")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    with light_repo(f"terraform: {{root: root, lock_timeout: 30s}}\nrepository: {REPOSITORY}\n") as setup:
        env, repo, work = setup.env, setup.path, setup.work
        root = repo / "root"
        if not args.quick:
            # One warm-up of each, so provider start-up and file caches are not billed to the first one.
            prenv_sequence(900, env, repo)
            terraform_sequence(901, env, root, work)
        with_prenv, bare = [], []
        for i in range(rounds):
            with_prenv.append(prenv_sequence(10 + i, env, repo))
            bare.append(terraform_sequence(100 + i, env, root, work))
        ratio = statistics.median(with_prenv) / statistics.median(bare)
        print(f"rounds: {rounds} (alternating; light root against moto)")
        print(
            f"prenv deploy + destroy: median {statistics.median(with_prenv):.2f}s  "
            f"({', '.join(f'{t:.2f}' for t in with_prenv)})"
        )
        print(
            f"bare terraform calls:   median {statistics.median(bare):.2f}s  "
            f"({', '.join(f'{t:.2f}' for t in bare)})"
        )
        print(f"ratio prenv / terraform: {ratio:.3f}  (target <= 1.10)")
        print(f"import of the CLI (prenv.cli): {import_time():.3f}s")
        if args.quick:
            print("quick mode: the figures above are not the benchmark's (run it without --quick)")


def import_time() -> float:
    start = time.perf_counter()
    run(
        [sys.executable, "-c", "import prenv.cli"],
        dict(os.environ),
        ROOT,
    )
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
