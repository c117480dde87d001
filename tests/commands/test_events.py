"""The PR number comes from --pr or from the event payload (pull_request and comments on a PR)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from prenv.commands.deploy import wants_preview
from prenv.commands.wiring import Services, resolve_pr
from prenv.core import event as events
from prenv.core.config import parse
from prenv.core.errors import ExitStatus, UsageError
from tests.helpers import GITHUB_FIXTURES

WEBHOOKS = GITHUB_FIXTURES / "webhooks"


def services(event: str | None = None) -> Services:
    env = {"GITHUB_EVENT_PATH": str(WEBHOOKS / event)} if event else {}
    return Services(env=env, out=io.StringIO(), err=io.StringIO(), cwd=Path.cwd())


@pytest.mark.parametrize(
    ("event", "number"),
    [
        ("pull_request.opened.json", 2),
        ("pull_request.synchronize.json", 2),
        ("pull_request.closed.merged.derived.json", 2),
        ("issue_comment.created.on_pull_request.derived.json", 1),
    ],
)
def test_number_from_event(event: str, number: int) -> None:
    assert resolve_pr(services(event), None)[0] == number


def test_option_wins_over_event() -> None:
    number, event = resolve_pr(services("pull_request.opened.json"), "7")
    assert (number, event) == (7, None)


def test_event_details_kept_when_numbers_agree() -> None:
    number, event = resolve_pr(services("pull_request.opened.json"), "#2")
    assert number == 2
    assert event is not None
    assert event.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert event.is_fork is False


def test_fork_is_recognised() -> None:
    event = events.pull_request_event(
        json.loads((WEBHOOKS / "pull_request.opened.from_fork.derived.json").read_text())
    )
    assert event is not None
    assert event.is_fork is True


def test_comment_on_an_issue_is_not_a_pull_request() -> None:
    with pytest.raises(UsageError) as info:
        resolve_pr(services("issue_comment.created.json"), None)
    assert info.value.exit_status is ExitStatus.USAGE
    assert info.value.one_line() == (
        "no pull request number; pass --pr N, "
        "or run on a pull_request event or a comment on a PR (GITHUB_EVENT_PATH)"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "--pr must be a pull request number such as 42, not 'abc'"),
        ("", "--pr must be a pull request number such as 42, not ''"),
        ("4.5", "--pr must be a pull request number such as 42, not '4.5'"),
        ("0", "--pr: the PR number must be between 1 and 50000, not 0"),
    ],
)
def test_bad_pr_option(value: str, message: str) -> None:
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        resolve_pr(services(), value)


def test_missing_event_file(tmp_path: Path) -> None:
    svc = Services(env={"GITHUB_EVENT_PATH": str(tmp_path / "none.json")}, cwd=tmp_path)
    with pytest.raises(UsageError, match=r"GITHUB_EVENT_PATH points at .* which does not exist"):
        resolve_pr(svc, None)


def test_same_repository_pr_in_a_forked_repository_is_not_a_fork() -> None:
    payload = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    payload["pull_request"]["head"]["repo"]["fork"] = True  # the repository itself is a fork of another
    payload["pull_request"]["base"]["repo"]["fork"] = True
    event = events.pull_request_event(payload)
    assert event is not None
    assert event.is_fork is False


def test_pr_from_a_deleted_fork_counts_as_a_fork() -> None:
    payload = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    payload["pull_request"]["head"]["repo"] = None
    event = events.pull_request_event(payload)
    assert event is not None
    assert event.is_fork is True


def _label_target(labels: tuple[str, ...], *, comment: str = "", configured: str = "preview") -> bool:
    config = parse(f"backend: {{bucket: b, region: r}}\nlabel: '{configured}'\n")
    event = events.PullRequestEvent(number=3, labels=labels, comment_body=comment)
    return wants_preview(config, event)


@pytest.mark.parametrize(
    ("labels", "comment", "configured", "deploys"),
    [
        (("bug", "preview"), "", "preview", True),
        (("bug",), "", "preview", False),
        ((), "", "preview", False),
        ((), "/prenv deploy", "preview", True),  # a maintainer's explicit request
        ((), "", "", True),  # no opt-in label configured
    ],
)
def test_label_opt_in(labels: tuple[str, ...], comment: str, configured: str, deploys: bool) -> None:
    assert _label_target(labels, comment=comment, configured=configured) is deploys


@pytest.mark.parametrize(
    ("body", "association", "options"),
    [
        ("/prenv deploy --reseed", "MEMBER", ("--reseed",)),
        ("/prenv deploy --reseed\nbecause the seed changed", "OWNER", ("--reseed",)),
        ("  /prenv   deploy  --reseed  ", "COLLABORATOR", ("--reseed",)),
        ("/prenv deploy", "MEMBER", ()),
        ("/prenv plan --reseed", "MEMBER", ()),  # an option of another command
        ("please /prenv deploy --reseed", "MEMBER", ()),  # not a command: it does not start the comment
        ("/prenv deploy\n--reseed", "MEMBER", ()),  # only the command's own line counts
        ("/prenv deploy --reseed", "CONTRIBUTOR", ()),  # not trusted, as in the workflow's `if:`
        ("/prenv deploy --reseed", "NONE", ()),
        ("", "MEMBER", ()),
        ("   ", "MEMBER", ()),
    ],
)
def test_comment_options_of_a_trusted_command(body: str, association: str, options: tuple[str, ...]) -> None:
    event = events.PullRequestEvent(number=4, comment_body=body, author_association=association)
    assert events.comment_options(event, "deploy") == options


def test_no_event_has_no_options() -> None:
    assert events.comment_options(None, "deploy") == ()
    assert events.comment_options(events.PullRequestEvent(number=4), "deploy") == ()
