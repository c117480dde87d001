"""The preview's image in the base's ECR repository: its reference, the registry login, the docker
arguments of `prenv image`. Pure: the ECR calls are in prenv/aws/registry.py, docker runs in
prenv/engine/docker.py.

The convention: `<registry>/prenv-<hash6>:<head commit SHA>`. The base's repository has immutable tags,
so a tag names exactly one build of one commit; a re-run finds it and builds nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
_HOST = re.compile(r"^[a-z0-9][a-z0-9.-]*(:[0-9]+)?$")
REVISION_LABEL = "org.opencontainers.image.revision"  # the OCI annotation for the source commit


class ImageError(ValueError):
    """A value that cannot name or log in to the image (a bad commit, an ECR answer of another shape)."""


@dataclass(frozen=True)
class Login:
    host: str
    username: str
    password: str  # ECR's 12-hour token: never printed, passed to docker on stdin

    def __repr__(self) -> str:
        return f"Login(host={self.host!r}, username={self.username!r}, password=***)"


def check_sha(sha: str) -> str:
    if not _SHA.match(sha):
        raise ImageError(f"{sha!r} is not a full commit SHA (40 or 64 hexadecimal characters)")
    return sha


def login_of(token: str, proxy_endpoint: str) -> Login:
    """ECR's GetAuthorizationToken answer (base64 'user:password', https://<registry host>) as a Login."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ImageError("ECR's authorization token is not base64 'user:password'") from None
    username, colon, password = decoded.partition(":")
    host = proxy_endpoint.removeprefix("https://").rstrip("/")
    if not (colon and username and password) or not _HOST.match(host):
        raise ImageError(f"ECR's authorization data has an unexpected shape (registry {proxy_endpoint!r})")
    return Login(host=host, username=username, password=password)


def reference(host: str, repository: str, sha: str) -> str:
    """`<host>/<repository>:<sha>`, the image of commit `sha`."""
    return f"{host}/{repository}:{check_sha(sha)}"


def dockerfile_of(context: str, dockerfile: str) -> str:
    """The Dockerfile `prenv image` builds: `build.dockerfile`, else `<build.context>/Dockerfile`."""
    return dockerfile or str(PurePosixPath(context) / "Dockerfile")


def build_arguments(image: str, *, context: str, dockerfile: str, sha: str) -> list[str]:
    """`docker build` for the preview: a fresh base image, the commit as the OCI revision label."""
    return [
        "build",
        "--pull",
        "--label",
        f"{REVISION_LABEL}={check_sha(sha)}",
        "--file",
        dockerfile,
        "--tag",
        image,
        context,
    ]
