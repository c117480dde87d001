"""PR states for cleanup come from lists, in few calls: never one GET per preview."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from prenv.commands.cleanup import pull_states
from prenv.core.cleanup import PrState
from prenv.github.client import GitHub
from tests.github.conftest import TOKEN
from tests.github.fake import FakeGitHub, fake_github


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        yield server


def client(fake: FakeGitHub) -> GitHub:
    return GitHub(TOKEN, fake.repository, api_url=fake.api_url, sleep=lambda s: None)


def test_states_of_200_previews_in_a_few_list_calls(fake: FakeGitHub) -> None:
    # 200 previews: 150 of open PRs, 40 of closed ones (half merged), 10 of PRs that do not exist.
    for number in range(1, 151):
        fake.add_pull(number, labels=("prenv:keep",) if number == 7 else ())
    for number in range(151, 191):
        fake.add_pull(number, state="closed", merged=number % 2 == 0)
    previews = set(range(1, 201))

    states = pull_states(client(fake), previews)

    assert {n: s.state for n, s in states.items() if n <= 150} == dict.fromkeys(range(1, 151), PrState.OPEN)
    assert states[152].state is PrState.MERGED
    assert states[151].state is PrState.CLOSED
    assert {states[n].state for n in range(191, 201)} == {PrState.MISSING}
    assert states[7].labels == ("prenv:keep",)
    lists = [r for r in fake.requests if r.operation == "pulls/list"]
    assert all(r.method == "GET" for r in fake.requests)
    assert len(fake.requests) == len(lists)  # no per-PR GET
    open_calls = [r for r in lists if r.query.get("state") == "open"]
    closed_calls = [r for r in lists if r.query.get("state") == "closed"]
    bound = 1 + math.ceil(len(previews) / 100)
    assert (len(open_calls), len(closed_calls)) == (2, 1)
    assert len(open_calls) <= bound
    assert len(closed_calls) <= bound
    assert all(r.query.get("per_page") == "100" for r in lists)


def test_stops_listing_when_every_preview_is_found(fake: FakeGitHub) -> None:
    for number in range(1, 351):
        fake.add_pull(number)
    pull_states(client(fake), {350, 349})  # the newest PRs: on the first page
    assert [r.query.get("state") for r in fake.requests] == ["open"]


def test_closed_listing_is_bounded(fake: FakeGitHub) -> None:
    for number in range(1, 1001):
        fake.add_pull(number, state="closed")
    states = pull_states(client(fake), {5000, 5001})
    closed_calls = [r for r in fake.requests if r.query.get("state") == "closed"]
    assert len(closed_calls) == 2  # 1 + ceil(2/100) pages, then stop
    assert {s.state for s in states.values()} == {PrState.NOT_OPEN}
