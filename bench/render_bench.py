"""Rendering a 10,000-resource plan: wall time and peak memory (a benchmark, not a test).

Builds a generated plan (`tests/golden/fixtures.big_plan`: its `show -json` document and its
`terraform show` text), then times what a deploy renders from it: the "ready" PR comment (cut to
GitHub's 65,536 characters) and the job summary (the plan up to GitHub's 1 MiB), with the plan's
sensitive outputs and a mask pattern to redact. Peak memory is measured by tracemalloc in a separate
pass (tracemalloc slows Python down), counting only what rendering allocates beyond its inputs.

Targets: <= 1 s and <= 200 MB.

    python bench/render_bench.py [--resources 10000] [--repeat 5]
    python bench/render_bench.py --quick     # 500 resources, once: that it runs (CI), no verdict
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prenv.core.domain import DeployOutcome, Output  # noqa: E402
from prenv.core.plan import summarize  # noqa: E402
from prenv.render import markdown as render  # noqa: E402
from prenv.render import templating  # noqa: E402
from tests.golden import fixtures  # noqa: E402

TIME_TARGET_S = 1.0
MEMORY_TARGET_MB = 200.0


def workload(resources: int) -> tuple[Callable[[], tuple[str, str]], DeployOutcome]:
    document, text = fixtures.big_plan(resources)
    outputs = (*fixtures.OUTPUTS, Output("token", "tok-" + "x" * 40, True))
    deploy = DeployOutcome(
        summary=summarize(document),
        plan_text=text,
        applied=True,
        url="https://pr-42.example.com",
        outputs=outputs,
    )
    config = fixtures.config(mask_patterns=[r"ghp_[A-Za-z0-9]{36}"])
    ctx = fixtures.context()
    limit = render.COMMENT_LIMIT - 60  # the caller's hidden marker

    def run() -> tuple[str, str]:
        render.diff_text.cache_clear()  # one deploy: the comment and the summary share one diff
        body = render.comment("ready", ctx, config=config, deploy=deploy, masks=("MASKED",), limit=limit)
        summary = render.job_summary(ctx, "ready", config=config, deploy=deploy, masks=("MASKED",))
        return body, summary

    return run, deploy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes: check that it runs (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.resources, args.repeat = 500, 1

    start = time.perf_counter()
    document, _ = fixtures.big_plan(args.resources)
    summarize(document)
    summarize_s = time.perf_counter() - start

    run, deploy = workload(args.resources)
    start = time.perf_counter()
    body, summary = run()  # cold: templates compiled on first use
    cold = time.perf_counter() - start
    warm = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run()
        warm.append(time.perf_counter() - start)

    templating._environment.cache_clear()  # measure the cold path's memory too
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 1e6

    plan_mb = len(deploy.plan_text.encode()) / 1e6
    lines = deploy.plan_text.count("\n")
    print(f"plan: {args.resources:,} resources, {lines:,} lines, {plan_mb:.1f} MB of text")
    print(f"generate + summarize(show -json) (not rendering): {summarize_s:.3f} s")
    print(
        f"comment: {len(body):,} characters (limit {render.COMMENT_LIMIT:,}); summary: "
        f"{len(summary.encode()):,} bytes (limit {render.SUMMARY_LIMIT:,})"
    )
    print(f"render comment + job summary, cold: {cold:.3f} s")
    print(
        f"render comment + job summary, warm: median {statistics.median(warm):.3f} s, max {max(warm):.3f} s "
        f"({args.repeat} runs)"
    )
    print(f"peak memory allocated while rendering (tracemalloc): {peak_mb:.1f} MB")
    if args.quick:
        print("quick mode: the figures above are not the benchmark's (run it without --quick)")
        return 0
    ok = max(cold, *warm) <= TIME_TARGET_S and peak_mb <= MEMORY_TARGET_MB
    print(f"targets <= {TIME_TARGET_S:.0f} s and <= {MEMORY_TARGET_MB:.0f} MB: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
