"""GitHub's published REST operations (tests/fixtures/github/rest): examples and request schemas."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import jsonschema

from tests.helpers import GITHUB_FIXTURES

REST = GITHUB_FIXTURES / "rest"


@functools.cache
def operation(operation_id: str) -> dict[str, Any]:
    """The fixture file of one REST operation (`issues/create-comment` -> issues.create-comment.json)."""
    data: dict[str, Any] = json.loads((REST / (operation_id.replace("/", ".") + ".json")).read_text())
    return data


def openapi_to_jsonschema(schema: Any) -> Any:
    """An OpenAPI 3.0 Schema Object as JSON Schema: `nullable: true` becomes a `null` type."""
    if isinstance(schema, list):
        return [openapi_to_jsonschema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: openapi_to_jsonschema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        elif kind is None:
            out = {"anyOf": [out, {"type": "null"}]}
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def validator(operation_id: str) -> jsonschema.protocols.Validator | None:
    schema = operation(operation_id).get("request_schema")
    if not schema:
        return None
    converted = openapi_to_jsonschema(schema)
    cls = jsonschema.validators.validator_for(converted)
    cls.check_schema(converted)
    checker: jsonschema.protocols.Validator = cls(converted)
    return checker


def example(operation_id: str) -> Any:
    return copy.deepcopy(operation(operation_id)["example_response"])


def user_object(login: str) -> dict[str, Any]:
    """A user as GitHub shows it (from the examples), with `login` and a Bot type for `[bot]` logins."""
    user: dict[str, Any] = example("issues/create-comment")["user"]
    user.update(login=login, type="Bot" if login.endswith("[bot]") else "User")
    return user
