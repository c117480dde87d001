"""One run at a time in a workspace's data directory (`TF_DATA_DIR`), across processes on this machine.

Two runs of one workspace on one machine (two deploys of a new PR at once, a deploy and a cleanup) would
otherwise write the same `.terraform` files at the same time: one run reads a file the other is writing,
and fails with a misleading error ("Failed to load state: unexpected end of JSON input"). The second run
waits for the first, up to the lock timeout, then fails as `state-locked`, like Terraform's own lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from datetime import timedelta
from pathlib import Path

from prenv.core.errors import FailureReason
from prenv.engine.terraform import TerraformError

_POLL = 0.2  # seconds between attempts


class DirectoryLock:
    """An exclusive `flock` on `<data dir>/prenv.lock`, held from `acquire()` to `release()`."""

    def __init__(self, directory: Path, workspace: str) -> None:
        self.path = directory / "prenv.lock"
        self.workspace = workspace
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: timedelta) -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout.total_seconds()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise TerraformError(
                        f"another prenv run on this machine is working in workspace {self.workspace} "
                        f"(its Terraform data directory {self.path.parent} stayed locked for "
                        f"{int(timeout.total_seconds())}s)",
                        reason=FailureReason.STATE_LOCKED,
                        hint="wait for that run to finish and retry (terraform.lock_timeout sets the wait)",
                    ) from None
                time.sleep(_POLL)
                continue
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock
