"""The GitHub Actions runtime: event payload, step outputs, job summary, masks, annotations, groups.

What the runner tells a step (its variables) is read at the entry (`prenv.commands.wiring`) into
`ActionsSettings`. Outside Actions (no `GITHUB_ACTIONS=true`) workflow commands are not printed:
outputs and summaries are written only where files are named, and groups become plain headings.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from prenv.core.errors import UsageError
from prenv.core.limits import SUMMARY_LIMIT_BYTES


def escape_data(value: str) -> str:
    """Escape a workflow command's message, as @actions/core does."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value (title, file, ...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def read_event(path: str) -> dict[str, Any] | None:
    """The webhook payload at `path` (GITHUB_EVENT_PATH), or None when there is none."""
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"GITHUB_EVENT_PATH points at {path}, which does not exist") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the event payload at {path}: {exc}") from None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class ActionsSettings:
    """What the runner tells the step: whether it runs in Actions, where its outputs and summary go."""

    in_actions: bool = False  # GITHUB_ACTIONS=true
    output_path: str = ""  # GITHUB_OUTPUT
    summary_path: str = ""  # GITHUB_STEP_SUMMARY
    run_url: str = ""  # the link to this workflow run ('' outside Actions)


@dataclass
class Runtime:
    """Writes workflow commands, step outputs and the job summary for the current step."""

    settings: ActionsSettings
    out: TextIO

    @property
    def in_actions(self) -> bool:
        return self.settings.in_actions

    @property
    def has_summary(self) -> bool:
        return bool(self.settings.summary_path)

    def _command(self, line: str) -> None:
        if self.in_actions:
            self.out.write(line + "\n")
            self.out.flush()

    def mask(self, value: str) -> None:
        """Ask the runner to hide `value` (each line of it) in the log."""
        for line in value.splitlines():
            if line.strip():
                self._command(f"::add-mask::{escape_data(line)}")

    def annotate(self, level: str, message: str, *, title: str = "") -> None:
        """An `error`, `warning` or `notice` annotation; outside Actions, a plain line on stderr."""
        if self.in_actions:
            props = f" title={escape_property(title)}" if title else ""
            self._command(f"::{level}{props}::{escape_data(message)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """Fold what is printed inside into one collapsible group in the Actions log."""
        self._command(f"::group::{escape_data(title)}")
        try:
            yield
        finally:
            self._command("::endgroup::")

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Append step outputs to GITHUB_OUTPUT with a random heredoc delimiter per value."""
        path = self.settings.output_path
        if not path:
            return
        with open(path, "a", encoding="utf-8") as handle:
            for name, value in outputs.items():
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                while delimiter in value:  # pragma: no cover - 128 random bits
                    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def write_summary(self, markdown: str) -> bool:
        """Append to the job summary, bounded to GitHub's per-step limit. False when there is none."""
        path = self.settings.summary_path
        if not path:
            return False
        data = markdown.encode("utf-8")
        if len(data) > SUMMARY_LIMIT_BYTES:
            cut = data[:SUMMARY_LIMIT_BYTES].decode("utf-8", errors="ignore")
            markdown = cut[: cut.rfind("\n") + 1] + "\n\n_The summary was cut at GitHub's 1 MiB limit._\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown)
        return True
