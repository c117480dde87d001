"""Making text safe to put on GitHub (pure): secrets redacted, PR-supplied text inert, size bounded.

`redact` replaces secret values (exact strings) and configured patterns by `***`. `escape_untrusted`
turns any text a pull request controls (title, branch, resource addresses, output values, error text)
into Markdown that renders as the same characters but cannot open an HTML tag, a link, an autolink,
an image, a task list or an `@mention`; `link_text` does the same for the text of a link without
adding invisible characters. `inline_code` is the other safe form: a code span whose
delimiters no backtick run inside it can close. `fit_markdown` and `cut_block` bound the size at a
line boundary and keep the Markdown valid: every code fence and `<details>` that was open is closed.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import regex

from prenv.core.limits import MASK_PATTERN_TIMEOUT

MASK = "***"
ZWJ = "\u200d"  # zero-width joiner: invisible, but breaks `@name`, `://` and `www.` for GitHub's linkers

# Every ASCII punctuation character CommonMark lets a backslash escape and that could start Markdown
# syntax; `<`, `>` and `&` become entities instead, so no HTML tag or entity can form.
_ESCAPES: dict[int, str | None] = {ord(ch): "\\" + ch for ch in "\\`*_{}[]()#+-.!|~$"}
_ESCAPES |= {ord("<"): "&lt;", ord(">"): "&gt;", ord("&"): "&amp;"}
# Line breaks and tabs become spaces (one line stays one line); other control characters and the
# bidirectional overrides that can reorder what a reader sees ("Trojan Source") are dropped.
_ESCAPES |= {ord(ch): " " for ch in "\r\n\t\v\f\u2028\u2029\x85"}
_ESCAPES |= {cp: None for cp in [*range(0x00, 0x20), 0x7F] if chr(cp) not in "\r\n\t\v\f"}
_BIDI: dict[int, str | None] = {cp: None for cp in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_ESCAPES |= _BIDI
_LINKY = re.compile(r"@|:(?=\\?/)|(?<=www)(?=\\\.)", re.IGNORECASE)
_BACKTICKS = re.compile(r"`+")


def escape_untrusted(text: str) -> str:
    """Markdown that shows `text` literally: no HTML, no links or autolinks, no mentions, one line."""
    escaped = str(text).translate(_ESCAPES)
    # After `@` (mentions, e-mail autolinks), between `:` and `//` (URL autolinks), and inside `www.`.
    return _LINKY.sub(lambda m: m.group(0) + ZWJ, escaped)


# Link text is inside a link already: GitHub's autolinkers and its @mention filter leave link text
# alone, but a `:` typed as such could still start a URL autolink at parse time. So `:` is a
# backslash escape and `@` a character reference, both rendered as the plain characters: the visible
# text copies as the exact URL (no invisible character in it, unlike `escape_untrusted`).
_LINK_TEXT = _ESCAPES | {ord(":"): "\\:", ord("@"): "&#64;"}


def link_text(text: str) -> str:
    """Markdown for the text of a link (`[here](url)`) that shows `text` literally, with nothing
    invisible added: copying the rendered text gives `text` back."""
    return str(text).translate(_LINK_TEXT)


def inline_code(text: str, *, table: bool = False) -> str:
    """A code span showing `text` on one line; in a table cell `|` is escaped as GFM requires."""
    value = re.sub(r"[\r\n\t\v\f\u2028\u2029\x85]+", " ", str(text))
    value = value.translate(_BIDI)
    if table:
        value = value.replace("|", "\\|")
    fence = "`" * (longest_backtick_run(value) + 1)
    if not value.strip(" ") or value.startswith("`") or value.endswith("`"):
        value = f" {value} "
    return f"{fence}{value}{fence}"


def longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def leaves(value: Any) -> Iterator[str]:
    """Every string and number in `value`, at any depth, as text."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str | int | float):
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)


def secret_values(value: Any) -> list[str]:
    """The strings to hide for one secret value: the whole (as text and as JSON), each leaf, each line."""
    found: list[str] = []
    if isinstance(value, str):
        found.append(value)
        found.append(json.dumps(value)[1:-1])  # as Terraform prints it inside quotes (\" \\ \n)
    elif value is not None and not isinstance(value, bool):
        found.append(json.dumps(value))
        found.append(json.dumps(value, sort_keys=True, separators=(",", ":")))
        found.extend(leaves(value))
    for item in list(found):
        found.extend(line.strip() for line in item.splitlines())
    return [item for item in found if item.strip()]


class PatternError(ValueError):
    """A mask pattern that is not a regular expression, or one that runs too long (`config-invalid`)."""


class PatternTimeout(PatternError):
    def __init__(self, pattern: str, size: int) -> None:
        super().__init__(
            f"{pattern!r} ran longer than {MASK_PATTERN_TIMEOUT}s on {size:,} characters "
            "(catastrophic backtracking, such as a repetition inside a repetition); simplify it"
        )
        self.pattern = pattern


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> regex.Pattern[str]:
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise PatternError(f"{pattern!r} is not a valid regular expression ({exc})") from None


def _replace_nonempty(match: regex.Match[str]) -> str:
    return MASK if match.group(0) else ""


def _sub(pattern: str, text: str) -> str:
    """`pattern`'s matches in `text` replaced by `***`, within MASK_PATTERN_TIMEOUT (PatternTimeout)."""
    try:
        return _compiled(pattern).sub(_replace_nonempty, text, timeout=MASK_PATTERN_TIMEOUT)
    except TimeoutError:
        raise PatternTimeout(pattern, len(text)) from None


def check_pattern(pattern: str) -> None:
    """Refuse a mask pattern that does not compile, or that backtracks catastrophically on texts made of
    its own characters (the usual way such a pattern blows up: `(a|aa)+$` on `aaa…a!`)."""
    characters = sorted({ch for ch in pattern if ch.isalnum()} | {"a", "0", " "})
    for ch in characters[:16]:
        for end in ("!", "\n"):
            _sub(pattern, ch * 40 + end)


def redact(text: str, masks: Sequence[str] | Iterable[str], patterns: Sequence[str]) -> str:
    """Replace every exact occurrence of a mask and every match of a pattern by `***`.

    Longer masks win over shorter ones they contain. Masks that do not occur cost one substring search
    each, so a large text with many masks stays linear in practice. A pattern that runs longer than
    MASK_PATTERN_TIMEOUT on a text raises PatternTimeout.
    """
    present = sorted({m for m in masks if m and m.strip() and m in text}, key=len, reverse=True)
    if present:
        text = re.sub("|".join(re.escape(m) for m in present), MASK, text)
    for pattern in patterns:
        text = _sub(pattern, text)
    return text


# --- size: cutting Markdown so that it stays valid -------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True)
class Cut:
    omitted_lines: int
    omitted_chars: int


@dataclass(frozen=True)
class Block:
    """Outside text for a fenced code block: `fence` is longer than any backtick run in `text`."""

    text: str
    fence: str
    lines: int
    cut: Cut | None = None


def block(text: str) -> Block:
    fence = "`" * max(3, longest_backtick_run(text) + 1)
    return Block(text=text, fence=fence, lines=text.count("\n") + 1 if text else 0)


def cut_block(full: Block, budget: int, measure: Callable[[str], int] = len) -> Block:
    """`full` cut to its first whole lines, at most `budget` in size (`measure`: characters or bytes)."""
    if measure(full.text) <= budget:
        return full
    if budget <= 0:
        head = ""
    elif measure is len:
        head = full.text[:budget]
    else:
        head = full.text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    kept = head[: head.rfind("\n") + 1]
    rest = full.text[len(kept) :]
    cut = Cut(omitted_lines=rest.count("\n") + 1, omitted_chars=len(rest))
    return Block(text=kept.rstrip("\n"), fence=full.fence, lines=full.lines, cut=cut)


def tail_block(text: str, limit: int) -> Block:
    """The last whole lines of `text`, at most `limit` characters (errors come at the end)."""
    if len(text) <= limit:
        return block(text)
    rest = text[-limit:]
    rest = rest[rest.find("\n") + 1 :]
    left = text[: len(text) - len(rest)]
    return replace(block(rest), cut=Cut(omitted_lines=left.count("\n"), omitted_chars=len(left)))


def newlines(text: str) -> str:
    """Markdown's line endings (CRLF, CR) as `\n`; other characters Python calls line breaks stay."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _closers(fence: str | None, details: int) -> str:
    return (f"\n{fence}\n" if fence else "") + "\n</details>\n" * details


def fit_markdown(text: str, limit: int, *, measure: Callable[[str], int] = len, where: str = "") -> str:
    """`text` when it fits in `limit`; else its first lines with every open code fence and `<details>`
    closed and a note saying how much was left out (and `where` the whole is)."""
    if measure(text) <= limit:
        return text
    text = newlines(text)
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    note = "\n_… {:,} more lines ({:,} characters) left out to stay within the size limit{}._\n"
    reserve = measure(note.format(len(lines), len(text), where))
    if reserve + len("\n</details>\n") > limit:
        return "_Too long to show._"[: max(limit, 0)]
    fence: str | None = None
    details = used = best = 0
    best_closers = ""
    for index, line in enumerate(lines):
        closers = _closers(fence, details)
        if used + measure(closers) + reserve > limit:
            break
        best, best_closers = index, closers
        used += measure(line)
        match = _FENCE.match(line.rstrip("\r\n"))
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None if not match.group(2).strip() else fence
        else:
            lower = line.lower()
            details = max(0, details + lower.count("<details") - lower.count("</details>"))
    rest = "".join(lines[best:])
    return "".join(lines[:best]) + best_closers + note.format(rest.count("\n") + 1, len(rest), where)


# --- the Actions log: no outside text becomes a workflow command ----------------------------------

# The runner reads a line as a workflow command when, after leading whitespace, it starts with `::`, or
# when it holds `##[` anywhere (the old syntax): actions/runner src/Runner.Common/ActionCommand.cs,
# TryParseV2 and TryParse. Its comparisons may be culture-sensitive, which skips invisible characters
# (zero-width spaces, joiners, combining marks), so those do not hide a command from this check.
_INVISIBLE = frozenset({"Cc", "Cf", "Mn", "Me"})
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")  # the line ends the runner splits its input on
INERT_PREFIX = "\\"  # a visible mark: `::error::x` is shown as `\::error::x`


def visible(text: str) -> str:
    """`text` without the characters a culture-sensitive comparison skips (tabs stay)."""
    return "".join(ch for ch in text if ch == "\t" or unicodedata.category(ch) not in _INVISIBLE)


def is_command_like(line: str) -> bool:
    """Whether the runner could read `line` (one line, no line break) as a workflow command."""
    seen = visible(line)
    return seen.lstrip().startswith("::") or "##[" in seen


def broken(line: str) -> str:
    """`line` shown without its invisible characters, behind a backslash, with `##[` broken."""
    return INERT_PREFIX + visible(line).replace("##[", "#" + INERT_PREFIX + "#[")


def inert_line(line: str) -> str:
    """`line` (without its line break), unable to act as a workflow command (`broken` when it could)."""
    return broken(line) if is_command_like(line) else line


def inert(text: str) -> str:
    """Every line of `text` made inert (`inert_line`); line breaks are kept as they are."""
    parts = _LINE_BREAK.split(text)
    parts[0::2] = [inert_line(part) for part in parts[0::2]]
    return "".join(parts)
