"""The bootstrap role's policies and the preview roles' boundary, evaluated with the IAM simulator.

The recorded calls are evaluated by the plugin as each test ends (tests/iam/plugin.py); here: the
negative table, the workflow's image step, what a preview role may do, and that every statement of the
bootstrap policies is needed by a named call (removing it makes that call fail).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prenv.sandbox import emulator as emu
from tests.iam import cases
from tests.iam.evaluation import (
    EVERYTHING,
    NAME,
    as_request,
    bootstrap_allows,
    declared_requests,
    necessary_statements,
    preview_allows,
    recorded,
)
from tests.iam.policies import Policies, render
from tests.iam.simulator import ALLOWED, Simulator


@pytest.fixture(scope="session")
def policies(moto_server: emu.Emulator) -> Policies:
    return render(moto_server)


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    running = Simulator()
    yield running
    running.close()


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


def test_the_image_step_and_the_unrecorded_paths_are_allowed(
    policies: Policies, simulator: Simulator
) -> None:
    denied = [
        f"{call}: {r}"
        for call, r in declared_requests()
        if bootstrap_allows(simulator, policies, r) != ALLOWED
    ]
    assert denied == []


def test_every_recorded_authorization_is_allowed(policies: Policies, simulator: Simulator) -> None:
    """The snapshot (tests/iam/recorded.json) still passes against the current policies."""
    denied = []
    for row in recorded():
        request = as_request(row)
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


def test_every_statement_is_needed_by_a_named_call(policies: Policies, simulator: Simulator) -> None:
    broken = necessary_statements(policies, simulator)
    unneeded = [f"{policy}/{sid}" for (policy, sid), calls in broken.items() if not calls]
    assert unneeded == [], "statements no recorded or declared call needs"
    # docs/setup.md lists the first call of each (scripts/iam_docs.py --check holds it to this).
