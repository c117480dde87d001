"""The remembered comment: a deploy or destroy edits it directly, with the same behaviour as a search.

The PR reporter recalls the deploy record and remembers where its comment is through a `CommentMemory`
(in prenv, the deploy record in the state bucket; here, `Memory`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prenv.core.domain import Context, DestroyOutcome, PlanOutcome
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.marker import Marker, format_marker
from prenv.core.plan import PlanSummary
from prenv.github.client import GitHub
from prenv.report.pr import comment_body
from prenv.report.sticky import Hint, body_sha, comment_record, hint_from_record
from tests.github.conftest import deployed, make_config, make_ctx, reporter
from tests.github.fake import BOT, FakeGitHub

DEPLOYMENT_STEPS = ["POST graphql", "POST repos/create-deployment", "POST repos/create-deployment-status"]
REDEPLOY = [
    *DEPLOYMENT_STEPS,
    "PATCH issues/update-comment",
    "PATCH issues/update-comment",
    "POST repos/create-deployment-status",
]


@dataclass
class Memory:
    """A `CommentMemory`: the deploy record the last deploy left, and what this run remembers."""

    record: dict[str, Any] | None = None
    remembered: dict[str, Any] | None = None
    kept: bool = False

    def recall(self) -> dict[str, Any] | None:
        return self.record

    def remember(self, comment: Mapping[str, Any] | None) -> None:
        self.remembered, self.kept = (dict(comment) if comment else None), True


def with_hint(ctx: Context, comment: dict[str, Any] | None) -> Memory:
    """The deploy record the last deploy wrote for `ctx`'s PR, remembering `comment`."""
    record = {"pr": ctx.pr_number, "repository": ctx.repository, "comment": comment}
    assert hint_from_record(record, ctx), comment
    return Memory(record)


def deploy(gh: GitHub, ctx: Context, memory: Memory | None = None, text: str = "") -> dict[str, Any] | None:
    """One deploy as the GitHub reporter sees it; returns what the deploy record then remembers."""
    memory = memory or Memory()
    run = reporter(gh, text, memory=memory)
    run.started(ctx)
    run.planned(ctx, PlanOutcome(PlanSummary(add=3), "plan"))
    run.ready(ctx, deployed())
    assert memory.kept
    return memory.remembered


def test_redeploy_with_the_remembered_comment_takes_five_requests(fake: FakeGitHub, gh: GitHub) -> None:
    for index in range(150):
        fake.add_comment(7, f"review {index}", author="octocat")
    first = deploy(gh, make_ctx())
    (mine,) = [c for c in fake.comments[7] if c["user"]["login"] == BOT]
    assert first == {"id": mine["id"], "sha256": body_sha(mine["body"]), "author": BOT, "environment": ""}
    fake.requests.clear()

    ctx = make_ctx(head_sha="f" * 40)
    again = deploy(gh, ctx, with_hint(ctx, first))
    assert fake.sequence() == REDEPLOY
    assert [r.path for r in fake.requests if r.method == "PATCH"] == [
        f"/repos/octo-org/app/issues/comments/{mine['id']}"
    ] * 2
    deploying, ready = (r.body["body"] for r in fake.requests if r.method == "PATCH")
    assert deploying == comment_body("deploying", ctx, make_config())  # still moves through "deploying"
    assert ready == mine["body"]
    assert "fffffff" in ready
    assert again == {"id": mine["id"], "sha256": body_sha(ready), "author": BOT, "environment": ""}
    (deployment,) = [d for d in fake.deployments if d["sha"] == "f" * 40]
    assert fake.states(deployment["id"]) == ["in_progress", "success"]


def test_redeploy_without_a_hint_searches(fake: FakeGitHub, gh: GitHub) -> None:
    deploy(gh, make_ctx())
    fake.requests.clear()
    deploy(gh, make_ctx(head_sha="f" * 40))
    assert fake.sequence() == [*DEPLOYMENT_STEPS, "GET issues/list-comments", *REDEPLOY[3:]]


def test_failed_redeploy_with_the_remembered_comment(fake: FakeGitHub, gh: GitHub) -> None:
    ctx = make_ctx(head_sha="f" * 40)
    memory = with_hint(ctx, deploy(gh, make_ctx()))
    fake.requests.clear()
    run = reporter(gh, memory=memory)
    run.started(ctx)
    error = PrenvError("terraform apply failed", reason=FailureReason.APPLY_FAILED, hint="read the log")
    run.failed(ctx, error, PlanOutcome(PlanSummary(add=3), "plan"))
    assert fake.sequence() == REDEPLOY
    assert fake.requests[-1].body["state"] == "failure"
    (body,) = fake.comment_bodies(7)
    assert "apply-failed" in body


def test_destroy_with_the_remembered_comment(fake: FakeGitHub, gh: GitHub) -> None:
    record = deploy(gh, make_ctx())
    deploy(gh, make_ctx(head_sha="f" * 40), with_hint(make_ctx(), record))
    fake.add_deployment("pr-7", states=("success", "inactive"))
    fake.requests.clear()
    destroy = DestroyOutcome(existed=True, destroyed=3, workspace_deleted=True)
    ctx = make_ctx("destroy")
    reporter(gh, memory=with_hint(ctx, record)).destroyed(ctx, destroy)
    assert fake.sequence() == [
        "POST graphql",
        "POST repos/create-deployment-status",
        "POST repos/create-deployment-status",
        "PATCH issues/update-comment",
    ]
    assert sorted(fake.states(d["id"])[-1] for d in fake.deployments) == ["inactive"] * 3
    (body,) = fake.comment_bodies(7)
    assert body == comment_body("destroyed", ctx, make_config(), destroy=destroy)


def test_an_unchanged_body_is_not_written_with_a_hint(fake: FakeGitHub, gh: GitHub) -> None:
    fake.add_comment(7, "whatever is there", author=BOT)
    body = comment_body("ready", make_ctx(), make_config(), deploy=deployed())
    record = {"id": fake.comments[7][0]["id"], "sha256": body_sha(body), "author": BOT, "environment": ""}
    memory = with_hint(make_ctx(), record)
    run = reporter(gh, "deployments: {enabled: false}\n", memory=memory)
    run.ready(make_ctx(), deployed())
    assert fake.requests == []
    assert memory.remembered == record


def test_a_deleted_comment_is_posted_again(fake: FakeGitHub, gh: GitHub) -> None:
    record = deploy(gh, make_ctx())
    assert record is not None
    fake.comments[7].clear()  # deleted by a person
    fake.add_comment(7, "LGTM", author="octocat")
    fake.requests.clear()
    again = deploy(gh, make_ctx(head_sha="f" * 40), with_hint(make_ctx(), record))
    assert fake.sequence() == [
        *DEPLOYMENT_STEPS,
        "PATCH issues/update-comment",
        "GET issues/list-comments",
        "POST issues/create-comment",
        "PATCH issues/update-comment",
        "POST repos/create-deployment-status",
    ]
    assert fake.requests[3].status == 404
    lgtm, mine = fake.comments[7]
    assert lgtm["body"] == "LGTM"
    assert mine["user"]["login"] == BOT
    assert again is not None
    assert again["id"] == mine["id"] != record["id"]


def test_a_hint_by_another_identity_is_not_used(fake: FakeGitHub, gh: GitHub) -> None:
    """Written when the workflow used another token: that comment is not this identity's to edit."""
    theirs = fake.add_comment(7, format_marker(Marker()) + "\nold", author="octocat")
    record = {"id": theirs["id"], "sha256": body_sha("old"), "author": "octocat", "environment": ""}
    deploy(gh, make_ctx(), with_hint(make_ctx(), record))
    assert theirs["body"] == format_marker(Marker()) + "\nold"
    assert fake.sequence() == [
        *DEPLOYMENT_STEPS,
        "GET issues/list-comments",
        "POST issues/create-comment",
        "PATCH issues/update-comment",
        "POST repos/create-deployment-status",
    ]


def test_a_hint_at_someone_elses_comment_falls_back_and_says_so(fake: FakeGitHub, gh: GitHub) -> None:
    """A deploy record that lies (only possible with write access to the state bucket) is caught by the
    answer to the edit: prenv warns and keeps its own comment right."""
    theirs = fake.add_comment(7, "My review", author="mallory")
    mine = fake.add_comment(7, format_marker(Marker()) + "\nold", author=BOT)
    record = {"id": theirs["id"], "sha256": body_sha("x"), "author": BOT, "environment": ""}
    warnings: list[str] = []
    ctx = make_ctx()
    memory = with_hint(ctx, record)
    run = reporter(gh, "deployments: {enabled: false}\n", warnings, memory)
    run.started(ctx)
    run.ready(ctx, deployed())
    assert fake.sequence() == [
        "PATCH issues/update-comment",
        "GET issues/list-comments",
        "PATCH issues/update-comment",
        "PATCH issues/update-comment",
    ]
    assert [r.path.rsplit("/", 1)[1] for r in fake.requests if r.method == "PATCH"] == [
        str(theirs["id"]),
        str(mine["id"]),
        str(mine["id"]),
    ]
    assert warnings == [
        f"comment {theirs['id']}, remembered in prenv's deploy record as PR #7's comment, was edited but is "
        f"not prenv's (written by mallory, not {BOT}); check the state bucket's contents: prenv now looks "
        "for its own comment instead"
    ]
    assert memory.remembered == {
        "id": mine["id"],
        "sha256": body_sha(mine["body"]),
        "author": BOT,
        "environment": "",
    }


def test_a_hint_at_a_comment_on_another_pr_falls_back(fake: FakeGitHub, gh: GitHub) -> None:
    other = fake.add_comment(8, format_marker(Marker()) + "\nPR 8", author=BOT)
    record = {"id": other["id"], "sha256": body_sha("x"), "author": BOT, "environment": ""}
    warnings: list[str] = []
    memory = with_hint(make_ctx(), record)
    reporter(gh, "deployments: {enabled: false}\n", warnings, memory).ready(make_ctx(), deployed())
    assert fake.sequence() == [
        "PATCH issues/update-comment",
        "GET issues/list-comments",
        "POST issues/create-comment",
    ]
    assert "(it is on #8)" in warnings[0]
    assert len(fake.comments[7]) == 1


def test_the_idle_warning_edits_the_remembered_comment(fake: FakeGitHub, gh: GitHub) -> None:
    record = deploy(gh, make_ctx())
    fake.requests.clear()
    expires = datetime(2031, 5, 4, 3, 2, tzinfo=UTC)
    ctx = make_ctx("cleanup")
    reporter(gh, memory=with_hint(ctx, record)).warn_idle(ctx, expires)
    assert fake.sequence() == ["PATCH issues/update-comment"]
    (body,) = fake.comment_bodies(7)
    assert body == comment_body("idle_warning", ctx, make_config(), expires_at=expires)
    assert "2031-05-04 03:02 UTC" in body


def test_the_idle_warning_without_a_hint_searches(fake: FakeGitHub, gh: GitHub) -> None:
    deploy(gh, make_ctx())
    fake.requests.clear()
    reporter(gh).warn_idle(make_ctx("cleanup"), datetime(2031, 5, 4, tzinfo=UTC))
    assert fake.sequence() == ["GET issues/list-comments", "PATCH issues/update-comment"]


def test_a_run_that_does_not_edit_the_comment_remembers_nothing_new(fake: FakeGitHub, gh: GitHub) -> None:
    """Nothing published (the comment is off): the memory is not told anything, so the deploy record
    passes on what it had (tests/commands/test_deploy_record.py)."""
    record = {"id": 5, "sha256": "a" * 64, "author": BOT, "environment": ""}
    memory = with_hint(make_ctx(), record)
    run = reporter(gh, "comment: {enabled: false}\ndeployments: {enabled: false}\n", memory=memory)
    run.started(make_ctx())
    run.ready(make_ctx(), deployed())
    assert (memory.kept, fake.requests) == (False, [])
    assert comment_record(Hint(5, "a" * 64, BOT), "") == record


def test_the_hint_is_bound_to_the_repository_pr_and_environment() -> None:
    comment = {"id": 5, "sha256": "a" * 64, "author": BOT, "environment": ""}
    good = {"pr": 7, "repository": "Octo-Org/App", "comment": comment}
    assert hint_from_record(good, make_ctx()) == Hint(id=5, sha="a" * 64, author=BOT)
    for bad in (
        {**good, "pr": 8},
        {**good, "repository": "octo-org/other"},
        {key: value for key, value in good.items() if key != "repository"},
        {**good, "comment": {**comment, "environment": "staging"}},
        {**good, "comment": {**comment, "id": 0}},
        {**good, "comment": {**comment, "id": True}},
        {**good, "comment": {**comment, "id": "5"}},
        {**good, "comment": {**comment, "sha256": "not a hash"}},
        {**good, "comment": {**comment, "author": ""}},
        {**good, "comment": None},
        {"pr": 7},
        {},
    ):
        assert hint_from_record(bad, make_ctx()) is None, bad
    assert hint_from_record(None, make_ctx()) is None
    staging = {**good, "comment": {**comment, "environment": "staging"}}
    assert hint_from_record(staging, make_ctx(comment_environment="staging")) == Hint(5, "a" * 64, BOT)


def test_a_skipped_write_does_not_vouch_for_the_hint(fake: FakeGitHub, gh: GitHub) -> None:
    """The remembered hash skips the first write; the next write still checks whose comment it is."""
    theirs = fake.add_comment(7, "My review", author="mallory")
    mine = fake.add_comment(7, format_marker(Marker()) + "\nold", author=BOT)
    ctx = make_ctx()
    deploying = comment_body("deploying", ctx, make_config())
    record = {"id": theirs["id"], "sha256": body_sha(deploying), "author": BOT, "environment": ""}
    warnings: list[str] = []
    run = reporter(gh, "deployments: {enabled: false}\n", warnings, with_hint(ctx, record))
    run.started(ctx)
    assert fake.requests == []
    run.ready(ctx, deployed())
    assert fake.sequence() == [
        "PATCH issues/update-comment",
        "GET issues/list-comments",
        "PATCH issues/update-comment",
    ]
    assert fake.requests[-1].path.endswith(f"/issues/comments/{mine['id']}")
    assert "written by mallory" in warnings[0]
