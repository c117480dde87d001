"""terraform/bootstrap: the OIDC trust policy as rendered, the role's permissions, the state bucket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.roots_support.tf import copy_root, planned, resource_changes, terraform
from tests.terraform.conftest import Client

pytestmark = pytest.mark.terraform

ROOTS = Path(__file__).resolve().parents[2] / "terraform"
REPOSITORY = "Octo-Org/Shop.App"  # GitHub keeps the case in the OIDC subject
HOST = "token.actions.githubusercontent.com"
# Actions the Service Authorization Reference lists without a resource type: the only ones allowed with
# Resource "*" (ecs:RegisterTaskDefinition has one now: task-definition, scoped by family).
UNSCOPED = {
    "ecr:GetAuthorizationToken",
    "tag:GetResources",
    "ecs:DeregisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "logs:DescribeLogGroups",
    "ec2:DescribeNatGateways",  # cleanup prices the base (issue 17): no resource-level permissions
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# What a maintainer grants for a root of their own (or for terraform/preview's oidc client secret).
EXTRA_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadTheOidcClientSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prenv/oidc-client-AbCdEf",
        }
    ],
}
EXTRA_ARN = "arn:aws:iam::aws:policy/AmazonSQSFullAccess"


@pytest.fixture(scope="module")
def bootstrap_plan(tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str]) -> dict[str, Any]:
    root = copy_root("bootstrap", tmp_path_factory.mktemp("bootstrap"))
    terraform(["init", "-no-color", "-input=false"], root, tf_env)
    (root / "extra.tfvars.json").write_text(
        json.dumps(
            {
                "extra_policy_documents": {"oidc-secret": json.dumps(EXTRA_DOCUMENT)},
                "extra_managed_policy_arns": [EXTRA_ARN],
            }
        ),
        encoding="utf-8",
    )
    terraform(
        [
            "plan",
            "-no-color",
            "-input=false",
            f"-var=repository={REPOSITORY}",
            "-var-file=extra.tfvars.json",
            "-out=b.tfplan",
        ],
        root,
        tf_env,
    )
    document: dict[str, Any] = json.loads(terraform(["show", "-json", "b.tfplan"], root, tf_env).stdout)
    return document


def _policies(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """prenv's own policies of the role (not the extra grants, not its boundary)."""
    found = {}
    for change in plan["resource_changes"]:
        if change["address"].startswith("aws_iam_policy.preview["):
            found[change["address"]] = json.loads(change["change"]["after"]["policy"])
    return found


def test_trust_policy_requires_the_exact_audience_and_subjects(bootstrap_plan: dict[str, Any]) -> None:
    role = planned(bootstrap_plan, "aws_iam_role.preview")
    policy = json.loads(role["assume_role_policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{HOST}"}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{HOST}:aud": "sts.amazonaws.com",
            f"{HOST}:sub": [
                f"repo:{REPOSITORY}:pull_request",
                f"repo:{REPOSITORY}:ref:refs/heads/main",
            ],
        }
    }
    rendered = json.dumps(statement["Condition"])
    assert "*" not in rendered  # no wildcard
    assert "?" not in rendered
    assert role["max_session_duration"] == 3600


def test_no_user_and_no_access_key_is_created(bootstrap_plan: dict[str, Any]) -> None:
    types = {change["type"] for change in bootstrap_plan["resource_changes"]}
    assert not types & {"aws_iam_user", "aws_iam_access_key", "aws_iam_user_policy"}


def test_oidc_provider_is_github_for_sts(bootstrap_plan: dict[str, Any]) -> None:
    provider = planned(bootstrap_plan, "aws_iam_openid_connect_provider.github[0]")
    assert provider["url"] == f"https://{HOST}"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


def test_permissions_have_no_wildcard_action_and_scope_what_aws_can(bootstrap_plan: dict[str, Any]) -> None:
    policies = _policies(bootstrap_plan)
    assert len(policies) == 5  # state-and-images, network, compute, database, shared-database
    for address, policy in policies.items():
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow", address
            actions = _as_list(statement["Action"])
            assert all("*" not in action for action in actions), (address, actions)
            assert "NotAction" not in statement
            assert "NotResource" not in statement
            if "*" in _as_list(statement["Resource"]):
                assert set(actions) <= UNSCOPED, (address, statement["Sid"], set(actions) - UNSCOPED)


def test_the_role_is_extended_under_its_permissions_boundary(bootstrap_plan: dict[str, Any]) -> None:
    name = planned(bootstrap_plan, "aws_iam_role.preview")["name"].removesuffix("-github-preview")
    extra = planned(bootstrap_plan, 'aws_iam_policy.extra["oidc-secret"]')
    assert extra["name"] == f"{name}-extra-oidc-secret"
    assert json.loads(extra["policy"]) == EXTRA_DOCUMENT
    attachments = {
        change["address"]: change["change"]["after"]
        for change in resource_changes(bootstrap_plan)
        if change["type"] == "aws_iam_role_policy_attachment"
    }
    assert attachments[f'aws_iam_role_policy_attachment.managed["{EXTRA_ARN}"]']["policy_arn"] == EXTRA_ARN
    assert 'aws_iam_role_policy_attachment.extra["oidc-secret"]' in attachments
    assert all(after["role"] == f"{name}-github-preview" for after in attachments.values())
    boundary = planned(bootstrap_plan, "aws_iam_policy.github_boundary")
    assert boundary["name"] == f"{name}-github-boundary"
    sids = [statement["Sid"] for statement in json.loads(boundary["policy"])["Statement"]]
    assert sids[0] == "WhatTheRolesPoliciesAllow"
    assert {
        "NoLongLivedCredentials",
        "BoundariesStay",
        "RolesOnlyWithThePreviewBoundary",
        "NotItself",
    } <= set(sids)
    # tests/iam/test_extensions.py evaluates what the boundary denies with everything else allowed.


def test_bad_extensions_are_refused_at_plan(tmp_path: Path, tf_env: dict[str, str]) -> None:
    root = copy_root("bootstrap", tmp_path)
    terraform(["init", "-no-color", "-input=false"], root, tf_env)
    bad = terraform(
        [
            "plan",
            "-no-color",
            "-input=false",
            f"-var=repository={REPOSITORY}",
            '-var=extra_policy_documents={"my grant" = "{}"}',
            '-var=extra_managed_policy_arns=["AdministratorAccess"]',
        ],
        root,
        tf_env,
        check=False,
    )
    assert bad.returncode == 1
    text = " ".join(bad.stderr.split())
    assert "extra_policy_documents: each name must be 1 to 32 letters, digits or '-'" in text
    assert "extra_managed_policy_arns must hold IAM policy ARNs" in text


def test_every_unscoped_statement_cites_the_documentation_that_says_so() -> None:
    """Each `resources = ["*"]` of the bootstrap policies and the boundary has the AWS page above it."""
    sources = [ROOTS / "bootstrap" / "permissions.tf", ROOTS / "base" / "ecs.tf"]
    for source in sources:
        lines = source.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if line.strip() == 'resources = ["*"]':
                comment = "\n".join(lines[max(0, number - 3) : number])
                assert "service-authorization/latest/reference" in comment or "${local.sar}/" in comment, (
                    f"{source.name}:{number + 1}: Resource * without the page listing no resource type"
                )


def test_roles_can_be_created_only_with_the_boundary_and_passed_only_to_ecs(
    bootstrap_plan: dict[str, Any],
) -> None:
    statements = [s for p in _policies(bootstrap_plan).values() for s in p["Statement"]]
    by_action: dict[str, list[dict[str, Any]]] = {}
    for statement in statements:
        for action in _as_list(statement["Action"]):
            by_action.setdefault(action, []).append(statement)
    boundary = "arn:aws:iam::123456789012:policy/prenv-{}-preview-boundary"
    for action in ("iam:CreateRole", "iam:PutRolePolicy"):
        (statement,) = by_action[action]
        condition = statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"]
        assert condition.startswith(boundary.format("")[: -len("-preview-boundary")])
        assert condition.endswith("-preview-boundary")
    (passing,) = by_action["iam:PassRole"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert "iam:DeleteRolePermissionsBoundary" not in by_action
    assert "iam:AttachRolePolicy" not in by_action
    # Writes to the state bucket stay below the workspace prefix.
    (objects,) = by_action["s3:PutObject"]
    assert objects["Resource"].endswith("/prenv/*")


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(bootstrap_plan: dict[str, Any]) -> None:
    versioning = planned(bootstrap_plan, "aws_s3_bucket_versioning.state")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    sse = planned(bootstrap_plan, "aws_s3_bucket_server_side_encryption_configuration.state")
    assert sse["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    block = planned(bootstrap_plan, "aws_s3_bucket_public_access_block.state")
    assert all(
        block[key]
        for key in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    (deny,) = json.loads(planned(bootstrap_plan, "aws_s3_bucket_policy.state")["policy"])["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    resources = planned(bootstrap_plan, "aws_s3_bucket.state")
    assert resources["bucket"].startswith("prenv-")
    assert resources["bucket"].endswith("-tfstate-123456789012")


def test_state_bucket_is_protected_from_destroy() -> None:
    # prevent_destroy is not part of the plan JSON: read the configuration itself.
    from hcl2.api import load

    main = Path(__file__).resolve().parents[2] / "terraform" / "bootstrap" / "main.tf"
    with main.open(encoding="utf-8") as handle:
        document = load(handle)
    bucket = next(r["aws_s3_bucket"]["state"] for r in document["resource"] if "aws_s3_bucket" in r)
    assert bucket["lifecycle"][0]["prevent_destroy"] == [True]  # hcl2 wraps attribute values in lists


@pytest.mark.slow
def test_bootstrap_applies_and_replans_clean(
    tmp_path: Path, tf_env: dict[str, str], session_boto: Client
) -> None:
    """The one apply of bootstrap in the suite (about a minute: the provider waits on the lifecycle rules)."""
    root = copy_root("bootstrap", tmp_path)
    variables = [f"-var=repository={REPOSITORY}"]
    terraform(["init", "-no-color", "-input=false"], root, tf_env)
    try:
        terraform(["apply", "-no-color", "-input=false", "-auto-approve", *variables], root, tf_env)
        outputs = json.loads(terraform(["output", "-json"], root, tf_env).stdout)
        bucket = outputs["state_bucket"]["value"]

        s3 = session_boto("s3")
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

        iam = session_boto("iam")
        role_name = outputs["role_arn"]["value"].rsplit("/", 1)[1]
        trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:aud"] == "sts.amazonaws.com"
        attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        assert len(attached) == 5
        boundary = iam.get_role(RoleName=role_name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
        assert boundary == outputs["role_boundary_arn"]["value"]
        assert [u["UserName"] for u in iam.list_users()["Users"] if u["UserName"].startswith("prenv")] == []

        again = terraform(
            ["plan", "-no-color", "-input=false", "-detailed-exitcode", *variables], root, tf_env, check=False
        )
        assert again.returncode == 0, again.stdout
    finally:
        # GitHub's OIDC provider is one per account (its URL is its name): the emulator's account is left
        # without it, as this test found it, for the tests on this worker that set up an account of their
        # own (tests/action/test_onboarding.py creates it and checks that nothing is left).
        iam = session_boto("iam")
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if provider["Arn"].endswith(f"/{HOST}"):
                iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
