"""The workflows' role, extended for a Terraform root of your own (terraform/bootstrap's
extra_policy_documents and extra_managed_policy_arns), stays under its permissions boundary: with
everything allowed by an extra policy, the guard rails still deny, and prenv's own calls are allowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prenv.sandbox import emulator as emu
from tests.iam import cases
from tests.iam.evaluation import EVERYTHING, as_request, bootstrap_allows, recorded
from tests.iam.policies import ACCOUNT, PARTITION, Policies, render
from tests.iam.simulator import ALLOWED, Request, Simulator

IAM = f"arn:{PARTITION}:iam::{ACCOUNT}"


@pytest.fixture(scope="module")
def extended(moto_server: emu.Emulator) -> Policies:
    """The role's policies plus an extra one that allows everything (AdministratorAccess)."""
    policies = render(moto_server)
    return Policies(
        policies.repository,
        policies.bucket,
        {**policies.identity, **EVERYTHING},
        policies.boundary,
        policies.role_boundary,
    )


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    running = Simulator()
    yield running
    running.close()


def _guard_rails(policies: Policies) -> list[tuple[str, Request]]:
    role, name = policies.role_arn, policies.name
    boundary = f"{IAM}:policy/{name}-preview-boundary"
    return [
        ("create an IAM user", Request("iam:CreateUser", f"{IAM}:user/deploy")),
        ("create an access key", Request("iam:CreateAccessKey", f"{IAM}:user/deploy")),
        ("give itself more", Request("iam:AttachRolePolicy", role)),
        ("rewrite its own trust", Request("iam:UpdateAssumeRolePolicy", role)),
        ("change the preview boundary", Request("iam:CreatePolicyVersion", boundary)),
        (
            "change its own boundary",
            Request("iam:CreatePolicyVersion", f"{IAM}:policy/{name}-github-boundary"),
        ),
        (
            "remove a preview role's boundary",
            Request("iam:DeleteRolePermissionsBoundary", f"{IAM}:role/{name}-pr101-task"),
        ),
        (
            "create a role without the preview boundary",
            Request("iam:CreateRole", f"{IAM}:role/{name}-custom"),
        ),
        (
            "create a role with another boundary",
            Request(
                "iam:CreateRole",
                f"{IAM}:role/{name}-custom",
                {"iam:PermissionsBoundary": f"{IAM}:policy/admin"},
            ),
        ),
        (
            "replace the state bucket's policy",
            Request("s3:PutBucketPolicy", f"arn:aws:s3:::{policies.bucket}"),
        ),
        ("delete the state bucket", Request("s3:DeleteBucket", f"arn:aws:s3:::{policies.bucket}")),
        (
            "delete GitHub's OIDC provider",
            Request(
                "iam:DeleteOpenIDConnectProvider",
                f"{IAM}:oidc-provider/token.actions.githubusercontent.com",
            ),
        ),
    ]


def test_with_everything_granted_the_guard_rails_still_deny(extended: Policies, simulator: Simulator) -> None:
    allowed = [
        f"{what}: {request}"
        for what, request in _guard_rails(extended)
        if bootstrap_allows(simulator, extended, request) == ALLOWED
    ]
    assert allowed == []


def test_a_custom_root_may_create_roles_with_the_preview_boundary(
    extended: Policies, simulator: Simulator
) -> None:
    request = Request(
        "iam:CreateRole",
        f"{IAM}:role/{extended.name}-custom",
        {"iam:PermissionsBoundary": extended.boundary_arn},
    )
    assert bootstrap_allows(simulator, extended, request) == ALLOWED
    # ... and may do what the extra policy grants, such as reading the OIDC client secret.
    secret = f"arn:aws:secretsmanager:{cases.REGION}:{ACCOUNT}:secret:prenv/oidc-client-AbCdEf"
    assert bootstrap_allows(simulator, extended, Request("secretsmanager:GetSecretValue", secret)) == ALLOWED


def test_the_boundary_takes_nothing_prenv_needs(extended: Policies, simulator: Simulator) -> None:
    """Every recorded authorization of the workflows' role, with everything granted but the boundary
    (test_policies.py evaluates the same with prenv's policies and the boundary)."""
    only_the_boundary = Policies(
        extended.repository, extended.bucket, EVERYTHING, extended.boundary, extended.role_boundary
    )
    denied = [
        f"{row['call']}: {row['action']} {row['resource']}"
        for row in recorded()
        if row["role"] == "bootstrap"
        and bootstrap_allows(simulator, only_the_boundary, as_request(row)) != ALLOWED
    ]
    assert denied == []
