"""GitHub API calls per event: first deploy, redeploy, destroy, on a PR with 0 and with 150 comments.

Drives prenv's GitHub reporter (the code `prenv deploy` / `prenv destroy` run) against the fake GitHub
API of the tests (`tests/github/fake.py`: GitHub's published examples, request bodies checked against
GitHub's request schemas) and counts the requests it answers. Retries would count; none happen here.
The events come from a `pull_request` payload, so the head SHA needs no request.

Targets: first deploy <= 6, redeploy <= 5, destroy <= 4 + one per deployment marked inactive (the
150-comment case may add the pages it must read).

    python bench/github_calls.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prenv.config import parse  # noqa: E402
from prenv.conversation import GitHubReporter  # noqa: E402
from prenv.github import GitHub  # noqa: E402
from prenv.plan import PlanSummary  # noqa: E402
from prenv.report import Context, DeployOutcome, DestroyOutcome, PlanOutcome  # noqa: E402
from tests.github.fake import FakeGitHub, fake_github  # noqa: E402

PR = 42
CONFIG = parse("backend: {bucket: state, region: us-east-1}\n")
TOKENS = {
    "Actions token (ghs_)": ("ghs_benchmark", False),
    "personal token (GET /user)": ("ghp_benchmark", True),
}


@dataclass
class Row:
    token: str
    comments: int
    event: str
    calls: int
    target: int
    inactive: int
    sequence: list[str]


def ctx(command: str, sha: str) -> Context:
    return Context(
        pr_number=PR,
        repository="octo-org/app",
        workspace=f"pr-{PR}",
        environment=f"pr-{PR}",
        command=command,
        head_sha=sha,
        run_url="https://github.test/octo-org/app/actions/runs/1",
    )


def deploy(gh: GitHub, sha: str) -> None:
    reporter, context = GitHubReporter(config=CONFIG, client=gh), ctx("deploy", sha)
    summary = PlanSummary(add=3)
    reporter.started(context)
    reporter.planned(context, PlanOutcome(summary, "  + resource\n"))
    reporter.ready(
        context, DeployOutcome(summary, "  + resource\n", applied=True, url="https://pr-42.preview.example/")
    )


def destroy(gh: GitHub) -> None:
    reporter = GitHubReporter(config=CONFIG, client=gh)
    reporter.destroyed(ctx("destroy", ""), DestroyOutcome(existed=True, destroyed=3, workspace_deleted=True))


def measure(fake: FakeGitHub, token: str, action: str) -> tuple[int, list[str]]:
    fake.requests.clear()
    gh = GitHub(token, fake.repository, api_url=fake.api_url)  # a fresh process per event, like a job
    if action == "first deploy":
        deploy(gh, "a" * 40)
    elif action == "redeploy":
        deploy(gh, "b" * 40)
    else:
        destroy(gh)
    return len(fake.requests), fake.sequence()


def scenario(label: str, token: str, user_endpoint: bool, comments: int) -> list[Row]:
    rows = []
    with fake_github(
        user_endpoint=user_endpoint, login="prenv-bot" if user_endpoint else "github-actions[bot]"
    ) as fake:
        for index in range(comments):
            fake.add_comment(PR, f"review comment {index}", author="octocat")
        for event, target in (("first deploy", 6), ("redeploy", 5)):
            calls, sequence = measure(fake, token, event)
            rows.append(Row(label, comments, event, calls, target, 0, sequence))
        before = sum(1 for d in fake.deployments if fake.states(d["id"])[-1:] != ["inactive"])
        calls, sequence = measure(fake, token, "destroy")
        rows.append(Row(label, comments, "destroy", calls, 4 + before, before, sequence))
    return rows


def main() -> int:
    rows = [
        row
        for label, (token, user_endpoint) in TOKENS.items()
        for comments in (0, 150)
        for row in scenario(label, token, user_endpoint, comments)
    ]
    print(f"{'token':<28} {'comments':>8}  {'event':<13} {'calls':>5}  {'target':<24} verdict")
    for row in rows:
        pages = max(row.sequence.count("GET issues/list-comments") - 1, 0)
        reads = row.sequence.count("GET repos/list-deployment-statuses")
        allowed = row.target + pages
        target = f"{row.target}" + (f" (4+{row.inactive} inactive)" if row.event == "destroy" else "")
        target += f" +{pages} page" if pages else ""
        verdict = "ok" if row.calls <= allowed else f"over by {row.calls - allowed}"
        note = f" ({reads} status reads)" if reads else ""
        print(
            f"{row.token:<28} {row.comments:>8}  {row.event:<13} {row.calls:>5}  {target:<24} {verdict}{note}"
        )
    print("\nRequest sequences (Actions token, 0 comments):")
    for row in rows[:3]:
        print(f"  {row.event}: " + ", ".join(row.sequence))
    return 0


if __name__ == "__main__":
    sys.exit(main())
