"""Size: the comment never exceeds its limit (a 422 "Body is too long" cannot happen), the summary stays
within GitHub's 1 MiB, and a cut leaves valid Markdown that says what was left out and where it is."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prenv.core.domain import DeployOutcome, PlanOutcome
from prenv.core.mask import block, cut_block, fit_markdown
from prenv.core.plan import summarize
from prenv.render import markdown as render
from tests.golden import fixtures as fx
from tests.golden.markdown_check import problems

MARKER_LENGTH = 60  # the caller's hidden marker line, taken off the limit


@pytest.fixture(scope="module")
def big() -> tuple[PlanOutcome, DeployOutcome]:
    document, text = fx.big_plan(10_000)
    plan = PlanOutcome(summary=summarize(document), plan_text=text)
    return plan, DeployOutcome(
        summary=plan.summary, plan_text=text, applied=True, url="https://x.example.com"
    )


def _cut_numbers(text: str) -> tuple[int, int, int]:
    match = re.search(r"([\d,]+) of ([\d,]+) lines \(([\d,]+) characters\) are left out", text)
    assert match, "the cut note is missing"
    omitted, total, chars = (int(g.replace(",", "")) for g in match.groups())
    return omitted, total, chars


def _plan_lines(text: str) -> list[str]:
    start = text.index("```diff\n") + len("```diff\n")
    return text[start : text.index("\n```\n\n</details>", start)].splitlines()


@pytest.mark.parametrize("state", ["planned", "ready", "failed"])
def test_ten_thousand_resources_fit_in_one_valid_comment(
    big: tuple[PlanOutcome, DeployOutcome], state: str
) -> None:
    plan, deploy = big
    limit = render.COMMENT_LIMIT - MARKER_LENGTH
    text = render.comment(
        state,
        fx.context(),
        config=fx.config(),
        plan=plan,
        deploy=deploy if state == "ready" else None,
        error=fx.error() if state == "failed" else None,
        limit=limit,
    )
    assert len(text) <= limit
    assert len(text) > limit - 2_000  # the plan takes the room there is
    assert problems(text) == []
    omitted, total, chars = _cut_numbers(text)
    kept = _plan_lines(text)
    assert total == plan.plan_text.strip("\n").count("\n") + 1
    assert len(kept) + omitted == total
    full = render.diff_text(plan.plan_text).splitlines()
    assert kept == full[: len(kept)]  # cut at a line boundary, nothing altered
    assert chars == len("\n".join(full[len(kept) :]))
    assert f"The full plan is in the job summary and the run log ([workflow run]({fx.RUN_URL}))." in text
    assert "… and 9,900 more resources: see the job summary." in text
    assert "1,200 risky changes" in text  # 400 destroyed (every 25th), 800 replaced (other 10ths)
    assert "… and 1,150 more: see the job summary." in text


def test_cut_note_without_a_run_url(big: tuple[PlanOutcome, DeployOutcome]) -> None:
    text = render.comment("planned", fx.context(run_url=""), config=fx.config(), plan=big[0])
    assert "The full plan is in the job summary and the run log." in text
    assert "workflow run" not in text


def test_job_summary_of_ten_thousand_resources_stays_under_one_mib(
    big: tuple[PlanOutcome, DeployOutcome],
) -> None:
    text = render.job_summary(fx.context(), "ready", config=fx.config(), deploy=big[1])
    size = len(text.encode("utf-8"))
    assert size <= render.SUMMARY_LIMIT
    assert size > render.SUMMARY_LIMIT - 20_000
    assert problems(text) == []
    assert text.count("\n| ") >= 1_000
    assert "… and 9,000 more resources: see the job summary." in text
    assert f"The full plan is in the run log ([workflow run]({fx.RUN_URL}))." in text


def test_job_summary_holds_a_large_plan_whole() -> None:
    document, plan_text = fx.big_plan(1_000)
    plan = PlanOutcome(summary=summarize(document), plan_text=plan_text)
    text = render.job_summary(fx.context(), "planned", config=fx.config(), plan=plan)
    assert render.diff_text(plan_text) in text
    assert "cut" not in text.split("```diff")[0].rsplit("<summary>", 1)[-1]
    assert problems(text) == []


def test_summary_limit_counts_bytes_not_characters() -> None:
    plan_text = "\n".join(f'  + value = "{"é" * 100}{n}"' for n in range(8_000))
    plan = PlanOutcome(summary=fx.summary(), plan_text=plan_text)
    text = render.job_summary(fx.context(), "planned", config=fx.config(), plan=plan)
    size = len(text.encode("utf-8"))
    assert render.SUMMARY_LIMIT - 10_000 < size <= render.SUMMARY_LIMIT
    assert len(text) < 0.6 * render.SUMMARY_LIMIT  # counted in characters it would have been far over
    assert problems(text) == []


def test_backticks_in_the_plan_cannot_close_the_fence() -> None:
    plan_text = '  + description = "```\n</details>\n<img src=x>\n````"\n  ~ ok = 1'
    text = render.comment(
        "planned", fx.context(), config=fx.config(), plan=PlanOutcome(fx.summary(), plan_text)
    )
    assert "`````diff\n" in text
    assert "\n`````\n\n</details>" in text
    assert problems(text) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.one_of(
            st.sampled_from(["```", "````", "~~~", "</details>", "<details>", "  + x", "-/+ y", "", "| a |"]),
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120),
        ),
        max_size=400,
    ),
    limit=st.integers(min_value=400, max_value=20_000),
    state=st.sampled_from(["planned", "ready", "failed"]),
)
def test_any_plan_at_any_limit_fits_and_stays_valid(lines: list[str], limit: int, state: str) -> None:
    plan_text = "\n".join(lines)
    plan = PlanOutcome(fx.summary(), plan_text)
    deploy = DeployOutcome(
        fx.summary(), plan_text, applied=True, url="https://x.example.com", outputs=fx.OUTPUTS
    )
    text = render.comment(
        state,
        fx.context(),
        config=fx.config(),
        plan=plan,
        deploy=deploy if state == "ready" else None,
        error=fx.error() if state == "failed" else None,
        limit=limit,
    )
    assert len(text) <= limit
    assert problems(text) == []


@pytest.mark.parametrize("limit", [0, 10, 100, 300, 1_000])
def test_tiny_limits_are_still_honoured(limit: int) -> None:
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=fx.deploy(), limit=limit)
    assert len(text) <= limit
    assert problems(text) == []


# --- the cutting primitives ---------------------------------------------------------------------------


def test_cut_block_cuts_whole_lines_and_counts_what_is_left_out() -> None:
    full = block("one\ntwo\nthree\nfour")
    cut = cut_block(full, 9)
    assert cut.text == "one\ntwo"
    assert cut.cut is not None
    assert (cut.cut.omitted_lines, cut.cut.omitted_chars) == (2, len("three\nfour"))
    assert cut_block(full, 100) is full
    assert cut_block(full, 2).text == ""
    assert cut_block(block("ééé\nb"), 5, lambda s: len(s.encode())).text == ""
    assert cut_block(block("ééé\nb"), 7, lambda s: len(s.encode())).text == "ééé"


def test_fit_markdown_closes_open_fences_and_details() -> None:
    doc = "# T\n\n<details><summary>s</summary>\n\n````diff\n" + "".join(f"+ line {n}\n" for n in range(500))
    doc += "````\n\n</details>\n\nafter\n"
    text = fit_markdown(doc, 1_000, where="; see the run log")
    assert len(text) <= 1_000
    assert problems(text) == []
    assert "\n````\n" in text
    assert text.rstrip().endswith("left out to stay within the size limit; see the run log._")
    assert fit_markdown(doc, len(doc)) == doc


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(
            [
                "<details><summary>x</summary>\n\n",
                "\n</details>\n\n",
                "```diff\n",
                "\n```\n\n",
                "~~~~\n",
                "\n~~~~\n",
                "text line\n",
                "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
                "- item\n",
                "\n",
            ]
        ),
        max_size=80,
    ),
    limit=st.integers(min_value=0, max_value=600),
)
def test_fit_markdown_never_exceeds_and_never_leaves_things_open(parts: list[str], limit: int) -> None:
    doc = "".join(parts)
    if problems(doc):
        return  # only documents that were valid to begin with must stay valid
    text = fit_markdown(doc, limit)
    assert len(text) <= limit
    assert problems(text) == []


def test_the_cost_stays_whole_above_a_plan_cut_to_fit(big: tuple[PlanOutcome, DeployOutcome]) -> None:
    """Issue 17: the cost block comes before the plan, so it is never what the cut takes."""
    deploy = dataclasses.replace(big[1], cost=fx.cost())
    limit = render.COMMENT_LIMIT - MARKER_LENGTH
    text = render.comment("ready", fx.context(), config=fx.config(), deploy=deploy, limit=limit)
    assert len(text) <= limit
    assert problems(text) == []
    assert "**💰 Cost:** about **\\$1.43/day** while running" in text
    assert "This deploy changed the cost of its own resources by **+\\$0.05/day**" in text
    assert text.index("💰 Cost") < text.index("The plan was cut")
    summary = render.job_summary(fx.context(), "ready", config=fx.config(), deploy=deploy)
    assert len(summary.encode("utf-8")) <= render.SUMMARY_LIMIT
    assert "| `(base)` | share of the base" in summary
