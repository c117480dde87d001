"""The workflows' decisions, evaluated from their own `if:` strings against GitHub's webhook payloads.

The payloads are the vendored official examples (tests/fixtures/github/webhooks, the fork one included).
No official payload holds a `/prenv` command, so the comment cases copy the official comment-on-a-PR
payload and change only `comment.body`, `comment.author_association` or `issue.state`, as each case says.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.action import gha_expr
from tests.action.conftest import WORKFLOWS, load_yaml, payload, triggers

PREVIEW = load_yaml(WORKFLOWS / "preview.yml")
FORK_NOTICE = load_yaml(WORKFLOWS / "fork-notice.yml")
JOBS = ("image", "destroy", "wake")  # the deploy job runs when the image job ran (`needs: image`)


def _comment(
    body: str, association: str = "OWNER", *, on_pr: bool = True, state: str = "open"
) -> dict[str, Any]:
    event = copy.deepcopy(
        payload("issue_comment.created.on_pull_request.derived" if on_pr else "issue_comment.created")
    )
    event["comment"]["body"] = body
    event["comment"]["author_association"] = association
    event["issue"]["state"] = state
    return event


def _contexts(event_name: str, event: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    return {"github": gha_expr.github_context(event_name, event), "vars": variables}


def _decide(event_name: str, event: dict[str, Any], variables: dict[str, str]) -> set[str]:
    """The jobs that run: `deploy` stands for the image job and the deploy job that needs it."""
    contexts = _contexts(event_name, event, variables)
    run = {job for job in JOBS if gha_expr.condition(PREVIEW["jobs"][job].get("if"), contexts)}
    return {"deploy" if job == "image" else job for job in run}


def test_the_deploy_job_runs_after_the_image_job_and_only_then() -> None:
    deploy = PREVIEW["jobs"]["deploy"]
    assert deploy["needs"] == "image"
    assert "if" not in deploy  # skipped whenever the image job is skipped or fails


def _fork(action: str) -> dict[str, Any]:
    event = payload("pull_request.opened.from_fork.derived")
    event["action"] = action  # only the action differs from the derived fork payload
    if action == "closed":
        event["pull_request"]["state"] = "closed"
    return event


NO_LABEL: dict[str, str] = {}
LABEL_BUG = {"PRENV_LABEL": "bug"}  # every example PR carries the label "bug"
LABEL_OTHER = {"PRENV_LABEL": "preview"}


def _pr(name: str) -> dict[str, Any]:
    return payload(f"pull_request.{name}")


def _event_name(event: dict[str, Any]) -> str:
    return "issue_comment" if "comment" in event else "pull_request"


CASES = [
    # (case id, payload, repository variables, jobs that run)
    ("opened", _pr("opened"), NO_LABEL, {"deploy"}),
    ("synchronize", _pr("synchronize"), NO_LABEL, {"deploy"}),
    ("reopened", _pr("reopened"), NO_LABEL, {"deploy"}),
    ("closed unmerged", _pr("closed.not_merged"), NO_LABEL, {"destroy"}),
    ("closed merged", _pr("closed.merged.derived"), NO_LABEL, {"destroy"}),
    ("labeled, no opt-in label", _pr("labeled"), NO_LABEL, set()),
    ("labeled with the opt-in label", _pr("labeled"), LABEL_BUG, {"deploy"}),
    ("labeled with another label", _pr("labeled"), LABEL_OTHER, set()),
    ("opened, has the opt-in label", _pr("opened"), LABEL_BUG, {"deploy"}),
    ("opened, lacks the opt-in label", _pr("opened"), LABEL_OTHER, set()),
    ("closed, without the opt-in label", _pr("closed.not_merged"), LABEL_OTHER, {"destroy"}),
    # A fork's PR: preview.yml runs nothing (fork-notice.yml comments, see below).
    ("fork opened", _pr("opened.from_fork.derived"), NO_LABEL, set()),
    ("fork opened, labelled", _pr("opened.from_fork.derived"), LABEL_BUG, set()),
    ("fork synchronize", _fork("synchronize"), NO_LABEL, set()),
    ("fork closed", _fork("closed"), NO_LABEL, set()),
    ("fork labeled", _fork("labeled"), LABEL_BUG, set()),
    ("comment without a command", payload("issue_comment.created.on_pull_request.derived"), NO_LABEL, set()),
    ("comment on an issue, not a PR", _comment("/prenv deploy", on_pr=False), NO_LABEL, set()),
    ("/prenv deploy by the owner", _comment("/prenv deploy"), NO_LABEL, {"deploy"}),
    ("/prenv plan by a member", _comment("/prenv plan", "MEMBER"), NO_LABEL, {"deploy"}),
    ("/prenv destroy by a collaborator", _comment("/prenv destroy", "COLLABORATOR"), NO_LABEL, {"destroy"}),
    ("command case-insensitive", _comment("/PRENV Deploy"), NO_LABEL, {"deploy"}),
    ("command then more text", _comment("/prenv deploy\nplease"), NO_LABEL, {"deploy"}),
    ("command not at the start", _comment("please /prenv deploy"), NO_LABEL, set()),
    ("/prenv deploy by a contributor", _comment("/prenv deploy", "CONTRIBUTOR"), NO_LABEL, set()),
    ("/prenv deploy by a first-timer", _comment("/prenv deploy", "FIRST_TIME_CONTRIBUTOR"), NO_LABEL, set()),
    ("/prenv destroy by nobody", _comment("/prenv destroy", "NONE"), NO_LABEL, set()),
    ("/prenv deploy on a closed PR", _comment("/prenv deploy", state="closed"), NO_LABEL, set()),
    ("/prenv destroy on a closed PR", _comment("/prenv destroy", state="closed"), NO_LABEL, {"destroy"}),
    ("label opt-in does not gate commands", _comment("/prenv deploy"), LABEL_OTHER, {"deploy"}),
    ("/prenv wake by the owner", _comment("/prenv wake"), NO_LABEL, {"wake"}),
    ("/prenv wake by a collaborator", _comment("/Prenv Wake", "COLLABORATOR"), NO_LABEL, {"wake"}),
    ("/prenv wake by a contributor", _comment("/prenv wake", "CONTRIBUTOR"), NO_LABEL, set()),
    ("/prenv wake by nobody", _comment("/prenv wake", "NONE"), NO_LABEL, set()),
    ("/prenv wake on a closed PR", _comment("/prenv wake", state="closed"), NO_LABEL, set()),
    ("/prenv wake on an issue", _comment("/prenv wake", on_pr=False), NO_LABEL, set()),
]


@pytest.mark.parametrize(
    ("event", "variables", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_each_event_runs_exactly_the_expected_jobs(
    event: dict[str, Any], variables: dict[str, str], expected: set[str]
) -> None:
    assert _decide(_event_name(event), event, variables) == expected


@pytest.mark.parametrize(
    ("event_name", "event", "command"),
    [
        ("pull_request", payload("pull_request.opened"), "deploy"),
        ("issue_comment", _comment("/prenv deploy"), "deploy"),
        ("issue_comment", _comment("/prenv plan"), "plan"),
        ("issue_comment", _comment("/Prenv PLAN"), "plan"),
    ],
)
def test_the_deploy_job_passes_the_command_to_the_action(
    event_name: str, event: dict[str, Any], command: str
) -> None:
    step = next(s for s in PREVIEW["jobs"]["deploy"]["steps"] if s.get("uses") == "./")
    assert gha_expr.render(step["with"]["command"], _contexts(event_name, event, {})) == command


def test_deploy_and_destroy_of_one_pr_share_one_queue_whatever_the_event() -> None:
    groups = set()
    for job in ("deploy", "destroy"):
        concurrency = PREVIEW["jobs"][job]["concurrency"]
        assert concurrency["cancel-in-progress"] is False
        for event_name, event in (
            ("pull_request", payload("pull_request.opened")),
            ("pull_request", payload("pull_request.closed.merged.derived")),
        ):
            groups.add(gha_expr.render(concurrency["group"], _contexts(event_name, event, {})))
    assert groups == {"prenv-preview-pr-2"}
    comment = gha_expr.render(
        PREVIEW["jobs"]["destroy"]["concurrency"]["group"],
        _contexts("issue_comment", _comment("/prenv destroy"), {}),
    )
    assert comment == "prenv-preview-pr-1"  # the comment payload is about PR #1
    wake = PREVIEW["jobs"]["wake"]["concurrency"]
    assert wake["cancel-in-progress"] is False
    assert gha_expr.render(wake["group"], _contexts("issue_comment", _comment("/prenv wake"), {})) == comment


@pytest.mark.parametrize("job", ["image", "destroy", "wake"])
def test_commands_are_acknowledged_only_on_comments(job: str) -> None:
    step = next(s for s in PREVIEW["jobs"][job]["steps"] if s["name"] == "Acknowledge the command")
    assert "reactions" in step["run"]
    assert gha_expr.condition(step["if"], _contexts("issue_comment", _comment("/prenv deploy"), {}))
    assert not gha_expr.condition(step["if"], _contexts("pull_request", payload("pull_request.opened"), {}))


def test_the_comment_run_looks_up_the_head_commit_and_passes_it() -> None:
    steps = PREVIEW["jobs"]["image"]["steps"]
    head = next(s for s in steps if s.get("id") == "head")
    assert gha_expr.condition(head["if"], _contexts("issue_comment", _comment("/prenv deploy"), {}))
    assert not gha_expr.condition(head["if"], _contexts("pull_request", payload("pull_request.opened"), {}))
    assert PREVIEW["jobs"]["image"]["outputs"]["sha"] == "${{ steps.head.outputs.sha }}"
    action = next(s for s in PREVIEW["jobs"]["deploy"]["steps"] if s.get("uses") == "./")
    assert action["with"]["sha"] == "${{ needs.image.outputs.sha }}"


def test_destroy_checks_out_the_base_commit_or_the_default_branch() -> None:
    checkout = next(
        s
        for s in PREVIEW["jobs"]["destroy"]["steps"]
        if str(s.get("uses", "")).startswith("actions/checkout@")
    )
    closed = payload("pull_request.closed.merged.derived")
    contexts = _contexts("pull_request", closed, {})
    assert gha_expr.render(checkout["with"]["ref"], contexts) == closed["pull_request"]["base"]["sha"]
    comment = _contexts("issue_comment", _comment("/prenv destroy"), {})
    comment["github"]["sha"] = "0" * 40
    assert gha_expr.render(checkout["with"]["ref"], comment) == "0" * 40


# --- fork-notice.yml: pull_request_target, fork PRs only ------------------------------------------------


def _deleted_fork() -> dict[str, Any]:
    event = payload("pull_request.opened.from_fork.derived")
    event["pull_request"]["head"]["repo"] = None  # GitHub sends null once the fork is deleted
    return event


FORK_NOTICE_CASES = [
    # (case id, payload, whether the comment job runs); the trigger admits only opened and reopened
    ("fork opened", _pr("opened.from_fork.derived"), True),
    ("fork reopened", _fork("reopened"), True),
    ("fork whose repository was deleted", _deleted_fork(), True),
    ("same repository opened", _pr("opened"), False),
    ("same repository reopened", _pr("reopened"), False),
]


@pytest.mark.parametrize(
    ("event", "runs"), [case[1:] for case in FORK_NOTICE_CASES], ids=[case[0] for case in FORK_NOTICE_CASES]
)
def test_the_fork_notice_comments_on_forks_only(event: dict[str, Any], runs: bool) -> None:
    assert set(FORK_NOTICE["jobs"]) == {"comment"}
    job = FORK_NOTICE["jobs"]["comment"]
    assert event["action"] in triggers(FORK_NOTICE)["pull_request_target"]["types"]
    assert gha_expr.condition(job["if"], _contexts("pull_request_target", event, {})) is runs


def test_the_fork_notice_runs_on_opened_and_reopened_only() -> None:
    assert triggers(FORK_NOTICE) == {"pull_request_target": {"types": ["opened", "reopened"]}}


def test_the_fork_notice_gets_the_pr_number_through_env() -> None:
    (step,) = FORK_NOTICE["jobs"]["comment"]["steps"]
    env = {
        name: gha_expr.render(value, _contexts("pull_request_target", _pr("opened.from_fork.derived"), {}))
        for name, value in step["env"].items()
    }
    assert env == {
        "GH_TOKEN": "ghs_fake-token-for-tests",
        "REPOSITORY": "Codertocat/Hello-World",
        "PR_NUMBER": "2",
    }


# --- preview.yml: the image job ---------------------------------------------------------------------

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prenv-0a1b2c"
COMMENT_SHA = "c" * 40


def _after_head_step(event_name: str, event: dict[str, Any], fork: str = "false") -> dict[str, Any]:
    contexts = _contexts(event_name, event, {})
    head = {"sha": COMMENT_SHA, "fork": fork} if event_name == "issue_comment" else {}
    contexts["steps"] = {"head": {"outputs": head}}
    return contexts


@pytest.mark.parametrize(
    ("event_name", "event", "fork", "inputs"),
    [
        (
            "pull_request",
            _pr("opened"),
            "",
            {"command": "image", "sha": _pr("opened")["pull_request"]["head"]["sha"], "build": "true"},
        ),
        (
            "pull_request",
            _pr("synchronize"),
            "",
            {"command": "image", "sha": _pr("synchronize")["pull_request"]["head"]["sha"], "build": "true"},
        ),
        (
            "issue_comment",
            _comment("/prenv deploy"),
            "false",
            {"command": "image", "sha": COMMENT_SHA, "build": "false"},
        ),
        (
            "issue_comment",
            _comment("/prenv plan"),
            "false",
            {"command": "image", "sha": COMMENT_SHA, "build": "false"},
        ),
        ("issue_comment", _comment("/prenv deploy"), "true", None),
    ],
    ids=["pull_request", "synchronize", "/prenv deploy", "/prenv plan", "/prenv deploy on a fork's PR"],
)
def test_the_image_step_builds_on_pull_requests_and_only_looks_up_on_comments(
    event_name: str, event: dict[str, Any], fork: str, inputs: dict[str, str] | None
) -> None:
    """A comment's run checks out the default branch: it must never build (`build: false`)."""
    step = next(s for s in PREVIEW["jobs"]["image"]["steps"] if s.get("id") == "image")
    assert step["uses"] == "./"
    contexts = _after_head_step(event_name, event, fork)
    assert gha_expr.condition(step["if"], contexts) is (inputs is not None)
    if inputs is not None:
        assert {name: gha_expr.render(str(value), contexts) for name, value in step["with"].items()} == inputs


@pytest.mark.parametrize(
    ("image_outputs", "expected"),
    [({"image": f"{ECR}:{'a' * 40}"}, f"{ECR}:{'a' * 40}"), ({"image": ""}, "")],
    ids=["the image job's image", "no image: the configuration's"],
)
def test_the_deploy_job_passes_the_image_to_the_action(image_outputs: dict[str, str], expected: str) -> None:
    assert PREVIEW["jobs"]["image"]["outputs"]["image"] == "${{ steps.image.outputs.image }}"
    step = next(s for s in PREVIEW["jobs"]["deploy"]["steps"] if s.get("uses") == "./")
    contexts = _contexts("pull_request", _pr("opened"), {})
    contexts["needs"] = {"image": {"outputs": {**image_outputs, "sha": ""}}}
    assert gha_expr.render(step["with"]["image"], contexts) == expected
