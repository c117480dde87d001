"""Every name prenv derives satisfies AWS's rules, for any PR number and any repository name."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prenv.core import naming

# AWS naming rules, as documented for each service.
TARGET_GROUP = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")  # 32, no leading/trailing '-'
RDS = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")  # 63, letter first, lowercase here
ECS_SERVICE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
LOG_GROUP = re.compile(r"^[A-Za-z0-9_/.#-]{1,512}$")
IAM_ROLE = re.compile(r"^[\w+=,.@-]{1,64}$")
SECURITY_GROUP = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
SECRET = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,89}$")
POSTGRES_DB = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")

repositories = st.text(min_size=1, max_size=200).filter(lambda s: bool(s.strip())).map(lambda s: f"owner/{s}")
numbers = st.integers(min_value=1, max_value=naming.MAX_PR_NUMBER)


@settings(max_examples=500)
@given(number=numbers, repository=repositories)
def test_every_name_satisfies_aws_rules(number: int, repository: str) -> None:
    names = naming.names_for(number, repository)
    assert TARGET_GROUP.match(names.target_group)
    assert len(names.target_group) <= 32
    assert len(names.name_prefix) <= 25  # room for a suffix in 32-character ALB/target group names
    assert RDS.match(names.rds_identifier)
    assert "--" not in names.rds_identifier
    assert ECS_SERVICE.match(names.ecs_service)
    assert LOG_GROUP.match(names.log_group)
    assert IAM_ROLE.match(names.execution_role)
    assert IAM_ROLE.match(names.task_role)
    assert SECURITY_GROUP.match(names.service_security_group)
    assert not names.service_security_group.startswith("sg-")
    assert SECRET.match(names.secret_prefix + "app")
    assert WORKSPACE.match(names.workspace)
    assert POSTGRES_DB.match(names.db_name)
    assert names.environment == f"pr-{number}"


github_repositories = st.from_regex(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}", fullmatch=True)


@given(number=numbers, repository=github_repositories)
def test_names_come_only_from_the_number_and_the_repository(number: int, repository: str) -> None:
    names = naming.names_for(number, repository)
    assert names == naming.names_for(number, repository)
    assert names.name_prefix == f"prenv-{naming.repository_hash(repository)}-pr{number}"
    # Case and surrounding blanks do not change a repository's identity on GitHub.
    assert naming.names_for(number, f"  {repository.upper()}  ").name_prefix == names.name_prefix


@given(a=numbers, b=numbers, repository=repositories)
def test_two_prs_never_share_a_name(a: int, b: int, repository: str) -> None:
    if a == b:
        return
    first, second = naming.names_for(a, repository), naming.names_for(b, repository)
    for key in ("workspace", "name_prefix", "rds_identifier", "ecs_service", "log_group", "execution_role"):
        assert getattr(first, key) != getattr(second, key)


def test_known_names() -> None:
    names = naming.names_for(42, "octocat/Hello-World")
    digest = naming.repository_hash("octocat/hello-world")
    assert names.workspace == "pr-42"
    assert names.rds_identifier == f"prenv-{digest}-pr42-db"
    assert names.log_group == f"/prenv/{digest}/pr42"
    assert names.ecs_service == f"prenv-{digest}-pr42-app"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (0, "the PR number must be between 1 and 50000, not 0"),
        (50001, "the PR number must be between 1 and 50000, not 50001"),
        (-3, "the PR number must be between 1 and 50000, not -3"),
        (True, "the PR number must be an integer, not True"),
    ],
)
def test_bad_pr_numbers(number: int, message: str) -> None:
    with pytest.raises(naming.NamingError, match=re.escape(message)):
        naming.names_for(number, "o/r")


def test_empty_repository() -> None:
    with pytest.raises(naming.NamingError, match="the repository name is empty"):
        naming.names_for(1, "  ")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("pr-{number}", "pr-7"), ("preview_{number}", "preview_7"), ("{number}-app", "7-app")],
)
def test_workspace_patterns(pattern: str, expected: str) -> None:
    assert naming.workspace_name(pattern, 7) == expected
    assert naming.pr_number_from_workspace(pattern, expected) == 7


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("pr", "must contain `{number}` exactly once"),
        ("pr-{number}-{number}", "must contain `{number}` exactly once"),
        ("pr-{branch}", "must contain `{number}` exactly once"),
        ("pr {number}", "gives invalid names"),
        ("-{number}", "gives invalid names"),
    ],
)
def test_bad_workspace_patterns(pattern: str, message: str) -> None:
    with pytest.raises(naming.NamingError, match=re.escape(message)):
        naming.check_workspace_pattern(pattern)


@pytest.mark.parametrize(
    "workspace", ["default", "pr-", "pr-0", "pr-01", "pr-12x", "xpr-12", "pr-99999999999"]
)
def test_workspaces_that_are_not_previews(workspace: str) -> None:
    assert naming.pr_number_from_workspace("pr-{number}", workspace) is None


@given(number=numbers)
def test_workspace_round_trip(number: int) -> None:
    assert (
        naming.pr_number_from_workspace("pr-{number}", naming.workspace_name("pr-{number}", number)) == number
    )
