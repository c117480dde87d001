"""Secrets by name: which names are secret, and which values of a plan they hide."""

from __future__ import annotations

import pytest

from prenv.core.domain import Output
from prenv.core.secrets import looks_secret, named_secrets, plan_secrets


@pytest.mark.parametrize(
    "name",
    [
        "db_password",
        "DB-PASSWORD",
        "dbPassword",
        "api_token",
        "client_secret",
        "tls_private_key",
        "GitCredentials",
    ],
)
def test_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name", ["url", "secret_arn", "password_length", "token_ttl", "master_user_secret_kms_key_id", "keys", ""]
)
def test_names_about_secrets_are_not_secret(name: str) -> None:
    assert not looks_secret(name)


def test_the_list_is_configurable() -> None:
    assert looks_secret("license_blob", ["license"])
    assert not looks_secret("db_password", ["license"])


def test_named_secrets_walks_tags_lists_and_nested_blocks() -> None:
    value = {
        "tags": {"Name": "svc", "token": "t0ken-value"},
        "passwords": ["first-pass", "no"],  # too short to mask safely: "no"
        "master_user_secret": [{"secret_arn": "arn:aws:secretsmanager:x", "secret_status": "active"}],
    }
    assert sorted(named_secrets(value)) == ["first-pass", "t0ken-value"]


def test_plan_secrets() -> None:
    document = {
        "variables": {"db_password": {"value": "var-secret"}, "image": {"value": "nginx:1"}},
        "planned_values": {
            "outputs": {
                "admin_token": {"sensitive": False, "value": "out-secret"},
                "marked": {"sensitive": True, "value": "marked-secret"},
                "url": {"sensitive": False, "value": "http://x"},
            },
            "root_module": {
                "child_modules": [{"resources": [{"values": {"password": "child-secret", "port": 5432}}]}]
            },
        },
        "resource_changes": [{"change": {"before": {"token": "old-secret"}, "after": {"tags": {"a": "b"}}}}],
    }
    assert sorted(plan_secrets(document)) == [
        "child-secret",
        "marked-secret",
        "old-secret",
        "out-secret",
        "var-secret",
    ]


def test_an_output_named_secret_is_sensitive() -> None:
    named = Output.from_terraform("db_password", {"value": "x", "sensitive": False}, ["password"])
    marked = Output.from_terraform("db_password", {"value": "x", "sensitive": True}, ["password"])
    plain = Output.from_terraform("url", {"value": "x", "sensitive": False}, ["password"])
    assert (named.sensitive, named.by_name) == (True, True)
    assert (marked.sensitive, marked.by_name) == (True, False)
    assert (plain.sensitive, plain.by_name) == (False, False)
