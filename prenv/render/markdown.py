"""Markdown for the PR comment and the job summary (pure: values in, text out).

Templates are Jinja2 files in `prenv/render/templates/` (`<name>.md.j2`) with autoescape off (this is
Markdown, not HTML): every value a pull request can influence goes through a filter (`untrusted`,
`code`, `cell`, `url`). `config.comment.templates` overrides any template by name with a file of the
repository (a ChoiceLoader falls back to prenv's own); those run in Jinja2's sandbox.

Size: the comment never exceeds `limit` characters and the summary never exceeds GitHub's 1 MiB. The
folded plan is what gives way: it is cut at a line boundary (the template still closes its code fence
and `<details>`) and a note says how much was left out and where the full plan is. Anything still too
long (a large custom template, huge outputs) is cut by `fit_markdown`, which closes what is open.
Secrets: every outside string is redacted before it is escaped, and the whole result once more.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prenv.core import mask, phases
from prenv.core.access import access_of
from prenv.core.config import Config, format_duration
from prenv.core.domain import (
    CommentState,
    Context,
    DeployOutcome,
    DestroyOutcome,
    PlanOutcome,
    sensitive_values,
)
from prenv.core.errors import ConfigError, PrenvError
from prenv.core.limits import COMMENT_LIMIT, SUMMARY_LIMIT_BYTES
from prenv.core.links import links as reviewer_links
from prenv.core.mask import Block, Cut, block, cut_block, escape_untrusted, fit_markdown, redact, tail_block
from prenv.core.plan import PlanSummary, ResourceChange
from prenv.core.readiness import ReadyProgress
from prenv.core.sleep import SleepNotice, WakeNotice
from prenv.render import templating
from prenv.render.cost_view import cost_view, sleep_view, wake_view

__all__ = ["COMMENT_LIMIT", "comment", "escape_untrusted", "fit_markdown", "job_summary", "redact"]

SUMMARY_LIMIT = SUMMARY_LIMIT_BYTES - 1024  # bytes; room for anything the runtime appends
# The states a job summary is written for (the others happen before anything is known, or in cleanup).
SUMMARY_STATES = (CommentState.PLANNED, CommentState.READY, CommentState.FAILED, CommentState.DESTROYED)
DETAIL_LIMIT = 8000  # characters of error detail (Terraform's error text) kept, from the end
WAITING_LINES = 10  # lines of what a deploy waits for shown in the "deploying" comment
VALUE_LIMIT = 300  # characters of one output value shown


@dataclass(frozen=True)
class Caps:
    risky: int
    rows: int


COMMENT_CAPS = Caps(risky=50, rows=100)
SUMMARY_CAPS = Caps(risky=500, rows=1000)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ADD_REMOVE = re.compile(r"^([ \t]+)([-+])(?=[ \t]|$)", re.MULTILINE)
_UPDATE = re.compile(r"^([ \t]+)~(?=[ \t]|$)", re.MULTILINE)
_MARKED = re.compile(r"\n([ \t]+)([-+~])(?=([ \t\n]))")


# --- the view: plain values the templates show ----------------------------------------------------


@dataclass(frozen=True)
class OutputRow:
    name: str
    value: str
    sensitive: bool


@functools.lru_cache(maxsize=2)  # a deploy renders the same plan for the comment and the summary
def diff_text(plan_text: str) -> str:
    """`terraform show` text with each line's `+`, `-`, `~` moved to column 0 for GitHub's diff colours.

    `~` (update in place) becomes `!`, which GitHub's diff grammar colours as changed; `-/+` and `+/-`
    (replace) already start at column 0. Terminal colour codes are dropped.
    """
    text = "\n" + _ANSI.sub("", mask.newlines(plan_text)).strip("\n") + "\n"
    # Fast path: one str.replace per distinct (indent, marker, next character) of the plan.
    for indent, marker, after in set(_MARKED.findall(text)):
        shown = "!" if marker == "~" else marker
        text = text.replace(f"\n{indent}{marker}{after}", f"\n{shown}{indent}{after}")
    # What replace could not reach (a bare marker line right after another): the regular expressions.
    return _UPDATE.sub(r"!\1", _ADD_REMOVE.sub(r"\2\1", text.strip("\n")))


def _scrubbed(change: ResourceChange, scrub: Callable[[str], str]) -> ResourceChange:
    return replace(
        change,
        address=scrub(change.address),
        previous_address=scrub(change.previous_address),
        replace_reasons=tuple(scrub(reason) for reason in change.replace_reasons),
    )


def _format_value(value: Any, scrub: Callable[[str], str]) -> str:
    """The value as shown in the outputs table: redacted first, then shortened (never the reverse)."""
    text = scrub(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


@dataclass(frozen=True)
class _Inputs:
    ctx: Context
    config: Config
    plan: PlanOutcome | None
    deploy: DeployOutcome | None
    destroy: DestroyOutcome | None
    error: PrenvError | None
    masks: Sequence[str]


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if not text or text[-1] in ".!?" else ".")


def _error_view(error: PrenvError, scrub: Callable[[str], str]) -> dict[str, Any]:
    detail = scrub(mask.newlines(error.detail).strip("\n"))
    return {
        "message": scrub(error.message),
        "hint": _sentence(scrub(error.hint)),
        "reason": str(error.reason),
        "detail": tail_block(detail, DETAIL_LIMIT) if detail.strip() else None,
    }


def _waiting_view(progress: ReadyProgress, scrub: Callable[[str], str]) -> dict[str, Any]:
    """What the deploy waits for: AWS's words (reasons, descriptions), redacted and bounded."""

    def short(text: str) -> str:
        text = scrub(text)
        return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"

    details = progress.details
    return {
        "summary": short(progress.summary),
        "details": [short(line) for line in details[:WAITING_LINES]],
        "more": max(0, len(details) - WAITING_LINES),
    }


def _view(inputs: _Inputs, caps: Caps) -> tuple[dict[str, Any], Block | None, Callable[[str], str]]:
    """The template variables (all outside strings already redacted), the plan block and the redactor."""
    outputs = inputs.deploy.outputs if inputs.deploy else ()
    planned = inputs.deploy or inputs.plan
    secrets = [*inputs.masks, *sensitive_values(outputs), *(planned.secrets if planned else ())]
    patterns = tuple(inputs.config.comment.mask_patterns)

    def scrub(text: str) -> str:
        try:
            return redact(text, secrets, patterns)
        except mask.PatternError as exc:
            raise ConfigError(
                f"{inputs.config.path}: comment.mask_patterns: {exc}",
                hint="fix or remove the pattern (patterns run with a time limit)",
            ) from None

    ctx = inputs.ctx
    ctx = replace(ctx, title=scrub(ctx.title), head_ref=scrub(ctx.head_ref), head_sha=scrub(ctx.head_sha))
    source = inputs.deploy or inputs.plan
    summary: PlanSummary | None = source.summary if source else None
    plan = block(scrub(diff_text(source.plan_text))) if source and source.plan_text.strip() else None
    risky = list(summary.risky) if summary else []
    changes = list(summary.changes) if summary else []
    links, commands = reviewer_links(outputs, ctx) if inputs.deploy else ([], [])
    error = inputs.error
    view: dict[str, Any] = {
        "ctx": ctx,
        "short_sha": ctx.head_sha[:7] if re.fullmatch(r"[0-9a-f]{7,64}", ctx.head_sha) else "",
        "run_url": ctx.run_url,
        "summary": summary,
        "counts": [(n, f"to {word}") for word, n in summary.counts().items()] if summary else [],
        "risky": [_scrubbed(c, scrub) for c in risky[: caps.risky]],
        "risky_total": len(risky),
        "risky_more": max(0, len(risky) - caps.risky),
        "rows": [_scrubbed(c, scrub) for c in changes[: caps.rows]],
        "rows_more": max(0, len(changes) - caps.rows),
        "url": scrub(inputs.deploy.url) if inputs.deploy else "",
        "url_output": inputs.config.terraform.url_output,
        "access": access_of(outputs) if inputs.deploy else None,
        "applied": inputs.deploy.applied if inputs.deploy else None,
        "phases": phases.summary(inputs.deploy.phases) if inputs.deploy else "",
        "outputs": [
            OutputRow(scrub(o.name), "" if o.sensitive else _format_value(o.value, scrub), o.sensitive)
            for o in outputs
        ],
        "links": links,
        "commands": commands,
        "destroy": inputs.destroy,
        "error": _error_view(error, scrub) if error else None,
        "keep_label": inputs.config.cleanup.keep_label,
        "max_age": format_duration(inputs.config.cleanup.max_age),
        # Issue 17: the preview's cost (ready comment, job summary), its sleep and its wake.
        "cost": cost_view(inputs.deploy.cost) if inputs.deploy and inputs.deploy.cost else None,
        "asleep": None,
        "woken": None,
    }
    return view, plan, scrub


def _render(
    name: str,
    view: dict[str, Any],
    plan: Block | None,
    scrub: Callable[[str], str],
    *,
    limit: int,
    measure: Callable[[str], int],
    config: Config,
    template_dir: Path | None,
) -> str:
    import jinja2

    template = templating.template(name, config, template_dir)

    def attempt(plan_block: Block | None) -> str:
        try:
            body = templating.render(template, {**view, "plan": plan_block})
        except jinja2.TemplateError as exc:
            raise templating.template_error(config, name, exc) from None
        return scrub(body).strip("\n") + "\n"

    # A plan that alone exceeds the limit is certain to be cut: skip rendering it whole.
    body = attempt(plan) if plan is None or measure(plan.text) <= limit else ""
    if plan is not None and (not body or measure(body) > limit):
        skeleton = replace(plan, text="", cut=Cut(omitted_lines=plan.lines, omitted_chars=len(plan.text)))
        budget = limit - measure(attempt(skeleton))
        body = attempt(cut_block(plan, budget, measure))
    return fit_markdown(
        body, limit, measure=measure, where=f"; the full text is in {view['full_plan_where']}"
    )


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _state(value: CommentState, allowed: Sequence[CommentState], what: str) -> CommentState:
    """`value` as a state of `allowed`; anything else is a bug of the caller (ValueError)."""
    found = next((state for state in allowed if state == value), None)
    if found is None:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return found


def comment(
    state: CommentState,
    ctx: Context,
    *,
    config: Config,
    plan: PlanOutcome | None = None,
    deploy: DeployOutcome | None = None,
    destroy: DestroyOutcome | None = None,
    error: PrenvError | None = None,
    masks: Sequence[str] = (),
    limit: int = COMMENT_LIMIT,
    expires_at: datetime | None = None,
    template_dir: Path | None = None,
    asleep: SleepNotice | None = None,
    woken: WakeNotice | None = None,
    waiting: ReadyProgress | None = None,
) -> str:
    """The sticky comment's body for `state` (without the hidden marker), at most `limit` characters."""
    state = _state(state, tuple(CommentState), "comment state")
    inputs = _Inputs(ctx, config, plan, deploy, destroy, error, masks)
    view, plan_block, scrub = _view(inputs, COMMENT_CAPS)
    view |= {
        "waiting": _waiting_view(waiting, scrub) if waiting else None,
        "state": state,
        "expires_at": _when(expires_at),
        "limit_name": "GitHub's comment limit",
        "full_plan_where": "the job summary and the run log",
        "asleep": sleep_view(asleep) if asleep else None,
        "woken": wake_view(woken) if woken else None,
    }
    return _render(
        state, view, plan_block, scrub, limit=limit, measure=len, config=config, template_dir=template_dir
    )


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def job_summary(
    ctx: Context,
    kind: CommentState,
    *,
    config: Config,
    plan: PlanOutcome | None = None,
    deploy: DeployOutcome | None = None,
    destroy: DestroyOutcome | None = None,
    error: PrenvError | None = None,
    masks: Sequence[str] = (),
    template_dir: Path | None = None,
) -> str:
    """The job summary: the full plan (within GitHub's 1 MiB per step) and the resource table."""
    kind = _state(kind, SUMMARY_STATES, "summary kind")
    inputs = _Inputs(ctx, config, plan, deploy, destroy, error, masks)
    view, plan_block, scrub = _view(inputs, SUMMARY_CAPS)
    view |= {
        "kind": kind,
        "state": kind,
        "expires_at": "",
        "limit_name": "GitHub's 1 MiB job-summary limit",
        "summary_limit": SUMMARY_LIMIT,
        "full_plan_where": "the run log",
    }
    return _render(
        "summary",
        view,
        plan_block,
        scrub,
        limit=SUMMARY_LIMIT,
        measure=_bytes,
        config=config,
        template_dir=template_dir,
    )
