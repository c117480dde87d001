"""The repository of a clone, from its git remotes: the URL forms git and GitHub use."""

from __future__ import annotations

import pytest

from prenv.core.remote import repository_from_remotes, repository_from_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo-org/hello-world.git", "octo-org/hello-world"),
        ("https://github.com/octo-org/hello-world", "octo-org/hello-world"),
        ("https://github.com/octo-org/hello-world/", "octo-org/hello-world"),
        ("git@github.com:octo-org/hello-world.git", "octo-org/hello-world"),
        ("github.com:octo-org/hello-world", "octo-org/hello-world"),
        ("ssh://git@github.com/octo-org/hello-world.git", "octo-org/hello-world"),
        ("ssh://git@github.com:22/octo-org/hello-world.git", "octo-org/hello-world"),
        ("git://github.com/octo-org/hello-world.git", "octo-org/hello-world"),
        ("https://x-access-token:ghs_secret@github.com/octo-org/my.app.git", "octo-org/my.app"),
        ("https://ghe.example.com/team/service.git", "team/service"),  # GitHub Enterprise Server
        ("https://gitlab.com/group/subgroup/project.git", None),  # not owner/name
        ("https://github.com/octo-org", None),
        ("/srv/git/hello-world.git", None),  # a local path
        ("file:///srv/git/octo-org/hello-world.git", None),
        ("https://github.com/octo-org/../etc", None),
        ("", None),
    ],
)
def test_repository_from_url(url: str, expected: str | None) -> None:
    assert repository_from_url(url) == expected


def test_origin_wins_then_the_only_remote() -> None:
    both = (
        "remote.upstream.url https://github.com/prenv/prenv.git\n"
        "remote.origin.url git@github.com:me/prenv.git\n"
    )
    assert repository_from_remotes(both) == "me/prenv"
    assert repository_from_remotes("remote.fork.url https://github.com/me/app.git\n") == "me/app"
    two_without_origin = "remote.a.url https://github.com/a/x\nremote.b.url https://github.com/b/x\n"
    assert repository_from_remotes(two_without_origin) is None
    assert repository_from_remotes("") is None
    assert repository_from_remotes("remote.origin.url /srv/git/app.git\n") is None
