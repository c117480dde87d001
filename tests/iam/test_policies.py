"""The bootstrap role's policies and the preview roles' boundary, evaluated with the IAM simulator.

The recorded calls are evaluated by the plugin as each test ends (tests/iam/plugin.py); here: the
negative table, the workflow's image step, what a preview role may do, and that every statement of the
bootstrap policies is needed by a named call (removing it makes that call fail).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prenv import emulator as emu
from tests.iam import cases
from tests.iam.policies import EXAMPLE_HASH, Policies, render
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


@pytest.fixture(scope="session")
def policies(moto_server: emu.Emulator) -> Policies:
    return render(moto_server)


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    running = Simulator()
    yield running
    running.close()


def recorded() -> list[dict[str, Any]]:
    return list(json.loads(SNAPSHOT.read_text(encoding="utf-8")))


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
    found = [
        (row["call"], Request(row["action"], row["resource"], row["context"], row["why"]))
        for row in recorded()
        if row["role"] == "bootstrap"
    ]
    return found + workflow_requests()


@pytest.mark.parametrize("case", [c for c in cases.NEGATIVE], ids=lambda c: c.what)
def test_dangerous_calls_on_resources_that_are_not_prenvs_are_denied(
    case: cases.Case, policies: Policies, simulator: Simulator
) -> None:
    if case.role == "preview":
        result = preview_allows(simulator, policies, case.request, dict(case.principal_tags))
    else:
        result = bootstrap_allows(simulator, policies, case.request)
    assert result != ALLOWED, f"{case.what}: {case.request} is allowed"


def test_the_negative_table_is_broad() -> None:
    assert len(cases.NEGATIVE) >= 20
    actions = {case.request.action.split(":")[0] for case in cases.NEGATIVE}
    assert {"secretsmanager", "rds", "elasticloadbalancing", "iam", "s3", "ecr", "ecs", "ec2"} <= actions


def test_the_workflows_image_step_is_allowed(policies: Policies, simulator: Simulator) -> None:
    denied = [
        f"{call}: {r}"
        for call, r in workflow_requests()
        if bootstrap_allows(simulator, policies, r) != ALLOWED
    ]
    assert denied == []


def test_every_recorded_authorization_is_allowed(policies: Policies, simulator: Simulator) -> None:
    """The snapshot (tests/iam/recorded.json) still passes against the current policies."""
    denied = []
    for row in recorded():
        request = Request(row["action"], row["resource"], row["context"], row["why"])
        if row["role"] == "bootstrap":
            result = bootstrap_allows(simulator, policies, request)
        else:
            inline = EVERYTHING  # the recorded inline policies are narrower; the boundary is what is checked
            role = f"{cases.ROLE}/{NAME}-pr101-{'exec' if row['role'] == 'execution' else 'task'}"
            result = simulator.evaluate(role, request, inline, boundary={"boundary": policies.boundary})
        if result != ALLOWED:
            denied.append(f"{row['call']} ({row['role']}): {request}")
    assert denied == []


def test_the_recording_covers_deploy_redeploy_destroy_and_the_troubleshooting_reads() -> None:
    calls = {row["call"] for row in recorded()}
    assert {
        "s3 HeadObject",
        "s3 PutObject",
        "ecs RegisterTaskDefinition",
        "ecs CreateService",
        "rds CreateDBInstance",
        "rds DeleteDBInstance",
        "iam CreateRole",
        "elbv2 CreateListener",
        "elbv2 DeleteListener",
        "ecs DescribeTasks",
        "logs FilterLogEvents",
        "resourcegroupstaggingapi GetResources",
    } <= calls


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


def test_every_statement_is_needed_by_a_named_call(policies: Policies, simulator: Simulator) -> None:
    broken = necessary_statements(policies, simulator)
    unneeded = [f"{policy}/{sid}" for (policy, sid), calls in broken.items() if not calls]
    assert unneeded == [], "statements no recorded or declared call needs"
    report = Path(__file__).with_name("statements.txt")
    text = "".join(f"{policy}/{sid}: {calls[0]}\n" for (policy, sid), calls in sorted(broken.items()))
    assert report.read_text(encoding="utf-8") == text, (
        "tests/iam/statements.txt is out of date: python -m tests.iam.docs --write"
    )
