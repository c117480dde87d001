"""The ready comment says whether the preview is public, from the root's `access` output."""

from __future__ import annotations

from typing import Any

import pytest

from prenv.core.access import Access, access_of
from prenv.core.domain import Output
from prenv.render import markdown as render
from tests.golden import fixtures as fx
from tests.golden.markdown_check import problems


def _ready(access: Any) -> str:
    outputs = (*fx.OUTPUTS, Output("access", access, False))
    return render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy(outputs=outputs))


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("🌐", "🔒"))]


@pytest.mark.parametrize(
    ("access", "line"),
    [
        (
            {"public": True, "ip_restricted": False, "sign_in": ""},
            "🌐 **Public:** anyone with the link can open this preview.",
        ),
        (
            {"public": False, "ip_restricted": True, "sign_in": ""},
            "🔒 **Not public:** only from the address ranges the base allows (`ingress_cidrs`).",
        ),
        (
            {"public": False, "ip_restricted": False, "sign_in": "https://login.example.com"},
            "🔒 **Not public:** after signing in with `https://login.example.com`.",
        ),
        (
            {"public": False, "ip_restricted": True, "sign_in": "https://login.example.com"},
            "🔒 **Not public:** only from the address ranges the base allows (`ingress_cidrs`), and after "
            "signing in with `https://login.example.com`.",
        ),
    ],
)
def test_the_ready_comment_says_who_may_open_the_preview(access: dict[str, Any], line: str) -> None:
    text = _ready(access)
    assert _lines(text) == [line]
    assert text.index("**Preview: [") < text.index(line)  # right below the URL
    assert problems(text) == []


def test_a_root_without_the_output_says_nothing_about_access() -> None:
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy())
    assert _lines(text) == []
    assert _lines(_ready("public")) == []  # not the shape terraform/preview outputs: nothing guessed


def test_an_issuer_cannot_inject_markdown() -> None:
    text = _ready({"public": False, "ip_restricted": False, "sign_in": "x` [click](https://evil.example)"})
    assert _lines(text) == ["🔒 **Not public:** after signing in with ``x` [click](https://evil.example)``."]
    assert problems(text) == []  # no link but the preview's own and prenv's


def test_access_of_reads_only_the_documented_shape() -> None:
    value = {"public": True, "ip_restricted": False, "sign_in": ""}
    assert access_of([Output("access", value, False)]) == Access(True, False, "")
    assert access_of([Output("access", value, True)]) is None  # a sensitive output is never shown
    assert access_of([Output("access", {**value, "public": "yes"}, False)]) is None
    assert access_of([]) is None
