"""Evaluations shared by tests/iam's tests and scripts/iam_docs.py: the recorded authorizations, the
workflow's, a preview role under the boundary, and which calls need each statement."""

from __future__ import annotations

import json
from typing import Any

from tests.iam import cases
from tests.iam.policies import EXAMPLE_HASH, Policies
from tests.iam.simulator import ALLOWED, Request, Simulator
from tests.iam.snapshot import SNAPSHOT
from tests.iam.table import DATA_GAPS, Registry, requests_for

NAME = f"prenv-{EXAMPLE_HASH}"
PREVIEW_ROLE = f"{cases.ROLE}/{NAME}-pr101-task"
# What a pull request may write as a preview role's inline policy: anything. The boundary must hold.
EVERYTHING = {
    "everything": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
}


def recorded() -> list[dict[str, Any]]:
    return list(json.loads(SNAPSHOT.read_text(encoding="utf-8")))


def as_request(row: dict[str, Any]) -> Request:
    return Request(row["action"], row["resource"], row["context"], row["why"], row.get("resource_policy"))


def bootstrap_allows(simulator: Simulator, policies: Policies, request: Request) -> str:
    return simulator.evaluate(
        policies.role_arn, request, policies.identity, unvalidated=request.action in DATA_GAPS
    )


def preview_allows(simulator: Simulator, policies: Policies, request: Request, tags: dict[str, str]) -> str:
    context = {**request.context, **{f"aws:PrincipalTag/{k}": v for k, v in tags.items()}}
    return simulator.evaluate(
        PREVIEW_ROLE,
        Request(request.action, request.resource, context),
        EVERYTHING,
        boundary={"boundary": policies.boundary},
    )


def workflow_requests() -> list[tuple[str, Request]]:
    registry = Registry()
    return [
        (f"{call.service} {call.operation}", r)
        for call in cases.WORKFLOW
        for r in requests_for(call, registry)
    ]


def positive_requests() -> list[tuple[str, Request]]:
    """(call, request) of the bootstrap role: every recorded one and the workflow's image step."""
    found = [(row["call"], as_request(row)) for row in recorded() if row["role"] == "bootstrap"]
    return found + workflow_requests()


def necessary_statements(policies: Policies, simulator: Simulator) -> dict[tuple[str, str], list[str]]:
    """For each statement of the bootstrap policies: the calls that fail without it."""
    positives = positive_requests()
    broken: dict[tuple[str, str], list[str]] = {}
    for policy, sid in policies.statements():
        statement = next(s for s in policies.identity[policy]["Statement"] if s["Sid"] == sid)
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        weaker = policies.without(policy, sid)
        broken[(policy, sid)] = [
            f"{call}: {request}"
            for call, request in positives
            if request.action in actions and bootstrap_allows(simulator, weaker, request) != ALLOWED
        ]
    return broken
