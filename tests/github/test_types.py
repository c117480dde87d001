"""The values prenv reads from GitHub's REST answers: GitHub's published examples, and the edge cases."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from prenv.github.types import Comment, comment_from, deployment_from, pull_detail_from, pull_summary_from
from tests.helpers import REPO_ROOT

REST = REPO_ROOT / "tests" / "fixtures" / "github" / "rest"


def example(operation: str) -> Any:
    return copy.deepcopy(json.loads((REST / f"{operation}.json").read_text())["example_response"])


def test_a_pull_detail_from_githubs_example() -> None:
    pr = pull_detail_from(example("pulls.get"), 1)
    assert (pr.number, pr.head_ref, pr.state, pr.is_fork) == (1347, "new-topic", "open", False)
    assert pr.head_sha == "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    assert pr.title == "Amazing new feature"


def test_a_pull_detail_from_a_fork_or_a_deleted_fork_is_a_fork() -> None:
    data = example("pulls.get")
    data["head"]["repo"]["full_name"] = "someone/Hello-World"
    assert pull_detail_from(data, 1347).is_fork
    data["head"]["repo"] = None
    assert pull_detail_from(data, 1347).is_fork


def test_a_pull_request_without_a_number_keeps_the_one_asked_for() -> None:
    assert pull_detail_from({}, 9).number == 9


@pytest.mark.parametrize(("merged_at", "merged"), [(None, False), ("2011-01-26T19:01:12Z", True)])
def test_a_listed_pull_request(merged_at: str | None, merged: bool) -> None:
    item = example("pulls.list")[0]
    item["merged_at"] = merged_at
    summary = pull_summary_from(item)
    assert (summary.number, summary.state, summary.merged) == (1347, "open", merged)
    assert summary.labels == ("bug",)
    assert summary.updated_at == "2011-01-26T19:01:12Z"


def test_a_comment_and_its_pr_number() -> None:
    comment = comment_from(example("issues.create-comment"))
    assert (comment.id, comment.author, comment.body) == (1, "octocat", "Me too")
    assert comment.issue_number == 1347
    assert Comment(1, "", "").issue_number == 0  # GitHub did not say


def test_a_deployment_and_its_creator() -> None:
    deployment = deployment_from(example("repos.create-deployment"))
    assert (deployment.id, deployment.environment, deployment.creator) == (1, "production", "octocat")
    assert deployment.sha == "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d"
    assert deployment_from({"id": 2, "creator": None}).creator == ""
