"""Evaluations shared by tests/iam's tests and scripts/iam_docs.py: the recorded authorizations, the
workflow's, a preview role under the boundary, and which calls need each statement."""

from __future__ import annotations

import json
from typing import Any

from tests.iam import cases
from tests.iam.policies import EXAMPLE_HASH, Policies
from tests.iam.recorder import Call
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
    """The workflows' role: its identity policies, under its own permissions boundary."""
    return simulator.evaluate(
        policies.role_arn,
        request,
        policies.identity,
        boundary={"github-boundary": policies.role_boundary},
        unvalidated=request.action in DATA_GAPS,
    )


def preview_allows(simulator: Simulator, policies: Policies, request: Request, tags: dict[str, str]) -> str:
    context = {**request.context, **{f"aws:PrincipalTag/{k}": v for k, v in tags.items()}}
    return simulator.evaluate(
        PREVIEW_ROLE,
        Request(request.action, request.resource, context),
        EVERYTHING,
        boundary={"boundary": policies.boundary},
    )


def declared_requests() -> list[tuple[str, Request]]:
    """(call, request) of the calls no test records: the workflow's image step, and the paths of
    cases.UNRECORDED (replayed in order, so each sees what the ones before it created)."""
    registry = Registry()
    registry.observe(BASE_LISTENER_CALL)
    found: list[tuple[str, Request]] = []
    for call in [*cases.WORKFLOW, *cases.UNRECORDED]:
        found += [(f"{call.service} {call.operation}", r) for r in requests_for(call, registry)]
        registry.observe(call)
    return found


# The base's listener, as terraform/base creates it (its tags: no prenv:pr).
BASE_LISTENER_CALL = Call(
    service="elbv2",
    operation="CreateListener",
    params={"Tags": [{"Key": k, "Value": v} for k, v in cases.BASE_TAGS.items()]},
    region=cases.REGION,
    actor="other",
    status=200,
    response={"Listeners": [{"ListenerArn": cases.BASE_LISTENER}]},
)


def positive_requests() -> list[tuple[str, Request]]:
    """(call, request) of the bootstrap role: every recorded one and the workflow's image step."""
    found = [(row["call"], as_request(row)) for row in recorded() if row["role"] == "bootstrap"]
    return found + declared_requests()


def necessary_statements(policies: Policies, simulator: Simulator) -> dict[tuple[str, str], list[str]]:
    """For each statement of the bootstrap policies: the calls that fail without it."""
    positives = positive_requests()
    broken: dict[tuple[str, str], list[str]] = {}
    for policy, sid in policies.statements():
        statement = next(s for s in policies.identity[policy]["Statement"] if s["Sid"] == sid)
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        weaker = policies.without(policy, sid)
        broken[(policy, sid)] = [
            f"{call}: {request.action} on {request.resource}" + (f" ({request.why})" if request.why else "")
            for call, request in positives
            if request.action in actions and bootstrap_allows(simulator, weaker, request) != ALLOWED
        ]
    return broken
