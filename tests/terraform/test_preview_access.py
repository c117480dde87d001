"""Access to a preview, planned by prenv's engine against stand-in bases in moto: the ALB's OIDC sign-in
on the preview's host rule (client secret from Secrets Manager, never in prenv's text), the base's IP
restriction, and the `access` output the ready comment reads. The public default is checked in
test_preview_plan.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prenv.core.errors import FailureReason, PrenvError
from tests.roots_support.engine import preview_engine
from tests.roots_support.fake_base import create_fake_base
from tests.roots_support.tf import copy_root, resource_changes
from tests.terraform.conftest import Client

pytestmark = pytest.mark.terraform

CLIENT_SECRET = "oidc-client-secret-" + uuid.uuid4().hex
IDP = "https://login.example.com"


def _oidc(secret_arn: str) -> dict[str, Any]:
    return {
        "issuer": IDP,
        "authorization_endpoint": f"{IDP}/authorize",
        "token_endpoint": f"{IDP}/oauth/token",
        "user_info_endpoint": f"{IDP}/userinfo",
        "client_id": "prenv-previews",
        "client_secret_arn": secret_arn,
    }


def test_sign_in_comes_first_on_the_preview_rule(
    tmp_path: Path,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
    repository: str,
) -> None:
    base = create_fake_base(session_boto, repository, domain="preview.example.com", https=True, public=False)
    secret = session_boto("secretsmanager").create_secret(
        Name=f"prenv-tests/{uuid.uuid4().hex[:8]}/oidc-client", SecretString=CLIENT_SECRET
    )
    root = copy_root("preview", tmp_path)
    with preview_engine(
        root,
        tf_env,
        repository=repository,
        pr=31,
        bucket=new_bucket(),
        variables={"oidc": _oidc(secret["ARN"])},
    ) as engine:
        outcome, plan_file, _ = engine.plan()
        document = engine.tf.show_json(plan_file)

    (rule,) = [c for c in resource_changes(document) if c["address"] == "aws_lb_listener_rule.host[0]"]
    after, sensitive = rule["change"]["after"], rule["change"]["after_sensitive"]
    assert after["listener_arn"] == base.listener_arn
    authenticate, forward = sorted(after["action"], key=lambda action: action["order"])
    assert (authenticate["type"], authenticate["order"], forward["type"], forward["order"]) == (
        "authenticate-oidc",
        1,
        "forward",
        2,
    )
    (oidc,) = authenticate["authenticate_oidc"]
    assert (oidc["issuer"], oidc["client_id"], oidc["scope"]) == (IDP, "prenv-previews", "openid")
    assert (oidc["on_unauthenticated_request"], oidc["session_timeout"]) == ("authenticate", 3600)
    # The client secret comes from Secrets Manager, is marked sensitive, and prenv's text never has it.
    assert oidc["client_secret"] == CLIENT_SECRET
    index = after["action"].index(authenticate)
    assert sensitive["action"][index]["authenticate_oidc"][0]["client_secret"] is True
    assert CLIENT_SECRET not in outcome.plan_text
    assert CLIENT_SECRET not in json.dumps([c.__dict__ for c in outcome.summary.changes], default=str)
    access = document["planned_values"]["outputs"]["access"]["value"]
    assert access == {"public": False, "ip_restricted": True, "sign_in": IDP}


def test_sign_in_without_https_is_refused_at_plan(
    tmp_path: Path,
    tf_env: dict[str, str],
    session_boto: Client,
    new_bucket: Callable[[], str],
    repository: str,
) -> None:
    create_fake_base(session_boto, repository)  # no domain: each preview has its own HTTP port
    root = copy_root("preview", tmp_path)
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prenv/oidc-AbCdEf"
    with (
        preview_engine(
            root, tf_env, repository=repository, pr=32, bucket=new_bucket(), variables={"oidc": _oidc(arn)}
        ) as engine,
        pytest.raises(PrenvError) as info,
    ):
        engine.plan()
    assert info.value.reason is FailureReason.PLAN_FAILED
    assert info.value.message == "terraform plan failed: Resource precondition failed"
    detail = " ".join(info.value.detail.split())  # Terraform's error text, shown below the message
    assert "oidc needs the base's domain with HTTPS: the ALB signs users in on HTTPS listeners only" in detail
