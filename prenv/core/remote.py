"""Which GitHub repository a clone is, from its git remotes (`git config --get-regexp` output).

Used where neither the config (`repository:`) nor GITHUB_REPOSITORY names the repository: a laptop
running `prenv status 12` in a clone. Pure: the wiring runs git and passes its output here.
"""

from __future__ import annotations

import re

# `remote.<name>.url <url>`, one per line, as `git config --get-regexp '^remote\..*\.url$'` prints them.
_REMOTE_LINE = re.compile(r"^remote\.(?P<name>.+)\.url\s+(?P<url>\S+)\s*$")
# scp-like syntax: [user@]host:path (no scheme, a colon before any slash).
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:]+):(?P<path>[^/].*)$")
_URL = re.compile(r"^(?:https?|ssh|git|git\+ssh)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")


def repository_from_url(url: str) -> str | None:
    """owner/name of a GitHub remote URL (https, ssh, scp-like git@host:owner/name), or None.

    Any host is accepted (GitHub Enterprise Server); the path must be exactly owner/name (GitLab-style
    subgroups are not GitHub repositories). Credentials in the URL are never part of the answer.
    """
    text = url.strip()
    match = _URL.match(text) or _SCP_LIKE.match(text)
    if match is None:
        return None
    path = match.group("path").strip("/")
    path = path.removesuffix(".git")
    parts = path.split("/")
    if len(parts) != 2 or not all(_SEGMENT.match(part) and part not in (".", "..") for part in parts):
        return None
    return "/".join(parts)


def repository_from_remotes(config_output: str) -> str | None:
    """owner/name of the remote `origin`, else of the only remote, from `git config --get-regexp` output."""
    remotes: dict[str, str] = {}
    for line in config_output.splitlines():
        match = _REMOTE_LINE.match(line.strip())
        if match:
            remotes.setdefault(match.group("name"), match.group("url"))
    if "origin" in remotes:
        return repository_from_url(remotes["origin"])
    if len(remotes) == 1:
        return repository_from_url(next(iter(remotes.values())))
    return None
