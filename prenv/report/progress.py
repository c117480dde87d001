"""What `prenv sandbox` tells a person at the terminal while it runs: short lines, each with the time
elapsed since the start, and progress while Terraform works.

- `StepLog`: the lines (`[  42s] text`), written by several threads, remembering when the last one went out.
- `TerraformProgress`: the engine's `Progress` hook. It follows Terraform's own lines ("...: Creation
  complete after 3s", "Still creating... [10s elapsed]") and says how far a long command is, at most one
  line per `interval` (12 s) and at least one per `interval` while the command runs (a heartbeat
  thread), so the terminal is never silent for 15 s and a 100-resource apply is not 100 lines.
- `SandboxTerminal`: the reporter: the plan's counts, its risky changes, the URL (labelled: the emulator's
  load balancer answers nothing), the output names; everything (the plan, each output) with `verbose`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from prenv.core.domain import Context, DeployOutcome, DestroyOutcome, PlanOutcome
from prenv.core.errors import PrenvError
from prenv.core.readiness import ReadyProgress

Clock = Callable[[], float]
# How many risky changes the compact summary names (the comment files have them all).
RISKY_SHOWN = 5
EMULATED_URL = "emulated by moto: nothing answers at this address"


def _elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m{whole % 60:02d}s"


@dataclass
class StepLog:
    """Lines on `out`, each a step prefixed with the time elapsed since the log began (or a detail line
    under it); safe to use from several threads."""

    out: TextIO
    clock: Clock = time.monotonic
    start: float = field(default=0.0)
    last: float = field(default=0.0)  # when the last line was written
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.start = self.last = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def _write(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()
            self.last = self.clock()

    def step(self, text: str) -> None:
        self._write(f"[{_elapsed(self.elapsed()):>6}] {text}")

    def detail(self, text: str) -> None:
        self._write(f"{'':9}{text}")

    def raw(self, text: str) -> None:
        self._write(text)


# "<address>: Creation complete after 3s [id=...]", "<address>: Still destroying... [10s elapsed]"
_EVENT = re.compile(
    r"^(?P<address>\S+): (?P<event>Creating|Destroying|Modifying|Creation complete|Destruction complete"
    r"|Modifications complete|Still (?:creating|destroying|modifying))"
)
_DONE = {"Creation complete", "Destruction complete", "Modifications complete"}
_VERB = {"init": "initializing", "plan": "planning", "apply": "applying", "destroy": "destroying"}


@dataclass
class TerraformProgress:
    """The engine's `Progress` hook for the terminal (see the module's docstring)."""

    log: StepLog
    # A line at least this often while Terraform runs (the bound is 15 s), and no more often.
    interval: float = 12.0
    show_lines: bool = False  # also print each of Terraform's lines as it comes
    heartbeat: bool = True  # a thread that speaks up when Terraform is silent (tests call `tick`)
    command: str = ""
    began: float = 0.0
    done: int = 0
    working: dict[str, float] = field(default_factory=dict)  # address -> when Terraform began on it
    _stop: threading.Event | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # One command is followed at a time: a deploy runs `show -json` beside its apply, and the apply
    # (started first) is the one to follow; the other's lines are shown (`show_lines`) but not counted.

    def started(self, command: str) -> None:
        with self._lock:
            if self.command:
                return
            self.command, self.began, self.done = command, self.log.clock(), 0
            self.working = {}
        if self.heartbeat:
            self._stop = threading.Event()
            threading.Thread(target=self._beat, args=(self._stop,), daemon=True).start()

    def line(self, command: str, text: str) -> None:
        if self.show_lines:
            self.log.raw(f"{'':9}| {text}")
        match = _EVENT.match(text)
        with self._lock:
            if match and command == self.command:
                address, event = match["address"], match["event"]
                if event in _DONE:
                    self.done += 1
                    self.working.pop(address, None)
                elif not event.startswith("Still"):
                    self.working.setdefault(address, self.log.clock())
        self.tick()

    def finished(self, command: str, returncode: int) -> None:
        with self._lock:
            if command != self.command:
                return
            self.command = ""
            stop, self._stop = self._stop, None
        if stop is not None:
            stop.set()

    def tick(self) -> None:
        """Say how far the command is, if nothing was written for `interval` seconds."""
        with self._lock:
            if not self.command or self.log.clock() - self.log.last < self.interval:
                return
            text = self._status()
        self.log.step(text)

    def _status(self) -> str:
        now = self.log.clock()
        doing = _VERB.get(self.command, "running")
        text = f"terraform {self.command}: {doing} for {_elapsed(now - self.began)}"
        if self.done or self.working:
            text += f"; {self.done} resource{'s' if self.done != 1 else ''} done"
        if self.working:
            address, since = min(self.working.items(), key=lambda item: item[1])
            more = f" and {len(self.working) - 1} more" if len(self.working) > 1 else ""
            text += f", {address} for {_elapsed(now - since)}{more}"
        return text

    def _beat(self, stop: threading.Event) -> None:
        # Wake when the interval since the last line is up (not on a fixed tick): gaps stay close to it.
        while not stop.wait(max(self.log.last + self.interval - self.log.clock(), 0.2)):
            self.tick()


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass
class SandboxTerminal:
    """The sandbox's terminal reporter: a step line per event, the compact summary of a plan and a deploy."""

    log: StepLog
    verbose: bool = False

    def started(self, ctx: Context) -> None:
        return None  # the sandbox's own step line names the command, the PR and its workspace

    def planned(self, ctx: Context, outcome: PlanOutcome) -> None:
        if self.verbose and outcome.plan_text:
            self.log.raw(outcome.plan_text.rstrip())
        summary = outcome.summary
        self.log.step(f"plan: {summary.line()}" if summary.has_changes else "plan: no changes")
        risky = summary.risky
        for change in risky if self.verbose else risky[:RISKY_SHOWN]:
            loss = " (its data is lost)" if change.stateful else ""
            self.log.detail(f"risky: {change.address} will be {change.action}d{loss}")
        if not self.verbose and len(risky) > RISKY_SHOWN:
            self.log.detail(f"risky: {len(risky) - RISKY_SHOWN} more in the comment")

    def waiting(self, ctx: Context, progress: ReadyProgress) -> None:
        self.log.detail(progress.summary)  # what readiness waits for; its detail lines only when verbose
        for line in progress.details if self.verbose else ():
            self.log.detail(f"  {line}")

    def ready(self, ctx: Context, outcome: DeployOutcome) -> None:
        if outcome.applied:
            self.log.step(f"applied: {outcome.summary.line()}")
        else:
            self.log.step("no changes: nothing was applied")
        if outcome.url:
            self.log.detail(f"URL: {outcome.url} ({EMULATED_URL})")
        if self.verbose:
            for output in outcome.outputs:
                shown = "(sensitive value)" if output.sensitive else _value(output.value)
                self.log.detail(f"output {output.name} = {shown}")
        elif outcome.outputs and outcome.applied:  # a deploy that changed nothing has the same outputs
            names = ", ".join(o.name + (" (sensitive)" if o.sensitive else "") for o in outcome.outputs)
            self.log.detail(f"outputs: {names}")

    def destroyed(self, ctx: Context, outcome: DestroyOutcome) -> None:
        if not outcome.existed:
            self.log.step(f"nothing to destroy: workspace {ctx.workspace} does not exist")
            return
        kept = "deleted" if outcome.workspace_deleted else "kept"
        self.log.step(f"destroyed {outcome.destroyed} resource(s); workspace {ctx.workspace} {kept}")

    def failed(self, ctx: Context, error: PrenvError, plan: PlanOutcome | None = None) -> None:
        return None  # the CLI prints the error line itself
