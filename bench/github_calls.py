"""GitHub API calls per event: first deploy, redeploy, destroy, on a PR with 0 and with 150 comments,
with and without the comment remembered in the deploy record (the "hint").

Drives prenv's GitHub reporter (the code `prenv deploy` / `prenv destroy` run) against the fake GitHub
API of the tests (`tests/github/fake.py`: GitHub's published examples, request bodies checked against
GitHub's request schemas; GraphQL checked against GitHub's GraphQL schema) and counts the requests it
answers. Retries would count; none happen here. The events come from a `pull_request` payload, so the
head SHA needs no request. The hint is what `prenv deploy` writes into `prenv-deployed.json` beside the
workspace's state and the next deploy or destroy reads back (one S3 GetObject, not a GitHub call);
without it (no deploy record yet, or it could not be read) the comment is searched for.

Targets: first deploy <= 6, redeploy <= 5, destroy <= 4 + one per deployment marked inactive (the
150-comment case may add the pages it must read).

    python bench/github_calls.py
    python bench/github_calls.py --quick     # the Actions token only: that it runs (CI)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prenv.core.config import parse  # noqa: E402
from prenv.core.domain import Command, Context, DeployOutcome, DestroyOutcome, PlanOutcome  # noqa: E402
from prenv.core.plan import PlanSummary  # noqa: E402
from prenv.github.client import GitHub  # noqa: E402
from prenv.report.pr import GitHubReporter  # noqa: E402
from tests.github.fake import FakeGitHub, fake_github  # noqa: E402

PR = 42
CONFIG = parse("backend: {bucket: state, region: us-east-1}\n")
# label -> (token, the login GitHub answers for it, the login the caller gives prenv). The action gives
# `github-actions[bot]` for the workflow's own token; a GitHub App token's login is asked (GraphQL viewer),
# a personal token's too (GET /user).
TOKENS = {
    "Actions token (action)": ("ghs_benchmark", "github-actions[bot]", "github-actions[bot]"),
    "App token (GraphQL viewer)": ("ghs_benchmark", "prenv-previews[bot]", ""),
    "personal token (GET /user)": ("ghp_benchmark", "prenv-bot", ""),
}
Memo = dict[str, Any] | None


@dataclass
class Row:
    token: str
    comments: int
    hint: str
    event: str
    calls: int
    target: int
    inactive: int
    sequence: list[str]


@dataclass
class Record:
    """The deploy record beside the workspace's state, as the PR reporter sees it (a CommentMemory)."""

    comment: Memo

    def recall(self) -> dict[str, Any]:
        return {"pr": PR, "repository": "octo-org/app", "comment": self.comment}

    def remember(self, comment: Mapping[str, Any] | None) -> None:
        self.comment = dict(comment) if comment else None


def ctx(command: Command, sha: str) -> Context:
    return Context(
        pr_number=PR,
        repository="octo-org/app",
        workspace=f"pr-{PR}",
        environment=f"pr-{PR}",
        command=command,
        head_sha=sha,
        run_url="https://github.test/octo-org/app/actions/runs/1",
    )


def deploy(gh: GitHub, sha: str, memo: Memo) -> Memo:
    record = Record(memo)
    reporter, context = GitHubReporter(config=CONFIG, github=gh, memory=record), ctx(Command.DEPLOY, sha)
    summary = PlanSummary(add=3)
    reporter.started(context)
    reporter.planned(context, PlanOutcome(summary, "  + resource\n"))
    reporter.ready(
        context, DeployOutcome(summary, "  + resource\n", applied=True, url="https://pr-42.preview.example/")
    )
    return record.comment  # what the deploy record remembers


def destroy(gh: GitHub, memo: Memo) -> Memo:
    reporter = GitHubReporter(config=CONFIG, github=gh, memory=Record(memo))
    reporter.destroyed(
        ctx(Command.DESTROY, ""), DestroyOutcome(existed=True, destroyed=3, workspace_deleted=True)
    )
    return None


def measure(fake: FakeGitHub, token: str, login: str, event: str, memo: Memo) -> tuple[int, list[str], Memo]:
    fake.requests.clear()
    gh = GitHub(token, fake.repository, api_url=fake.api_url, login=login)  # a fresh process per event
    if event == "first deploy":
        memo = deploy(gh, "a" * 40, None)
    elif event == "redeploy":
        memo = deploy(gh, "b" * 40, memo)
    else:
        memo = destroy(gh, memo)
    return len(fake.requests), fake.sequence(), memo


def scenario(label: str, comments: int, hinted: bool) -> list[Row]:
    token, actual, given = TOKENS[label]
    rows = []
    with fake_github(user_endpoint=not token.startswith("ghs_"), login=actual) as fake:
        for index in range(comments):
            fake.add_comment(PR, f"review comment {index}", author="octocat")
        calls, sequence, memo = measure(fake, token, given, "first deploy", None)
        if not hinted:  # the first deploy has no deploy record to read yet: shown once
            rows.append(Row(label, comments, "-", "first deploy", calls, 6, 0, sequence))
        hint = "yes" if hinted else "no"
        for event, target in (("redeploy", 5), ("destroy", 4)):
            before = sum(1 for d in fake.deployments if fake.states(d["id"])[-1:] != ["inactive"])
            calls, sequence, remembered = measure(fake, token, given, event, memo if hinted else None)
            inactive = before if event == "destroy" else 0
            rows.append(Row(label, comments, hint, event, calls, target + inactive, inactive, sequence))
            memo = remembered if hinted else memo
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the Actions token only: that it runs (CI)")
    args = parser.parse_args(argv)
    labels = list(TOKENS)[:1] if args.quick else list(TOKENS)
    rows = [
        row
        for label in labels
        for comments in (0, 150)
        for hinted in (False, True)
        for row in scenario(label, comments, hinted)
    ]
    print(f"{'token':<28} {'comments':>8} {'hint':>4}  {'event':<13} {'calls':>5}  {'target':<24} verdict")
    for row in rows:
        pages = max(row.sequence.count("GET issues/list-comments") - 1, 0)
        allowed = row.target + pages
        target = f"{row.target}" + (f" (4+{row.inactive} inactive)" if row.event == "destroy" else "")
        target += f" +{pages} page" if pages else ""
        verdict = "ok" if row.calls <= allowed else f"over by {row.calls - allowed}"
        if row.calls > allowed and row.hint == "no":
            verdict += " (no deploy record yet: the comment must be searched for)"
        print(
            f"{row.token:<28} {row.comments:>8} {row.hint:>4}  {row.event:<13} {row.calls:>5}  {target:<24} "
            f"{verdict}"
        )
    print("\nRequest sequences (Actions token, 0 comments):")
    for row in rows[:5]:
        print(f"  {row.event} (hint: {row.hint}): " + ", ".join(row.sequence))
    return 0


if __name__ == "__main__":
    sys.exit(main())
