"""The GitHub Actions runtime: event payload, step outputs, job summary, masks, annotations, groups.

What the runner tells a step (its variables) is read at the entry (`prenv.commands.wiring`) into
`ActionsSettings`. Outside Actions (no `GITHUB_ACTIONS=true`) workflow commands are not printed:
outputs and summaries are written only where files are named, and groups become plain headings.

prenv's own workflow commands are the only ones in the log: everything else prenv prints goes through
an `InertStream` (`prenv.core.mask.inert`: a line that the runner could read as a command is shown
behind a backslash), with every value masked so far replaced by `***`; Terraform's output is also
printed inside a `::stop-commands::` block with a random token (`Runtime.verbatim`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping, MutableSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO, cast

from prenv.core.errors import UsageError
from prenv.core.limits import EVENT_LIMIT_BYTES, EVENT_MAX_DEPTH, SUMMARY_LIMIT_BYTES
from prenv.core.mask import broken, inert, is_command_like, redact, visible


def escape_data(value: str) -> str:
    """Escape a workflow command's message, as @actions/core does."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value (title, file, ...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def read_event(path: str) -> dict[str, Any] | None:
    """The webhook payload at `path` (GITHUB_EVENT_PATH), or None when there is none. Read defensively:
    at most EVENT_LIMIT_BYTES, UTF-8 JSON nested at most EVENT_MAX_DEPTH levels (else `bad-usage`)."""
    if not path:
        return None
    where = f"the event payload at {path}"
    try:
        with open(path, "rb") as handle:
            data = handle.read(EVENT_LIMIT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"GITHUB_EVENT_PATH points at {path}, which does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror or exc}") from None
    if len(data) > EVENT_LIMIT_BYTES:
        raise UsageError(f"{where} is larger than {EVENT_LIMIT_BYTES // (1024 * 1024)} MB, GitHub's limit")
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise UsageError(f"{where} nests deeper than {EVENT_MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise UsageError(f"{where} is not JSON: {exc}") from None
    if _depth(document) > EVENT_MAX_DEPTH:
        raise UsageError(f"{where} nests deeper than {EVENT_MAX_DEPTH} levels")
    return document if isinstance(document, dict) else None


def _depth(value: Any) -> int:
    """How deep a parsed JSON value nests (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack += [(child, depth + 1) for child in item.values()]
        elif isinstance(item, list):
            stack += [(child, depth + 1) for child in item]
    return deepest


class InertStream:
    """A text stream that writes outside text to `raw` with every line inert (`prenv.core.mask.inert`)
    and every value of `secrets` (as `Runtime.mask` registers them) replaced by `***`; `command()` writes
    one of prenv's own workflow commands as it is.

    Lines are written whole. A partial line is held until its end comes, or written at `flush()` once
    its first characters show it cannot start a command (the rest of that line is then checked with the
    characters before it, for a `##[` across the two writes)."""

    def __init__(self, raw: TextIO, secrets: MutableSet[str]) -> None:
        self.raw = raw
        self.secrets = secrets
        self._pending = ""
        self._tail: str | None = None  # the end of a line part already written; None at a line start

    def _clean(self, text: str) -> str:
        return redact(text, self.secrets, ()) if self.secrets else text

    def _emit(self, piece: str) -> None:
        """Write `piece`: whole lines, possibly preceded by the rest of a line already begun."""
        if self._tail is not None:
            line, sep, piece = _split_first_line(piece)
            if is_command_like(self._tail + line):
                line = broken(line)
            self.raw.write(self._clean(line) + sep)
            self._tail = None if sep else visible(self._tail + line)[-2:]
        if piece:
            self.raw.write(self._clean(inert(piece)))

    def write(self, text: str) -> int:
        data = self._pending + text
        cut = max(data.rfind("\n"), data.rfind("\r"))
        if cut == len(data) - 1 and data.endswith("\r"):
            cut -= 1  # a CR may be the first half of a CRLF
        whole, self._pending = data[: cut + 1], data[cut + 1 :]
        if whole:
            self._emit(whole)
        return len(text)

    def flush(self) -> None:
        pending = self._pending
        started = self._tail is not None or len(visible(pending).strip()) >= 2
        if pending and started and not is_command_like((self._tail or "") + pending):
            self._pending = ""
            if self._tail is None:
                self.raw.write(self._clean(pending))
                self._tail = visible(pending)[-2:]
            else:
                self._emit(pending)
        self.raw.flush()

    def command(self, line: str) -> None:
        """One of prenv's own workflow commands, on a line of its own."""
        if self._pending or self._tail is not None:
            self.write("\n")
        self.raw.write(line + "\n")
        self.raw.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, getvalue ...
        return getattr(self.raw, name)


def _split_first_line(text: str) -> tuple[str, str, str]:
    for index, char in enumerate(text):
        if char in "\r\n":
            sep = "\r\n" if text[index : index + 2] == "\r\n" else char
            return text[:index], sep, text[index + len(sep) :]
    return text, "", ""


def inert_stream(stream: TextIO, secrets: MutableSet[str]) -> TextIO:
    """`stream` behind an `InertStream` (once: a stream already behind one is returned as it is)."""
    if isinstance(stream, InertStream):
        return cast(TextIO, stream)
    return cast(TextIO, InertStream(stream, secrets))


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
    # Values masked so far: `InertStream` replaces them by *** in everything else prenv prints.
    secrets: MutableSet[str] = field(default_factory=set)

    @property
    def in_actions(self) -> bool:
        return self.settings.in_actions

    @property
    def has_summary(self) -> bool:
        return bool(self.settings.summary_path)

    def _command(self, line: str) -> None:
        if self.in_actions:
            command = getattr(self.out, "command", None)
            if command is not None:
                command(line)
            else:
                self.out.write(line + "\n")
                self.out.flush()

    def mask(self, value: str) -> None:
        """Ask the runner to hide `value` (each line of it) in the log; prenv's own output hides it too."""
        for line in value.splitlines():
            if line.strip() and line not in self.secrets:  # each value is masked once
                self.secrets.add(line)
                self._command(f"::add-mask::{escape_data(line)}")

    @contextmanager
    def verbatim(self) -> Iterator[None]:
        """Outside text printed inside is never read as a workflow command: the runner stops reading
        them until a token nobody else can know (`::stop-commands::<token>` ... `::<token>::`)."""
        token = secrets.token_hex(16)
        self._command(f"::stop-commands::{token}")
        try:
            yield
        finally:
            self._command(f"::{token}::")

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
