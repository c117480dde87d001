"""`prenv cleanup` at scale: parallel destroys, and the GitHub calls needed to learn the PRs' states.

1. N previews of the light root (real Terraform, embedded moto), all of closed PRs, destroyed by one
   cleanup run at concurrency 1 and at concurrency 4: prints both wall times and their ratio
   (target <= 0.35 on a 2-core machine).
2. GitHub reads for 200 previews (150 of open PRs, 40 closed, 10 deleted): prints the list calls,
   against the target 1 + ceil(N/100) per PR state listed.

    python bench/cleanup_bench.py [--previews 20]
    python bench/cleanup_bench.py --quick     # 2 previews: that it runs (CI)

GitHub is the tests' fake API (tests/github/fake.py, on `responses`), so this runs offline.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulated import light_repo  # noqa: E402 - after the path set-up above

from prenv import cli  # noqa: E402
from prenv.commands.cleanup import pull_states  # noqa: E402
from prenv.commands.wiring import Services  # noqa: E402
from prenv.github.client import GitHub  # noqa: E402
from tests.github.conftest import TOKEN  # noqa: E402
from tests.github.fake import FakeGitHub, fake_github  # noqa: E402

REPOSITORY = "bench/cleanup"


def prenv(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(argv, services=Services(env=env, out=out, err=out, cwd=cwd))
    return code, out.getvalue()


def deploy_all(numbers: list[int], env: dict[str, str], repo: Path) -> None:
    def one(number: int) -> None:
        code, text = prenv(["deploy", "--pr", str(number)], env, repo)
        if code:
            sys.exit(f"deploy of PR {number} failed:\n{text}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, numbers))


def timed_cleanup(concurrency: int, env: dict[str, str], repo: Path) -> float:
    start = time.perf_counter()
    code, text = prenv(["cleanup", "--concurrency", str(concurrency)], env, repo)
    seconds = time.perf_counter() - start
    if code:
        sys.exit(f"cleanup failed:\n{text}")
    return seconds


def destroy_ratio(previews: int) -> None:
    config = (
        "terraform: {root: root, lock_timeout: 60s}\n"
        f"repository: {REPOSITORY}\ncomment: {{enabled: false}}\ndeployments: {{enabled: false}}\n"
    )
    with light_repo(config) as setup:
        env, repo = setup.env, setup.path
        numbers = list(range(1, previews + 1))
        times = {}
        for concurrency in (1, 4):
            deploy_all(numbers, env, repo)
            with fake_github(repository=REPOSITORY) as fake:
                for number in numbers:
                    fake.add_pull(number, state="closed")
                run_env = {**env, "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.api_url}
                times[concurrency] = timed_cleanup(concurrency, run_env, repo)
        cores = os.cpu_count()
        print(f"cleanup of {previews} previews of closed PRs (light root, embedded moto, {cores} cores):")
        print(f"  concurrency 1: {times[1]:.1f}s")
        print(f"  concurrency 4: {times[4]:.1f}s")
        print(f"  ratio 4 / 1:   {times[4] / times[1]:.2f}  (target <= 0.35)")


def github_reads() -> None:
    with fake_github() as fake:
        populate(fake)
        previews = set(range(1, 201))
        pull_states(GitHub(TOKEN, fake.repository, api_url=fake.api_url), previews)
        lists = [r for r in fake.requests if r.operation == "pulls/list"]
        by_state = {state: sum(r.query.get("state") == state for r in lists) for state in ("open", "closed")}
        bound = 1 + math.ceil(len(previews) / 100)
        total = len(fake.requests)
        print(f"GitHub reads to learn the states of {len(previews)} previews' PRs: {total} requests")
        for state, calls in by_state.items():
            print(f"  list {state} PRs: {calls} page(s)  (target <= {bound})")
        print(f"  requests other than lists: {len(fake.requests) - len(lists)}")


def populate(fake: FakeGitHub) -> None:
    for number in range(1, 151):
        fake.add_pull(number)
    for number in range(151, 191):
        fake.add_pull(number, state="closed", merged=number % 2 == 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previews", type=int, default=20)
    parser.add_argument("--skip-destroys", action="store_true", help="only count the GitHub reads")
    parser.add_argument("--quick", action="store_true", help="2 previews: that it runs (CI)")
    args = parser.parse_args()
    github_reads()
    if not args.skip_destroys:
        destroy_ratio(2 if args.quick else args.previews)
    if args.quick:
        print("quick mode: the figures above are not the benchmark's (run it without --quick)")


if __name__ == "__main__":
    main()
