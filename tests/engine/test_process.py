"""The Terraform process under signals (`prenv.engine.process`), with a real child process standing in for
Terraform: it counts the interrupts it gets and takes its time to stop, as Terraform does."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from prenv.engine import process
from prenv.engine.process import Cancellation

# Writes "ready", then counts SIGINTs in a file; the first starts a 1 s "graceful stop", after which it
# exits 1. With `stubborn`, it ignores its own stop and runs until killed.
CHILD = """
import signal, sys, time
from pathlib import Path
log, stubborn = Path(sys.argv[1]), sys.argv[2] == "stubborn"
count = 0
def interrupted(number, frame):
    global count
    count += 1
    log.write_text(str(count))
signal.signal(signal.SIGINT, interrupted)
log.write_text("ready")
while not count:
    time.sleep(0.05)
end = time.monotonic() + 1.0
while stubborn or time.monotonic() < end:
    time.sleep(0.05)
print("stopped gracefully")
sys.exit(1)
"""


def _signal_when_ready(cancellation: Cancellation, log: Path, *numbers: int) -> threading.Thread:
    def send() -> None:
        while (log.read_text() if log.exists() else "") != "ready":
            time.sleep(0.02)
        for number in numbers:
            cancellation.handle(number, None)
            time.sleep(0.1)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _run(cancellation: Cancellation, tmp_path: Path, mode: str = "graceful") -> tuple[int, str, Path]:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    log = tmp_path / "interrupts"
    done = cancellation.run([sys.executable, str(script), str(log), mode], cwd=tmp_path, env=None)
    return done.returncode, done.stdout, log


def _child_log(tmp_path: Path) -> Path:
    return tmp_path / "interrupts"


@pytest.fixture(params=["pidfd", "polling"], autouse=True)
def exit_waiter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test with both ways of waiting for a child: a pidfd (Linux) and Popen's polling (elsewhere)."""
    if request.param == "polling":
        monkeypatch.delattr(process.os, "pidfd_open", raising=False)
    return str(request.param)


def test_a_child_is_waited_for_and_its_exit_code_and_output_kept(tmp_path: Path) -> None:
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    done = Cancellation().run([sys.executable, "-c", code], cwd=tmp_path, env=None)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")


def test_one_signal_reaches_the_child_once_and_is_waited_for(tmp_path: Path) -> None:
    cancellation = Cancellation()
    _signal_when_ready(cancellation, _child_log(tmp_path), signal.SIGTERM)
    code, out, log = _run(cancellation, tmp_path)
    assert (code, out) == (1, "stopped gracefully\n")  # it finished its stop
    assert log.read_text() == "1"  # one interrupt, a SIGINT, although prenv got a SIGTERM
    assert cancellation.describe() == "SIGTERM"
    assert not cancellation.escalated


def test_a_second_signal_escalates_and_a_stubborn_child_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "ESCALATION_GRACE", 0.3)
    cancellation = Cancellation()
    _signal_when_ready(cancellation, _child_log(tmp_path), signal.SIGINT, signal.SIGTERM)
    code, _, log = _run(cancellation, tmp_path, "stubborn")
    assert code == -signal.SIGKILL
    assert log.read_text() == "2"  # Terraform's own escalation first: a second interrupt
    assert cancellation.describe() == "SIGINT, then SIGTERM"
    assert cancellation.escalated


def test_nothing_starts_once_cancelled(tmp_path: Path) -> None:
    cancellation = Cancellation()
    with pytest.raises(KeyboardInterrupt):
        cancellation.handle(signal.SIGINT, None)  # no child runs: Python's usual KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        _run(cancellation, tmp_path)
    assert not _child_log(tmp_path).exists()
