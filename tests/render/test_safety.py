"""Nothing a pull request supplies can inject HTML, links or mentions; no secret reaches GitHub."""

from __future__ import annotations

import dataclasses
import html as htmllib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from prenv.core.domain import Output, PlanOutcome
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.mask import ZWJ, inline_code, link_text, redact, secret_values
from prenv.core.plan import summarize
from prenv.render import markdown as render
from tests.golden import fixtures as fx
from tests.golden.markdown_check import parser, problems, text_outside_code, walk

INJECTIONS = [
    fx.INJECTION,
    "<script>alert(1)</script>",
    "![x](https://evil.example/x.png)",
    "[click](https://evil.example)",
    "<https://evil.example>",
    "https://evil.example/a www.evil.example mail@evil.example",
    "```\n</details>\n```",
    "# heading\n- [x] task\n> quote",
    "&lt;img src=x onerror=alert(1)&gt; &#60;b&#62;",
    "| a | b |\n|---|---|",
    "@octocat @org/team",
    "\u202eevil\u202c",
    "$$\\begin{x}$$",
]


def _all_states(**ctx_changes: object) -> list[str]:
    ctx = fx.context(**ctx_changes)
    config = fx.config()
    return [
        render.comment("deploying", ctx, config=config),
        render.comment("planned", ctx, config=config, plan=fx.plan()),
        render.comment("ready", ctx, config=config, deploy=fx.deploy()),
        render.comment("no_changes", ctx, config=config, deploy=fx.deploy(applied=False)),
        render.comment("failed", ctx, config=config, error=fx.error(), plan=fx.plan()),
        render.comment("destroyed", ctx, config=config, destroy=fx.destroy()),
        render.comment("idle_warning", ctx, config=config),
        *(
            render.job_summary(
                ctx,
                kind,
                config=config,
                plan=fx.plan(),
                deploy=fx.deploy(),
                destroy=fx.destroy(),
                error=fx.error(),
            )
            for kind in ("planned", "ready", "failed", "destroyed")
        ),
    ]


def test_injected_title_and_branch_render_inert() -> None:
    for text in _all_states(title=fx.INJECTION, head_ref=fx.INJECTION):
        assert problems(text) == []
        assert "<img" not in text
        assert "</details><" not in text
    summary = render.job_summary(
        fx.context(title=fx.INJECTION), "ready", config=fx.config(), deploy=fx.deploy()
    )
    shown = text_outside_code(summary).replace(ZWJ, "")
    assert fx.INJECTION in shown  # shown as the same characters, just inert


def test_escape_untrusted_of_the_issue_example() -> None:
    escaped = render.escape_untrusted(fx.INJECTION)
    assert escaped == (
        "&lt;/details&gt;&lt;img src=x onerror=alert\\(1\\)&gt; @" + ZWJ + "org/team "
        "\\[x\\]\\(javascript:alert\\(1\\)\\)"
    )
    tokens = list(walk(parser().parse(f"Title: {escaped}")))
    assert {t.type for t in tokens} <= {"paragraph_open", "paragraph_close", "inline", "text"}


def test_untrusted_values_everywhere_render_inert() -> None:
    hostile = fx.INJECTION + " `x` |"
    outputs = (
        Output("url", "https://pr-42.example.com/?q=" + hostile, False),
        Output(hostile, hostile, False),
        Output("region", hostile, False),
        Output("log_group", hostile, False),
        Output("ecs_cluster", hostile, False),
        Output("ecs_service", hostile, False),
    )
    plan = summarize(
        {
            "resource_changes": [
                {
                    "address": f'aws_s3_object.o["{hostile}"]',
                    "type": "aws_s3_object",
                    "name": "o",
                    "change": {"actions": ["delete", "create"]},
                    "replace_paths": [[hostile]],
                },
                {
                    "address": f'aws_s3_object.p["{hostile}"]',
                    "type": "aws_s3_object",
                    "name": "p",
                    "previous_address": f'aws_s3_object.q["{hostile}"]',
                    "change": {"actions": ["no-op"]},
                },
            ]
        }
    )
    deploy = dataclasses.replace(
        fx.deploy(outputs=outputs),
        summary=plan,
        url=outputs[0].value,
        plan_text=f"  + resource {hostile}\n```\n</details>\n<img src=x>",
    )
    error = PrenvError(hostile, reason=FailureReason.PLAN_FAILED, hint=hostile, detail=hostile + "\n```")
    ctx = fx.context(title=hostile, head_ref=hostile, head_sha=hostile, comment_environment=hostile)
    texts = [
        render.comment("ready", ctx, config=fx.config(), deploy=deploy),
        render.comment(
            "failed", ctx, config=fx.config(), error=error, plan=PlanOutcome(plan, deploy.plan_text)
        ),
        render.job_summary(ctx, "ready", config=fx.config(), deploy=deploy),
    ]
    for text in texts:
        assert problems(text, allowed_link_hosts=("pr-42.example.com", "github.com/octo-org")) == []
        # the table keeps its three columns: the pipe inside the address is escaped
        for line in text.splitlines():
            if line.startswith("| ♻️"):
                assert len(line.replace("\\|", "").split("|")) == 5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_escape_untrusted_is_inert_and_shows_the_same_characters(value: str) -> None:
    rendered = f"Title: {render.escape_untrusted(value)} end"
    assert problems(rendered) == []
    tokens = list(walk(parser().parse(rendered)))
    assert {t.type for t in tokens} <= {"paragraph_open", "paragraph_close", "inline", "text"}
    shown = "".join(t.content for t in tokens if t.type == "text").replace(ZWJ, "")
    expected = "".join(
        " " if ch in "\r\n\t\v\f\u2028\u2029\x85" else ch
        for ch in value
        if (ord(ch) >= 0x20 or ch in "\r\n\t\v\f")
        and ord(ch) != 0x7F
        and not (0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069)
    )
    # CommonMark replaces U+0000 and trims the paragraph's ends; compare what survives either way
    assert " ".join(shown.split()) == " ".join(f"Title: {expected} end".split())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_inline_code_is_one_code_span_with_the_same_text(value: str) -> None:
    tokens = list(walk(parser().parse(f"Value: {inline_code(value)}")))
    codes = [t for t in tokens if t.type == "code_inline"]
    assert len(codes) == 1
    assert not [t for t in tokens if t.type in ("html_inline", "link_open", "image")]


def test_inline_code_in_a_table_keeps_the_columns() -> None:
    table = "| a | b |\n|---|---|\n| " + inline_code("x|y`|`z", table=True) + " | c |\n"
    tokens = list(walk(parser().parse(table)))
    assert [t.type for t in tokens].count("td_open") == 2


# --- secrets ------------------------------------------------------------------------------------------

SECRET_PLAN = """
  # aws_ssm_parameter.token will be created
  + resource "aws_ssm_parameter" "token" {
      + value = (sensitive value)
      + description = "ghp_abcdefghijklmnopqrstuvwxyz0123456789 s3cr3t-Pa55word! MASKED-VALUE-123"
    }
"""


def _secret_deploy() -> tuple[PlanOutcome, object]:
    plan = PlanOutcome(fx.summary(), SECRET_PLAN)
    outputs = (
        *fx.OUTPUTS,
        Output("api", {"key": "nested-secret-42", "list": ["another-secret-7"]}, True),
        Output("note", "contains MASKED-VALUE-123 inline", False),
    )
    deploy = dataclasses.replace(fx.deploy(outputs=outputs), plan_text=SECRET_PLAN)
    return plan, deploy


def test_planted_secrets_never_appear_in_comment_or_summary() -> None:
    plan, deploy = _secret_deploy()
    config = fx.config(mask_patterns=[r"ghp_[A-Za-z0-9]{36}"])
    masks = ["MASKED-VALUE-123"]
    ctx = fx.context(title="leak MASKED-VALUE-123 here", head_ref="ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    error = PrenvError(
        "failed with s3cr3t-Pa55word!", reason=FailureReason.APPLY_FAILED, detail="MASKED-VALUE-123"
    )
    texts = [
        render.comment("ready", ctx, config=config, deploy=deploy, masks=masks),
        render.comment("planned", ctx, config=config, plan=plan, masks=[*masks, fx.DB_PASSWORD]),
        render.comment("failed", ctx, config=config, error=error, plan=plan, masks=[*masks, fx.DB_PASSWORD]),
        render.job_summary(ctx, "ready", config=config, deploy=deploy, masks=masks),
        render.job_summary(
            ctx, "failed", config=config, error=error, plan=plan, masks=[*masks, fx.DB_PASSWORD]
        ),
    ]
    for text in texts:
        for secret in (
            fx.DB_PASSWORD,
            "MASKED-VALUE-123",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "nested-secret-42",
            "another-secret-7",
        ):
            assert secret not in text
            assert render.escape_untrusted(secret) not in text
        assert "***" in text
        assert problems(text) == []
    ready = texts[0]
    assert "(sensitive value)" in ready  # Terraform's own marker is kept
    assert "| `db_password` | _(sensitive)_ |" in ready
    assert "| `api` | _(sensitive)_ |" in ready
    assert "| `note` | `contains *** inline` |" in ready


def test_a_secret_at_the_end_of_a_long_value_is_not_cut_in_half() -> None:
    outputs = (Output("long", "x" * 295 + "MASKED-VALUE-123", False),)
    text = render.comment(
        "ready",
        fx.context(),
        config=fx.config(),
        deploy=fx.deploy(outputs=outputs),
        masks=["MASKED-VALUE-123"],
    )
    assert "MASK" not in text
    assert "x" * 295 + "***" in text


def test_a_secret_with_quotes_is_hidden_as_terraform_prints_it() -> None:
    secret = 'pa"ss\\word'
    plan = PlanOutcome(fx.summary(), '  + value = "pa\\"ss\\\\word"\n')
    assert 'pa\\"ss' in plan.plan_text
    text = render.comment("planned", fx.context(), config=fx.config(), plan=plan, masks=secret_values(secret))
    assert "pa" not in text.split("```diff")[1].split("```")[0]
    assert '+   value = "***"' in text


def test_sensitive_outputs_are_hidden_even_without_masks() -> None:
    _, deploy = _secret_deploy()
    for text in (
        render.comment("ready", fx.context(), config=fx.config(), deploy=deploy),
        render.job_summary(fx.context(), "ready", config=fx.config(), deploy=deploy),
    ):
        assert fx.DB_PASSWORD not in text
        assert "nested-secret-42" not in text


def test_redact_exact_values_and_patterns() -> None:
    assert redact("a hunter2 b hunter2", ["hunter2"], []) == "a *** b ***"
    assert redact("abcdef", ["abc", "abcdef"], []) == "***"  # the longer value wins
    assert redact("key=AKIAABCDEFGHIJKLMNOP.", [], [r"AKIA[A-Z]{16}"]) == "key=***."
    assert redact("nothing here", ["", "   ", "absent"], [r"x*"]) == "nothing here"  # empty matches skipped
    assert redact("a.b a+b", ["a.b"], []) == "*** a+b"  # masks are exact strings, not patterns


def test_secret_values_cover_structures_and_lines() -> None:
    values = secret_values({"user": "admin", "pass": "line1\nline2", "port": 5432, "on": True})
    assert {"admin", "line1\nline2", "line1", "line2", "5432"} <= set(values)
    assert '{"on": true, "pass": "line1\\nline2", "port": 5432, "user": "admin"}' in values or any(
        v.startswith("{") for v in values
    )
    assert "True" not in values
    assert "true" not in values
    assert secret_values(None) == []


# --- the preview URL as link text, rendered by GitHub's own parser (cmark-gfm) -------------------------


def _github_html(markdown: str) -> str:
    import cmarkgfm

    return str(cmarkgfm.github_flavored_markdown_to_html(markdown))


def _link_texts(html: str) -> list[tuple[str, str]]:
    """(href, visible text) of each link of rendered HTML."""
    return [
        (htmllib.unescape(href), htmllib.unescape(re.sub(r"<[^>]+>", "", text)))
        for href, text in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', html, re.DOTALL)
    ]


def test_the_url_link_text_copies_as_the_exact_url() -> None:
    """The issue: the visible URL carried U+200D, so copying it gave a broken URL."""
    url = "https://pr-42.preview.example.com:10042/a_b?x=1&y=@z"
    comment = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy())
    assert ZWJ not in comment.split("**Preview:")[1].split("\n")[0]
    line = f"**Preview: [{link_text(url)}]({url})**"
    assert _link_texts(_github_html(line)) == [(url, url)]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60))
def test_link_text_is_one_link_showing_the_same_characters(value: str) -> None:
    html = _github_html(f"See [{link_text(value)}](https://example.com/) now")
    # One link (no autolink, no nested link, no image), whose text is exactly the value.
    assert _link_texts(html) == [("https://example.com/", value)]
    assert "<img" not in html
