"""What `prenv doctor` asks GitHub: the token's scopes or permissions, and the repository variables.

A classic token says its scopes in every answer (`X-OAuth-Scopes`). Fine-grained and installation tokens
(the workflow's GITHUB_TOKEN, GitHub Apps) say nothing about themselves, so each permission prenv needs
is probed with a request that needs it but changes nothing: GitHub answers 403 (with the permissions it
would accept, `X-Accepted-GitHub-Permissions`) when the token lacks it, and a 404 or 422 when the token
has it but the request cannot succeed (a comment that does not exist, a ref that cannot exist).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from prenv.core.doctor import GitHubFacts
from prenv.github.client import GitHub
from prenv.github.http import GitHubError

ACCEPTED = "x-accepted-github-permissions"
SCOPES = "x-oauth-scopes"
# A ref no repository can have (git refuses `..` and `~` in ref names): creating a deployment of it
# fails with 422 once the token may create deployments at all.
IMPOSSIBLE_REF = "prenv-doctor..probe~"
# Comment ids start at 1: editing comment 0 fails with 404 once the token may edit comments at all.
NO_COMMENT = 0
VARIABLES_PER_PAGE = 30  # the most GitHub lists per page for repository variables


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


def _probe(send: Callable[[], object]) -> tuple[bool | None, str]:
    """Whether the token has the permission `send` needs (a 2xx, 404, 409 or 422 says yes, a 403 no;
    None: another answer), and the permissions GitHub would accept instead."""
    try:
        send()
    except GitHubError as exc:
        if exc.status == 403:
            return False, exc.headers.get(ACCEPTED, "")
        return (True, "") if exc.status in (404, 409, 422) else (None, "")
    return True, ""


def token_facts(github: GitHub) -> GitHubFacts:
    """The repository as the token sees it, and what the token may do there."""
    repository = github.repository
    try:
        headers, data = github.http.request(
            "GET", f"/repos/{repository}", what=f"read {repository}", permission="metadata: read"
        )
    except GitHubError as exc:
        return GitHubFacts(repository=repository, token=True, error=exc.one_line())
    scopes = _header(headers, SCOPES)
    facts = GitHubFacts(
        repository=repository,
        token=True,
        private=bool((data or {}).get("private", True)),
        scopes=None if scopes is None else tuple(s.strip() for s in scopes.split(",") if s.strip()),
    )
    if facts.scopes is not None:
        return facts
    http = github.http
    probes: dict[str, Callable[[], object]] = {
        "pull-requests: read": lambda: http.request(
            "GET",
            f"/repos/{repository}/pulls",
            what="list the pull requests (a probe)",
            permission="pull-requests: read",
            parameters={"state": "all", "per_page": 1},
        ),
        "pull-requests: write": lambda: http.request(
            "PATCH",
            f"/repos/{repository}/issues/comments/{NO_COMMENT}",
            what="edit a comment that does not exist (a probe)",
            permission="pull-requests: write",
            body={"body": "prenv doctor: a permission probe"},
        ),
        "deployments: write": lambda: http.request(
            "POST",
            f"/repos/{repository}/deployments",
            what="create a deployment of a ref that cannot exist (a probe)",
            permission="deployments: write",
            body={
                "ref": IMPOSSIBLE_REF,
                "environment": "prenv-doctor-probe",
                "description": "prenv doctor: a permission probe (no such ref)",
                "auto_merge": False,
                "required_contexts": [],
                "transient_environment": True,
                "production_environment": False,
            },
        ),
    }
    answers = {permission: _probe(send) for permission, send in probes.items()}
    return replace(
        facts,
        granted={permission: granted for permission, (granted, _) in answers.items()},
        accepted={permission: accepted for permission, (_, accepted) in answers.items() if accepted},
    )


def repository_variables(github: GitHub) -> tuple[dict[str, str] | None, str]:
    """The repository's Actions variables (name -> value), or None and why they could not be read."""
    values: dict[str, str] = {}
    page = 1
    while True:
        try:
            _, data = github.http.request(
                "GET",
                f"/repos/{github.repository}/actions/variables",
                what="list the repository variables",
                permission="variables: read",
                parameters={"per_page": VARIABLES_PER_PAGE, "page": page},
            )
        except GitHubError as exc:
            return None, f"HTTP {exc.status}" if exc.status else exc.one_line()
        items = (data or {}).get("variables") or []
        values.update({str(item.get("name", "")): str(item.get("value", "")) for item in items})
        if len(items) < VARIABLES_PER_PAGE:
            return values, ""
        page += 1
