"""Markdown for the PR comment and the job summary (pure). Placeholder until the templates land."""

from __future__ import annotations

from typing import Any

from prenv.config import Config
from prenv.report import Context


def job_summary(ctx: Context, kind: str, *, config: Config, **parts: Any) -> str:
    return f"## prenv {ctx.command}: PR #{ctx.pr_number} ({kind})\n"
