"""prenv marks its AWS calls (and its Terraform runs') with its product token: the recorder relies on it."""

from __future__ import annotations

from pathlib import Path

from prenv import USER_AGENT, __version__
from prenv.aws.client import AwsSettings, make_client
from prenv.engine.terraform import Terraform


def test_the_product_token_names_prenv_and_its_version() -> None:
    assert f"prenv/{__version__}" == USER_AGENT


def test_terraform_runs_append_prenvs_token_to_a_user_agent_already_set() -> None:
    plain = Terraform(root=Path("."), binary="terraform", env={"PATH": "/bin"})
    assert plain.environment()["TF_APPEND_USER_AGENT"] == USER_AGENT
    mine = Terraform(root=Path("."), binary="terraform", env={"TF_APPEND_USER_AGENT": "acme/2"})
    assert mine.environment()["TF_APPEND_USER_AGENT"] == f"acme/2 {USER_AGENT}"


def test_prenvs_boto3_clients_carry_the_token() -> None:
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = make_client(AwsSettings(credentials=credentials), "us-east-1", "ecs")
    assert client.meta.config.user_agent_extra == USER_AGENT
