"""Running Terraform as a child process that a cancelled run stops gracefully, never abruptly.

How GitHub cancels a step (the figures this module relies on; GitHub's "Workflow cancellation reference",
and actions/runner `src/Runner.Sdk/ProcessInvoker.cs`: `_sigintTimeout` 7500 ms, `_sigtermTimeout` 2500 ms,
`NixKillProcessTree` = `Process.Kill()` of that one process): the runner sends SIGINT to the step's process
(prenv itself: the action `exec`s it), then SIGTERM if it is still running 7.5 s later, then kills it
2.5 s after that. The signal goes to that process only, not to its process group.

So:
- Terraform starts in a session (and process group) of its own: a Ctrl-C in a terminal reaches prenv
  only, and prenv passes exactly one interrupt on. Terraform's first interrupt is its graceful stop: it
  writes the state of what it has created at once, tells the providers to stop, then releases its lock.
  A second interrupt makes Terraform exit at once (the state was already written by the first).
- The first SIGINT or SIGTERM: one SIGINT to every running Terraform; prenv waits for them to end, then
  reports the cancellation (`Cancelled`, exit 130 or 143). No new Terraform command starts afterwards.
- A second signal escalates: Terraform gets its second interrupt, and is killed if it has not ended
  `ESCALATION_GRACE` seconds later (the runner kills prenv 2.5 s after its SIGTERM).
- A third signal kills every running Terraform at once.
- A signal while no Terraform runs is a KeyboardInterrupt, as Python's default handler would raise
  (commands report it as a cancellation; `prenv logs --follow` ends on it).

Terraform writes its output to anonymous temporary files rather than pipes: if prenv is killed
while Terraform is still stopping, Terraform can finish its stop (a write to a pipe without a reader
would kill it before it releases its lock).
"""

from __future__ import annotations

import os
import pwd
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

# Seconds Terraform gets after its second interrupt before its process group is killed.
ESCALATION_GRACE = 1.0
_POLL = 0.2  # seconds between checks on a running Terraform


def local_user() -> str:
    """`user@host` as Terraform writes it into the locks it takes (`Who`)."""
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass
class Cancellation:
    """The signals this run received and the Terraform processes they must reach (one per process)."""

    received: list[int] = field(default_factory=list)
    _children: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    _active: int = 0  # calls between "about to start Terraform" and "its output is read"
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def requested(self) -> bool:
        return bool(self.received)

    @property
    def escalated(self) -> bool:
        return len(self.received) > 1

    def describe(self) -> str:
        """`SIGINT`, or `SIGINT, then SIGTERM` for the signals received."""
        return ", then ".join(signal_name(number) for number in self.received)

    def first(self) -> str:
        return signal_name(self.received[0]) if self.received else ""

    def reset(self) -> None:
        with self._lock:
            self.received.clear()

    # --- the signal handler (runs in the main thread, between two bytecodes of whatever runs there) ---

    def handle(self, number: int, frame: FrameType | None) -> None:
        self.received.append(number)
        with self._lock:
            children = list(self._children.values())
            active = self._active
        count = len(self.received)
        for child in children:
            if count <= 2:
                _send(child, signal.SIGINT)
            else:
                _kill_group(child)
        if not active:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Handle SIGINT and SIGTERM while the block runs (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self.reset()
        previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
        for number in previous:
            signal.signal(number, self.handle)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    # --- running a child ---------------------------------------------------------------------------

    @contextmanager
    def _running(self) -> Iterator[None]:
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1

    def _register(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children[child.pid] = child
        if self.requested:  # the signal came between the start and now: it is passed on here
            _send(child, signal.SIGINT)

    def _forget(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.pop(child.pid, None)

    def _wait(self, child: subprocess.Popen[bytes]) -> int:
        escalated_at: float | None = None
        with _exit_waiter(child) as exited:
            while not exited(_POLL):
                if self.escalated and escalated_at is None:
                    escalated_at = time.monotonic()
                if escalated_at is not None and time.monotonic() - escalated_at > ESCALATION_GRACE:
                    _kill_group(child)
        return child.wait()

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        capture_output: bool = True,
        text: bool = True,
        check: bool = False,
        after_cancel: bool = False,
        **_: Any,
    ) -> subprocess.CompletedProcess[str]:
        """`subprocess.run(argv, capture_output=True, text=True)` for Terraform, stopped gracefully on a
        signal. Raises KeyboardInterrupt instead of starting anything once the run is cancelled, unless
        `after_cancel` (what the cancellation itself needs: releasing a lock a killed Terraform left)."""
        with self._running():
            if self.requested and not after_cancel:
                raise KeyboardInterrupt
            with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
                child = subprocess.Popen(  # noqa: S603 - an argument list, never a shell
                    list(argv),
                    cwd=cwd,
                    env=dict(env) if env is not None else None,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
                try:
                    self._register(child)
                    code = self._wait(child)
                finally:
                    self._forget(child)
                return subprocess.CompletedProcess(list(argv), code, _read(out), _read(err))


@contextmanager
def _exit_waiter(child: subprocess.Popen[bytes]) -> Iterator[Callable[[float], bool]]:
    """A function that waits up to its argument's seconds for `child` to exit and says whether it has.

    On Linux it waits on a pidfd, which is readable the moment the child exits; `Popen.wait(timeout)`
    polls in sleeps of up to 50 ms, which every Terraform call of a deploy would add to its time.
    """
    try:
        pidfd = os.pidfd_open(child.pid)
    except (AttributeError, OSError):  # not Linux (or too old a kernel): Popen's own polling

        def polled(timeout: float) -> bool:
            try:
                child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True

        yield polled
        return
    try:
        yield lambda timeout: bool(select.select([pidfd], [], [], timeout)[0])
    finally:
        os.close(pidfd)


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", errors="replace")


def _send(child: subprocess.Popen[bytes], number: int) -> None:
    if child.poll() is None:
        with suppress(ProcessLookupError):
            os.kill(child.pid, number)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """Kill Terraform and its providers (its process group: the session it leads)."""
    if child.poll() is None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)


# The process has one set of signals, so one Cancellation: the CLI installs its handler for a run.
CANCELLATION = Cancellation()
