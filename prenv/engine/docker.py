"""docker, run for `prenv image`: log in to the registry, build, push, log out. Argument lists only
(no shell); the registry password goes to `docker login` on stdin, never on a command line. docker's
output is captured: a failure carries its end as the error's detail."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from prenv.core.errors import FailureReason, PrenvError
from prenv.core.image import Login

DETAIL_LINES = 40  # the end of docker's output kept in a failure


def find_docker(path: str | None) -> str:
    found = shutil.which("docker", path=path)
    if found is None:
        raise PrenvError(
            "docker is not on PATH, so prenv cannot build the preview's image",
            reason=FailureReason.IMAGE_FAILED,
            hint="run `prenv image` where docker is (GitHub's Ubuntu runners have it), or build the image "
            "in your own job and pass it to the action's `image` input",
        )
    return found


@dataclass
class Docker:
    binary: str
    env: Mapping[str, str]
    cwd: Path
    timeout: float = 3600  # a build that hangs is stopped, never waited for forever

    def run(self, what: str, args: Sequence[str], *, stdin: str | None = None) -> str:
        """`docker <args>`; its output, or a PrenvError naming `what` with the output's end."""
        try:
            done = subprocess.run(  # noqa: S603 - docker found on PATH, an argument list, no shell
                [self.binary, *args],
                input=stdin,
                capture_output=True,
                text=True,
                env=dict(self.env),
                cwd=self.cwd,
                timeout=self.timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrenvError(
                f"docker {what} did not finish: {exc}",
                reason=FailureReason.IMAGE_FAILED,
                hint="check that docker runs on this machine",
            ) from None
        output = (done.stdout + done.stderr).strip()
        if done.returncode != 0:
            raise PrenvError(
                f"docker {what} failed (exit code {done.returncode})",
                reason=FailureReason.IMAGE_FAILED,
                hint="read docker's output below",
                detail="\n".join(output.splitlines()[-DETAIL_LINES:]),
            )
        return output

    def login(self, login: Login) -> None:
        self.run(
            f"login to {login.host}",
            ["login", "--username", login.username, "--password-stdin", login.host],
            stdin=login.password,
        )

    def logout(self, host: str) -> None:
        # The job's credentials expire anyway: a failed logout changes nothing.
        with contextlib.suppress(PrenvError):
            self.run(f"logout from {host}", ["logout", host])
