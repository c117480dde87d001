"""The expression evaluator follows GitHub's documented semantics for the subset it supports."""

from __future__ import annotations

from typing import Any

import pytest

from tests.action.gha_expr import ExpressionError, condition, evaluate, render

CONTEXTS: dict[str, Any] = {
    "github": {
        "event_name": "pull_request",
        "event": {
            "number": 2,
            "pull_request": {"labels": [{"name": "bug"}, {"name": "Preview"}], "title": "It's"},
            "issue": None,
        },
    },
    "vars": {"EMPTY": "", "LABEL": "preview"},
    "steps": {"prepare": {"outputs": {"cache-hit": "true"}}},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("null", None),
        ("true && 'yes'", "yes"),  # && returns an operand
        ("false || 'fallback'", "fallback"),
        ("'' || 0 || null", None),
        ("'first' || 'second'", "first"),
        ("!''", True),
        ("!'0'", False),  # a non-empty string is truthy
        ("1 == '1'", True),  # different types compare as numbers
        ("null == 0", True),
        ("true == 1", True),
        ("'abc' == 'ABC'", True),  # strings compare case-insensitively
        ("'abc' != 'abd'", True),
        ("'a' == 0", False),  # NaN equals nothing
        ("0x10 == 16", True),
        ("2 < 10", True),
        ("'2' < '10'", False),  # two strings compare as strings
        ("(1 == 1) && (2 == 3) || 'x'", "x"),
        ("github.event.number", 2),
        ("github.EVENT.Number", 2),  # property names are case-insensitive
        ("github.event.missing.deeper", None),
        ("github.event['pull_request'].title", "It's"),
        ("github.event.pull_request.labels[1].name", "Preview"),
        ("github.event.pull_request.labels[5]", None),
        ("github.event.pull_request.labels.*.name", ["bug", "Preview"]),
        ("contains(github.event.pull_request.labels.*.name, vars.LABEL)", True),
        ("contains(github.event.pull_request.labels.*.name, 'nope')", False),
        ("contains('Hello World', 'WORLD')", True),
        ("contains(fromJSON('[\"OWNER\", \"MEMBER\"]'), 'member')", True),
        ("startsWith('/prenv deploy', '/PRENV')", True),
        ("endsWith('file.YML', '.yml')", True),
        ("format('{0}-{1}-{{2}}', 'a', 3)", "a-3-{2}"),
        ("join(github.event.pull_request.labels.*.name, ', ')", "bug, Preview"),
        ("'it''s'", "it's"),
        ("steps.prepare.outputs.cache-hit == 'true'", True),
        ("fromJSON('{\"a\": [1, 2]}').a[1]", 2),
    ],
)
def test_evaluate(expression: str, expected: Any) -> None:
    assert evaluate(expression, CONTEXTS) == expected


def test_render_writes_values_as_the_runner_does() -> None:
    text = "n=${{ github.event.number }} t=${{ true }} x=${{ github.event.missing }} f=${{ 1.5 }}"
    assert render(text, CONTEXTS) == "n=2 t=true x= f=1.5"


def test_conditions_imply_success_unless_a_status_function_is_used() -> None:
    assert condition("vars.EMPTY == ''", CONTEXTS)
    assert not condition("vars.EMPTY == ''", CONTEXTS, status="failure")
    assert condition("always() && vars.EMPTY == ''", CONTEXTS, status="failure")
    assert condition("failure()", CONTEXTS, status="failure")
    assert condition("${{ github.event.number == 2 }}", CONTEXTS)
    assert condition(None, CONTEXTS)


def test_a_condition_with_text_outside_the_braces_is_refused() -> None:
    with pytest.raises(ExpressionError, match="always true"):
        condition("${{ false }} && true", CONTEXTS)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("hashFiles('**/*.lock')", r"hashFiles\(\) is not supported"),
        ("secrets.TOKEN", "unknown context 'secrets'"),
        ("github.event.number ==", "unexpected end"),
        ("(true", r"expected '\)'"),
        ("'unterminated", "unexpected character"),
        ("format('{1}', 'a')", "no argument"),
    ],
)
def test_bad_or_unsupported_expressions_are_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate(expression, CONTEXTS)
