"""No outside text becomes a workflow command: `prenv.core.mask.inert` and the `InertStream` every command
writes through, checked against a model of how the runner reads its log."""

from __future__ import annotations

import io
import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from prenv.core.mask import inert, inert_line
from prenv.report.runtime import ActionsSettings, InertStream, Runtime

# The commands the runner knows (actions/runner: ActionCommandManager and its extensions).
KNOWN = {
    "add-mask",
    "add-matcher",
    "add-path",
    "debug",
    "echo",
    "endgroup",
    "error",
    "group",
    "notice",
    "remove-matcher",
    "save-state",
    "set-env",
    "set-output",
    "stop-commands",
    "warning",
}
PLANTED = [
    "::error title=INJECTED::pwned",
    "::add-mask::Preview",
    "::stop-commands::INJECTED",
    "::set-output name=url::https://INJECTED.example",
    "::group::INJECTED",
    "##[error]INJECTED legacy syntax",
    "  \t::warning::INJECTED indented",
    "\u200b::error::INJECTED behind a zero-width space",
    ":\u200d:error::INJECTED with a joiner inside",
    "#\u200b#[set-output name=x;]INJECTED",
]


def _skipped(ch: str) -> bool:
    """Characters a culture-sensitive comparison may ignore."""
    return unicodedata.category(ch) in {"Cc", "Cf", "Mn", "Me"} and ch != "\t"


def acted_on(log: str) -> list[str]:
    """The commands the runner would carry out for `log`: its two parsers (`::name props::data` after
    leading whitespace; `##[name props]data` anywhere in a line), with stop-commands honoured."""
    done: list[str] = []
    token = ""
    for line in re.split(r"\r\n|\r|\n", log):
        seen = "".join(ch for ch in line if not _skipped(ch))
        name = data = ""
        v2 = re.match(r"::([^ :]*)[^:]*::(.*)", seen.lstrip())
        v1 = re.search(r"##\[([^ \]]*)[^\]]*\](.*)", seen)
        if v2 and (v2.group(1) in KNOWN or v2.group(1) == token):
            name, data = v2.group(1), v2.group(2)
        elif v1 and (v1.group(1) in KNOWN or v1.group(1) == token):
            name, data = v1.group(1), v1.group(2)
        if not name:
            continue
        if token:
            token = "" if name == token else token
            continue
        if name == "stop-commands":
            token = data
        done.append(seen)
    return done


def test_the_model_reads_what_the_runner_reads() -> None:
    for line in PLANTED:
        assert acted_on(line), line
    assert acted_on("::stop-commands::t\n::error::hidden\n::t::\n::error::seen") == [
        "::stop-commands::t",
        "::error::seen",
    ]


def test_planted_commands_become_inert() -> None:
    text = "\n".join(["ok", *PLANTED, "done"])
    assert acted_on(inert(text)) == []
    assert inert_line("::error title=x::y") == "\\::error title=x::y"
    assert inert_line("##[error]x") == "\\#\\#[error]x"
    assert inert("plain text\r\n  indented: a::b\n") == "plain text\r\n  indented: a::b\n"  # left alone
    assert inert("a\r::error::x") == "a\r\\::error::x"  # a bare CR ends a line for the runner


def _runtime(raw: io.StringIO) -> tuple[Runtime, InertStream]:
    stream = InertStream(raw, set())
    return Runtime(ActionsSettings(in_actions=True), stream, stream.secrets), stream  # type: ignore[arg-type]


def test_the_stream_keeps_prenv_s_own_commands_and_masks_values() -> None:
    raw = io.StringIO()
    runtime, stream = _runtime(raw)
    runtime.mask("s3cr3t-value")
    with runtime.group("terraform apply"), runtime.verbatim():
        stream.write("\n".join(PLANTED) + "\nthe value s3cr3t-value leaked\n")
    runtime.annotate("error", "it failed\n::error::planted", title="prenv")
    log = raw.getvalue()
    acted = acted_on(log)
    assert [line.split("::")[1].split(" ")[0] for line in acted] == [
        "add-mask",
        "group",
        "stop-commands",
        "endgroup",
        "error",
    ]
    assert not any("INJECTED" in line for line in acted)
    assert acted[-1] == "::error title=prenv::it failed%0A::error::planted"  # one command, escaped
    assert "the value *** leaked" in log
    assert log.index("::add-mask::s3cr3t-value") == 0  # the mask comes first


@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from([":", "#", "[", "]", " ", "\n", "\r", "\u200b", "a", "e"]), max_size=12
        ),
        max_size=12,
    ),
    st.lists(st.booleans(), max_size=12),
)
def test_no_split_of_the_writes_forms_a_command(pieces: list[str], flushes: list[bool]) -> None:
    raw = io.StringIO()
    stream = InertStream(raw, set())
    for index, piece in enumerate(pieces):
        stream.write(piece)
        if index < len(flushes) and flushes[index]:
            stream.flush()
    stream.write("\n")
    assert acted_on(raw.getvalue()) == []
