"""A state object read without Terraform: what `terraform state list` would print, or no answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prenv.core import tfstate


def state(*resources: dict[str, Any], version: int = 4) -> dict[str, Any]:
    return {"version": version, "serial": 7, "lineage": "l", "outputs": {}, "resources": list(resources)}


def resource(type_: str, name: str, *keys: Any, mode: str = "managed", module: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"mode": mode, "type": type_, "name": name, "provider": "p"}
    if module:
        found["module"] = module
    found["instances"] = [
        {"attributes": {}} if k is None else {"index_key": k, "attributes": {}} for k in keys
    ]
    return found


def test_an_empty_state_holds_nothing() -> None:
    assert tfstate.remaining(state()) == []
    assert tfstate.remaining({"version": 4}) == []


def test_every_instance_is_listed_as_state_list_prints_it() -> None:
    document = state(
        resource("aws_vpc", "default", None, mode="data"),
        resource("aws_s3_bucket", "data", None),
        resource("aws_db_instance", "this", 0, 1, module="module.db[0]"),
        resource("aws_ssm_parameter", "p", "a b"),
        resource("aws_security_group", "gone"),  # no instances: state list prints nothing for it
    )
    assert tfstate.remaining(document) == [
        "data.aws_vpc.default",
        "aws_s3_bucket.data",
        "module.db[0].aws_db_instance.this[0]",
        "module.db[0].aws_db_instance.this[1]",
        'aws_ssm_parameter.p["a b"]',
    ]


def test_a_deposed_object_counts() -> None:
    document = state({"mode": "managed", "type": "t", "name": "n", "instances": [{"deposed": "1a2b"}]})
    assert tfstate.remaining(document) == ["t.n"]


@pytest.mark.parametrize(
    "document",
    [None, state(version=3), {"resources": []}, {"version": 4, "resources": {}}, state("x")],  # type: ignore[arg-type]
    ids=["not an object", "version 3", "no version", "resources not a list", "resource not an object"],
)
def test_a_document_it_cannot_read_is_no_answer(document: Any) -> None:
    assert tfstate.remaining(document) is None


@pytest.mark.parametrize(
    ("body", "parsed"), [(b"[]", None), (b"{", None), (b'{"version": 4}', {"version": 4})]
)
def test_parse(body: bytes, parsed: Any) -> None:
    assert tfstate.parse(body) == parsed


def test_what_terraform_writes_after_a_destroy_is_empty() -> None:
    # The state object of a real destroy (Terraform 1.11, the light root against moto), trimmed.
    after = {"version": 4, "terraform_version": "1.11.4", "serial": 4, "lineage": "4b37", "outputs": {}}
    assert (
        tfstate.remaining(tfstate.parse(json.dumps({**after, "resources": [], "check_results": []}).encode()))
        == []
    )


def test_outputs_as_output_json_prints_them() -> None:
    document = {
        **state(),
        "outputs": {
            "url": {"value": "http://x/", "type": "string"},
            "arn": {"value": "arn:x", "type": "string", "sensitive": True},
            "ports": {"value": [1, 2], "type": ["list", "number"]},
        },
    }
    assert tfstate.outputs(document) == {
        "url": {"sensitive": False, "type": "string", "value": "http://x/"},
        "arn": {"sensitive": True, "type": "string", "value": "arn:x"},
        "ports": {"sensitive": False, "type": ["list", "number"], "value": [1, 2]},
    }
    assert tfstate.outputs(state()) == {}


@pytest.mark.parametrize(
    "document",
    [None, {**state(), "version": 3}, {**state(), "outputs": []}, {**state(), "outputs": {"a": 1}}],
)
def test_outputs_it_cannot_read_are_no_answer(document: Any) -> None:
    assert tfstate.outputs(document) is None
