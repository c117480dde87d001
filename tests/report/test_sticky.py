"""The sticky comment: one per PR and environment, found by marker and author on any page, edited in place."""

from __future__ import annotations

from prenv.core.domain import DestroyOutcome
from prenv.core.marker import Marker, format_marker, parse_marker
from prenv.github.client import GitHub
from prenv.report.pr import GitHubReporter, comment_body
from tests.github.conftest import RUN_URL, SHA, deployed, make_config, make_ctx
from tests.github.fake import BOT, FakeGitHub

COMMENTS_ONLY = make_config("deployments: {enabled: false}\n")
MARKER = format_marker(Marker())


def reporter(gh: GitHub, config_text: str = "deployments: {enabled: false}\n") -> GitHubReporter:
    return GitHubReporter(config=make_config(config_text), github=gh)


def deploy(gh: GitHub, *, head_sha: str = SHA, run_url: str = RUN_URL) -> None:
    """One `prenv deploy` run as the GitHub reporter sees it."""
    run = reporter(gh)
    context = make_ctx(head_sha=head_sha, run_url=run_url)
    run.started(context)
    run.ready(context, deployed())


def writes(fake: FakeGitHub) -> list[str]:
    return [step for step in fake.sequence() if not step.startswith("GET")]


def test_first_deploy_creates_one_comment(fake: FakeGitHub, gh: GitHub) -> None:
    fake.add_comment(7, "Nice change!", author="octocat")
    deploy(gh)
    assert writes(fake) == ["POST issues/create-comment", "PATCH issues/update-comment"]
    mine = [c for c in fake.comments[7] if c["user"]["login"] == BOT]
    assert len(mine) == 1
    body = mine[0]["body"]
    assert body.startswith(MARKER + "\n")
    assert "https://pr-7.preview.example/" in body
    assert "hunter2-Sup3r-S3cret" not in body  # a sensitive output never reaches GitHub


def test_second_deploy_edits_the_same_comment(fake: FakeGitHub, gh: GitHub) -> None:
    deploy(gh)
    first_id = fake.comments[7][0]["id"]
    fake.requests.clear()
    deploy(gh, head_sha="f" * 40, run_url=RUN_URL + "0")
    assert writes(fake) == ["PATCH issues/update-comment", "PATCH issues/update-comment"]
    assert len(fake.comments[7]) == 1
    assert fake.comments[7][0]["id"] == first_id
    assert all(r.path == f"/repos/octo-org/app/issues/comments/{first_id}" for r in fake.requests[1:])


def test_the_deploying_state_comes_first(fake: FakeGitHub, gh: GitHub) -> None:
    run = reporter(gh)
    run.started(make_ctx())
    (body,) = fake.comment_bodies(7)
    assert body == comment_body("deploying", make_ctx(), COMMENTS_ONLY)
    assert "ec26c3e" in body
    assert RUN_URL in body


def test_marker_on_page_3_of_250_comments_is_found(fake: FakeGitHub, gh: GitHub) -> None:
    for index in range(250):
        if index == 230:
            fake.add_comment(7, MARKER + "\nold prenv comment", author=BOT)
        else:
            fake.add_comment(7, f"comment {index}", author="octocat")
    deploy(gh)
    assert fake.sequence() == [
        "GET issues/list-comments",
        "GET issues/list-comments",
        "GET issues/list-comments",
        "PATCH issues/update-comment",
        "PATCH issues/update-comment",
    ]
    assert fake.requests[2].query["page"] == "3"
    assert len(fake.comments[7]) == 250
    assert parse_marker(fake.comments[7][230]["body"]) == Marker()
    assert "old prenv comment" not in fake.comments[7][230]["body"]


def test_the_same_marker_by_another_user_is_ignored(fake: FakeGitHub, gh: GitHub) -> None:
    forged = fake.add_comment(7, MARKER + "\nI wrote this myself", author="mallory")
    deploy(gh)
    assert forged["body"] == MARKER + "\nI wrote this myself"
    assert writes(fake) == ["POST issues/create-comment", "PATCH issues/update-comment"]
    assert [c["user"]["login"] for c in fake.comments[7]] == ["mallory", BOT]


def test_an_unchanged_body_is_not_written_again(fake: FakeGitHub, gh: GitHub) -> None:
    run = reporter(gh)
    run.ready(make_ctx(), deployed())
    assert writes(fake) == ["POST issues/create-comment"]
    fake.requests.clear()
    again = reporter(gh)
    again.ready(make_ctx(), deployed())
    assert fake.sequence() == ["GET issues/list-comments"]


def test_one_comment_per_environment(fake: FakeGitHub, gh: GitHub) -> None:
    reporter(gh).ready(make_ctx(), deployed())
    reporter(gh).ready(make_ctx(comment_environment="staging"), deployed())
    reporter(gh).ready(make_ctx(comment_environment="staging"), deployed("https://other.example/"))
    markers = [parse_marker(body) for body in fake.comment_bodies(7)]
    assert markers == [Marker(env=""), Marker(env="staging")]
    assert "https://other.example/" in fake.comment_bodies(7)[1]


def test_a_personal_token_finds_its_own_comments(clock: object) -> None:
    from tests.github.fake import fake_github

    with fake_github(login="octocat", user_endpoint=True) as fake:
        fake.add_comment(7, MARKER + "\nold", author="github-actions[bot]")
        mine = fake.add_comment(7, MARKER + "\nold", author="octocat")
        gh = GitHub("ghp_personal", fake.repository, api_url=fake.api_url)
        reporter(gh).ready(make_ctx(), deployed())
        assert fake.sequence() == [
            "GET issues/list-comments",
            "GET users/get-authenticated",
            "PATCH issues/update-comment",
        ]
        assert fake.requests[-1].path.endswith(f"/issues/comments/{mine['id']}")


def test_the_comment_can_be_turned_off(fake: FakeGitHub, gh: GitHub) -> None:
    run = reporter(gh, "comment: {enabled: false}\ndeployments: {enabled: false}\n")
    run.started(make_ctx())
    run.ready(make_ctx(), deployed())
    assert fake.requests == []


def test_destroy_without_a_preview_posts_nothing(fake: FakeGitHub, gh: GitHub) -> None:
    reporter(gh).destroyed(make_ctx("destroy"), DestroyOutcome(existed=False))
    assert fake.sequence() == ["GET issues/list-comments"]


def test_destroy_updates_the_comment(fake: FakeGitHub, gh: GitHub) -> None:
    deploy(gh)
    reporter(gh).destroyed(
        make_ctx("destroy"), DestroyOutcome(existed=True, destroyed=3, workspace_deleted=True)
    )
    (body,) = fake.comment_bodies(7)
    assert body == comment_body(
        "destroyed",
        make_ctx("destroy"),
        COMMENTS_ONLY,
        destroy=DestroyOutcome(existed=True, destroyed=3, workspace_deleted=True),
    )


def test_a_comment_deleted_meanwhile_is_posted_again(fake: FakeGitHub, gh: GitHub) -> None:
    fake.add_comment(7, MARKER + "\nold", author=BOT)
    fake.fail("issues/update-comment", 404, body={"message": "Not Found"})
    reporter(gh).ready(make_ctx(), deployed())
    assert fake.sequence() == [
        "GET issues/list-comments",
        "PATCH issues/update-comment",
        "POST issues/create-comment",
    ]
