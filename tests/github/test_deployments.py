"""GitHub Deployments and the whole request sequence of a deploy, a failed deploy and a destroy."""

from __future__ import annotations

import pytest

from prenv.core.domain import DestroyOutcome, PlanOutcome
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.marker import Marker, format_marker
from prenv.core.plan import PlanSummary
from prenv.github.client import DEPLOYMENT_STATES, GitHub, GitHubError
from tests.github.conftest import RUN_URL, SHA, deployed, make_ctx, reporter
from tests.github.fake import FakeGitHub

DEPLOY = [
    "POST graphql",  # deployments earlier runs left unfinished, settled first
    "POST repos/create-deployment",
    "POST repos/create-deployment-status",
    "GET issues/list-comments",
    "POST issues/create-comment",
    "PATCH issues/update-comment",
    "POST repos/create-deployment-status",
]


def test_deploy_sequence(fake: FakeGitHub, gh: GitHub) -> None:
    run, ctx = reporter(gh), make_ctx()
    run.started(ctx)
    run.planned(ctx, PlanOutcome(PlanSummary(add=3), "plan"))
    run.ready(ctx, deployed())
    assert fake.sequence() == DEPLOY
    _, create, in_progress, _, _, _, success = (r.body for r in fake.requests)
    assert create == {
        "ref": SHA,
        "environment": "pr-7",
        "description": "prenv preview of PR #7",
        "transient_environment": True,
        "production_environment": False,
        "auto_merge": False,
        "required_contexts": [],
    }
    assert in_progress == {"state": "in_progress", "description": "Deploying ec26c3e", "log_url": RUN_URL}
    assert success == {
        "state": "success",
        "description": "Preview ready",
        "log_url": RUN_URL,
        "environment_url": "https://pr-7.preview.example/",
    }
    (deployment,) = fake.deployments
    assert fake.states(deployment["id"]) == ["in_progress", "success"]


def test_failed_deploy_sequence(fake: FakeGitHub, gh: GitHub) -> None:
    run, ctx = reporter(gh), make_ctx()
    run.started(ctx)
    error = PrenvError("terraform apply failed", reason=FailureReason.APPLY_FAILED, hint="read the log")
    run.failed(ctx, error, PlanOutcome(PlanSummary(add=3), "plan"))
    assert fake.sequence() == [
        *DEPLOY[:5],
        "PATCH issues/update-comment",
        "POST repos/create-deployment-status",
    ]
    assert fake.requests[-1].body == {
        "state": "failure",
        "description": "prenv failed: apply-failed",
        "log_url": RUN_URL,
    }
    (body,) = fake.comment_bodies(7)
    assert "terraform apply failed" in body
    assert "apply-failed" in body


def test_destroy_sequence_skips_inactive_deployments(fake: FakeGitHub, gh: GitHub) -> None:
    old = fake.add_deployment("pr-7", states=("in_progress", "success", "inactive"))
    live = fake.add_deployment("pr-7", states=("in_progress", "success"))
    other = fake.add_deployment("pr-8", states=("success",))
    reporter(gh).started(make_ctx())  # a comment to update (and a third deployment of pr-7)
    ((current,),) = [[d for d in fake.deployments if d["id"] not in (old["id"], live["id"], other["id"])]]
    fake.requests.clear()

    reporter(gh).destroyed(
        make_ctx("destroy"), DestroyOutcome(existed=True, destroyed=3, workspace_deleted=True)
    )
    assert fake.sequence() == [
        "POST graphql",
        "POST repos/create-deployment-status",
        "POST repos/create-deployment-status",
        "GET issues/list-comments",
        "PATCH issues/update-comment",
    ]
    query = fake.requests[0]
    assert query.path == "/api/graphql"  # GitHub Enterprise: /api/v3 -> /api/graphql
    assert query.body["query"] == DEPLOYMENT_STATES
    assert query.body["variables"] == {
        "owner": "octo-org",
        "name": "app",
        "environment": "pr-7",
        "cursor": None,
    }
    # Newest first: the deployment of this run, then the live one; the inactive one is skipped.
    assert [r.path.rsplit("/", 2)[1] for r in fake.requests[1:3]] == [str(current["id"]), str(live["id"])]
    assert (
        fake.requests[1].body
        == fake.requests[2].body
        == {
            "state": "inactive",
            "description": "Preview destroyed",
            "log_url": RUN_URL,
        }
    )
    assert fake.states(current["id"])[-1] == "inactive"
    assert fake.states(live["id"])[-1] == "inactive"
    assert fake.states(old["id"]).count("inactive") == 1  # not marked twice
    assert fake.states(other["id"]) == ["success"]  # another PR's environment is untouched
    assert fake.deleted_environments == []


def test_environment_is_deleted_only_when_configured(fake: FakeGitHub, gh: GitHub) -> None:
    reporter(gh, "deployments: {delete_environment: true}\n").destroyed(
        make_ctx("destroy"), DestroyOutcome(existed=False)
    )
    assert fake.deleted_environments == ["pr-7"]


@pytest.mark.parametrize("status", [403, 404])
def test_environment_that_cannot_be_deleted_is_a_warning(fake: FakeGitHub, gh: GitHub, status: int) -> None:
    fake.fail(
        "repos/delete-an-environment", status, body={"message": "Resource not accessible by integration"}
    )
    warnings: list[str] = []
    run = reporter(gh, "deployments: {delete_environment: true}\n", warnings)
    run.destroyed(make_ctx("destroy"), DestroyOutcome(existed=True, destroyed=1))
    assert warnings == [
        f"could not delete the GitHub environment pr-7 (HTTP {status}); deleting an environment needs a "
        "token with `administration: write` (the Actions token cannot): set deployments.delete_environment "
        "to false, or use such a token"
    ]
    assert fake.sequence()[-1] == "POST issues/create-comment"  # the destroy is still reported


def test_deployments_can_be_turned_off(fake: FakeGitHub, gh: GitHub) -> None:
    run, ctx = reporter(gh, "deployments: {enabled: false}\n"), make_ctx()
    run.started(ctx)
    run.ready(ctx, deployed())
    run.destroyed(make_ctx("destroy"), DestroyOutcome(existed=True))
    assert not [step for step in fake.sequence() if "deployment" in step]


def test_plan_posts_the_plan_and_creates_no_deployment(fake: FakeGitHub, gh: GitHub) -> None:
    run, ctx = reporter(gh), make_ctx("plan")
    run.started(ctx)
    run.planned(ctx, PlanOutcome(PlanSummary(add=3), "  + resource {}\n"))
    assert fake.sequence() == ["GET issues/list-comments", "POST issues/create-comment"]


def test_a_github_failure_while_reporting_a_failure_is_a_warning(fake: FakeGitHub, gh: GitHub) -> None:
    fake.fail("issues/list-comments", 403, body={"message": "Resource not accessible by integration"})
    warnings: list[str] = []
    run = reporter(gh, "deployments: {enabled: false}\n", warnings)
    run.failed(make_ctx(), PrenvError("plan failed", reason=FailureReason.PLAN_FAILED))
    assert len(warnings) == 1
    assert warnings[0].startswith("could not report the failure on the pull request: GitHub refused to list")


def test_a_github_failure_while_deploying_is_an_error(fake: FakeGitHub, gh: GitHub) -> None:
    fake.fail("repos/create-deployment", 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubError) as caught:
        reporter(gh).started(make_ctx())
    assert caught.value.reason == FailureReason.GITHUB_PERMISSION_DENIED
    assert "`deployments: write`" in caught.value.message


def test_a_personal_token_learns_its_login_from_the_statuses_it_writes() -> None:
    from tests.github.fake import fake_github

    with fake_github(login="octocat", user_endpoint=True) as fake:
        fake.add_deployment("pr-7", creator="octocat", states=("success",))
        fake.add_comment(7, format_marker(Marker()) + "\nready", author="octocat")
        gh = GitHub("ghp_personal", fake.repository, api_url=fake.api_url)
        reporter(gh).destroyed(make_ctx("destroy"), DestroyOutcome(existed=True, destroyed=1))
        assert "GET users/get-authenticated" not in fake.sequence()
        assert fake.sequence()[-1] == "PATCH issues/update-comment"
