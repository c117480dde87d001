"""`prenv cleanup` at scale: parallel destroys, and the GitHub calls needed to learn the PRs' states.

1. N previews of the light root (real Terraform, embedded moto), all of closed PRs, destroyed by one
   cleanup run at concurrency 1 and at concurrency 4: prints both wall times and their ratio. Here a
   destroy is all CPU work on this machine (Terraform, its provider, the in-process emulator), so the
   ratio is bound by the cores: no run on 2 cores goes below 0.5.
2. The same with AWS-like waits: the light root plus `aws_waits/wait.tf`, whose destroy waits
   `--destroy-wait` seconds (15) the way AWS's deletions do (an ECS service draining, an RDS instance
   deleting: minutes on AWS), without using a core. That is what parallel destroys buy on AWS, where a
   preview's destroy is mostly waiting: target <= 0.35 for concurrency 4 against 1.
3. GitHub reads for 200 previews (150 of open PRs, 40 closed, 10 deleted): prints the list calls,
   against the target 1 + ceil(N/100) per PR state listed.

    python bench/cleanup_bench.py [--previews 20] [--destroy-wait 15] [--rounds 1] [--roots light,aws-waits]
    python bench/cleanup_bench.py --quick     # 2 previews, 2 s waits: that it runs (CI)

GitHub is the tests' fake API (tests/github/fake.py, on `responses`), so this runs offline.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulated import AWS_WAITS, light_repo  # noqa: E402 - after the path set-up above

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


def destroy_ratio(previews: int, *, destroy_wait: int | None, rounds: int) -> None:
    """Cleanup of `previews` closed PRs' previews at concurrency 1 and 4, alternating (1, 4, 4, 1, ...);
    with `destroy_wait`, each preview's destroy waits that many seconds the way AWS's deletions do."""
    variables = f", variables: {{destroy_wait_seconds: {destroy_wait}}}" if destroy_wait is not None else ""
    config = (
        f"terraform: {{root: root, lock_timeout: 60s{variables}}}\n"
        f"repository: {REPOSITORY}\ncomment: {{enabled: false}}\ndeployments: {{enabled: false}}\n"
    )
    extra = AWS_WAITS if destroy_wait is not None else None
    load_before = os.getloadavg()
    with light_repo(config, extra) as setup:
        env, repo = setup.env, setup.path
        numbers = list(range(1, previews + 1))
        times: dict[int, list[float]] = {1: [], 4: []}
        order = [(1, 4) if i % 2 == 0 else (4, 1) for i in range(rounds)]
        for concurrency in [c for pair in order for c in pair]:
            deploy_all(numbers, env, repo)
            with fake_github(repository=REPOSITORY) as fake:
                for number in numbers:
                    fake.add_pull(number, state="closed")
                run_env = {**env, "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.api_url}
                times[concurrency].append(timed_cleanup(concurrency, run_env, repo))
    load_after = os.getloadavg()
    what = (
        "light root" if destroy_wait is None else f"light root + a {destroy_wait} s wait per destroy, as AWS"
    )
    print(f"cleanup of {previews} previews of closed PRs ({what}; embedded moto):")
    print(
        f"  machine: {os.cpu_count()} cores; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (1 min)"
    )
    for concurrency, found in times.items():
        print(f"  concurrency {concurrency}: {_seconds(found)}")
    ratios = [four / one for one, four in zip(times[1], times[4], strict=True)]
    target = "target <= 0.35" if destroy_wait is not None else ">= 0.5 on 2 cores: all CPU here"
    print(
        f"  ratio 4 / 1:   {statistics.median(ratios):.2f}  ({target})"
        + (f"  per round: {', '.join(f'{r:.2f}' for r in ratios)}" if len(ratios) > 1 else "")
    )


def _seconds(found: list[float]) -> str:
    if len(found) == 1:
        return f"{found[0]:.1f}s"
    return f"median {statistics.median(found):.1f}s ({', '.join(f'{t:.1f}' for t in found)})"


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
    parser.add_argument("--destroy-wait", type=int, default=15, help="seconds each AWS-like destroy waits")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs (1 then 4, 4 then 1, ...)")
    parser.add_argument(
        "--roots", default="light,aws-waits", help="which destroys to time: light, aws-waits, or both"
    )
    parser.add_argument("--skip-destroys", action="store_true", help="only count the GitHub reads")
    parser.add_argument("--quick", action="store_true", help="2 previews, 2 s waits: that it runs (CI)")
    args = parser.parse_args()
    roots = set(args.roots.split(","))
    if roots - {"light", "aws-waits"}:
        parser.error(f"--roots: {args.roots!r}; write light, aws-waits, or light,aws-waits")
    github_reads()
    previews = 2 if args.quick else args.previews
    if not args.skip_destroys:
        if "light" in roots:
            destroy_ratio(previews, destroy_wait=None, rounds=args.rounds)
        if "aws-waits" in roots:
            destroy_ratio(previews, destroy_wait=2 if args.quick else args.destroy_wait, rounds=args.rounds)
    if args.quick:
        print("quick mode: the figures above are not the benchmark's (run it without --quick)")


if __name__ == "__main__":
    main()
