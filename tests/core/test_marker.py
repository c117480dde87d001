"""The hidden marker: format and parse round-trip, and only well-formed prenv markers are found."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from prenv.core.marker import VERSION, Marker, format_marker, parse_marker, strip_marker


def test_format_is_a_single_hidden_line() -> None:
    assert format_marker(Marker()) == '<!-- prenv {"v":1,"env":""} -->'
    assert format_marker(Marker(env="staging")) == '<!-- prenv {"v":1,"env":"staging"} -->'


@given(env=st.text(max_size=60), version=st.integers(min_value=1, max_value=10**6))
def test_round_trip(env: str, version: int) -> None:
    line = format_marker(Marker(env=env, version=version))
    assert "\n" not in line
    # Nothing inside can end the HTML comment early or open a tag.
    inner = line.removeprefix("<!-- ").removesuffix(" -->")
    assert "--" not in inner
    assert "<" not in inner
    assert ">" not in inner
    assert parse_marker(line) == Marker(env=env, version=version)
    assert parse_marker(f"{line}\n### Preview ready\n\nbody") == Marker(env=env, version=version)


def test_hostile_environment_name_stays_inside_the_comment() -> None:
    line = format_marker(Marker(env="x --> <img src=x onerror=alert(1)> &amp;"))
    assert line.count("-->") == 1
    assert line.endswith(" -->")
    assert parse_marker(line) == Marker(env="x --> <img src=x onerror=alert(1)> &amp;")


def test_bodies_without_a_valid_marker() -> None:
    assert parse_marker("") is None
    assert parse_marker("Looks good to me!") is None
    assert parse_marker("<!-- prenv not json -->") is None
    assert parse_marker('<!-- prenv {"env":"x"} -->') is None  # no version
    assert parse_marker('<!-- prenv {"v":true,"env":""} -->') is None
    assert parse_marker('<!-- prenv {"v":0,"env":""} -->') is None
    assert parse_marker('<!-- prenv {"v":1,"env":3} -->') is None
    assert parse_marker('<!-- other {"v":1,"env":""} -->') is None


def test_a_newer_version_is_still_recognised() -> None:
    assert parse_marker('<!-- prenv {"v":2,"env":"a","more":[1]} -->') == Marker(env="a", version=2)
    assert VERSION == 1


def test_strip_marker() -> None:
    body = format_marker(Marker(env="e")) + "\n### Ready\n"
    assert strip_marker(body) == "### Ready\n"
    assert strip_marker("no marker") == "no marker"
